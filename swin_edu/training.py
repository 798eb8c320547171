"""Training an image classifier: ``fit``, ``evaluate`` and ``predict``, readable in one sitting.

The recipe is the one Swin was trained with, scaled down:

- AdamW; weight decay on weight matrices only (not on norms, biases and the relative position
  bias tables, whose values are meaningful as they are);
- learning rate: linear warm-up, then a cosine decay to 0, updated every step;
- cross-entropy with label smoothing, on class indices or on the soft targets of mixup / cutmix;
- bf16 autocast on CUDA (fp32 on the CPU, where autocast brings no speed), optional ``torch.compile``;
- after every epoch: test loss and accuracy, a line of log, a callback (e.g. to write the history to
  disk), and every ``checkpoint_every`` epochs a checkpoint written atomically, from which
  ``resume=True`` continues bit for bit where the run stopped;
- optionally a time budget: the number of epochs is fitted to it once the speed is known.
"""
from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

__all__ = ["param_groups", "warmup_cosine", "resolve_bf16", "autocast", "synchronize", "predict", "evaluate",
           "confusion_matrix", "fit", "epochs_for_budget", "save_checkpoint", "load_checkpoint", "write_json"]

HISTORY_KEYS = ("train_loss", "train_acc", "test_loss", "test_acc", "lr", "train_time", "eval_time", "epoch_time")


def param_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Two AdamW groups: weight matrices (decayed) and everything else (not decayed).

    Not decayed: 1-D parameters (LayerNorm weights and biases, linear biases) and the relative
    position bias tables (2-D, but a bias, not a projection).
    """
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        if p.ndim <= 1 or name.endswith("relative_position_bias_table"):
            no_decay.append(p)
        else:
            decay.append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def warmup_cosine(step: int, warmup_steps: int, total_steps: int) -> float:
    """Learning-rate multiplier at ``step``: rises linearly to 1 over ``warmup_steps``, then
    follows half a cosine down to 0 at ``total_steps``."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))


def resolve_bf16(device: torch.device | str, bf16: bool = True) -> bool:
    """Whether to run under bf16 autocast: only when asked, on CUDA, on a GPU with native bf16
    (Ampere or newer; older GPUs only emulate it, slowly). On the CPU autocast is off by design:
    fp32 keeps CPU runs exact and reproducible."""
    device = torch.device(device)
    return bool(bf16) and device.type == "cuda" and torch.cuda.is_bf16_supported(including_emulation=False)


def autocast(device: torch.device | str, bf16: bool = True):
    """The autocast context of training, evaluation and the bench: bf16 where :func:`resolve_bf16`
    says so, else a no-op (fp32)."""
    device = torch.device(device)
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=resolve_bf16(device, bf16))


def _device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


@torch.no_grad()
def predict(model: nn.Module, loader: Iterable, bf16: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Run ``model`` in eval mode over ``loader``: (logits float32 [N, K], labels [N]), on the CPU."""
    device, was_training = _device(model), model.training
    model.eval()
    logits, labels = [], []
    for x, y in loader:
        with autocast(device, bf16):
            logits.append(model(x.to(device, non_blocking=True)).float())
        labels.append(y)
    model.train(was_training)
    return torch.cat(logits).cpu(), torch.cat(labels).cpu()


def evaluate(model: nn.Module, loader: Iterable, bf16: bool = True) -> tuple[float, float]:
    """(mean cross-entropy, top-1 accuracy) of ``model`` over ``loader`` (no label smoothing)."""
    logits, labels = predict(model, loader, bf16)
    return F.cross_entropy(logits, labels).item(), (logits.argmax(1) == labels).float().mean().item()


def confusion_matrix(predictions: torch.Tensor, labels: torch.Tensor, num_classes: int = 10) -> torch.Tensor:
    """Counts [K, K]: entry [i, j] is how many images of true class i were predicted as class j."""
    return torch.bincount(labels * num_classes + predictions, minlength=num_classes**2).view(num_classes, num_classes)


def save_checkpoint(path: str | os.PathLike, state: dict) -> None:
    """``torch.save`` to a temporary file beside ``path``, then ``os.replace``: a crash while
    writing leaves the previous checkpoint intact, never a half-written one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "wb") as f:
            torch.save(state, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def load_checkpoint(path: str | os.PathLike) -> dict:
    """Read a checkpoint written by :func:`fit` (tensors, numbers and lists only: ``weights_only=True``)."""
    return torch.load(path, map_location="cpu", weights_only=True)


def _rng_state(loader) -> dict:
    state = {"cpu": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    if isinstance(getattr(loader, "generator", None), torch.Generator):
        state["loader"] = loader.generator.get_state()
    return state


def _set_rng_state(state: dict, loader) -> None:
    torch.set_rng_state(state["cpu"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    if "loader" in state:
        loader.generator.set_state(state["loader"])


def _train_epoch(model, loader, optimizer, scheduler, device, bf16, label_smoothing, bar,
                 eager: nn.Module | None = None) -> tuple[float, float, float, nn.Module, str | None]:
    """One pass over ``loader``: (mean training loss, training accuracy on the augmented batches,
    seconds of the first step, the model that trained, why compilation failed or None).

    Targets are class indices [B] or soft targets [B, K] (mixup / cutmix: a prediction counts as
    correct when it is the target's largest class). With ``eager`` given (``model`` is its compiled
    form), an error in the first step, where compilation happens, switches to ``eager`` for good."""
    model.train()
    total_loss = torch.zeros((), device=device)  # summed on the device: no sync per step
    correct = torch.zeros((), device=device)
    seen, first_step, compile_error = 0, 0.0, None
    t0 = time.perf_counter()
    for step, (x, y) in enumerate(loader):
        x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        optimizer.zero_grad(set_to_none=True)
        try:
            logits, loss = _forward_backward(model, x, y, device, bf16, label_smoothing)
        except Exception as error:  # noqa: BLE001 - any compiler error: the run goes on eagerly
            if eager is None or step > 0:
                raise
            compile_error = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
            tqdm.write(f"torch.compile failed in the first step ({compile_error}); training eagerly instead")
            model = eager
            optimizer.zero_grad(set_to_none=True)
            logits, loss = _forward_backward(model, x, y, device, bf16, label_smoothing)
        optimizer.step()
        scheduler.step()
        total_loss += loss.detach() * len(y)
        correct += (logits.argmax(1) == (y.argmax(1) if y.dim() == 2 else y)).sum()
        seen += len(y)
        if step == 0:  # compilation and warm-up happen here: timed apart (one sync per epoch)
            synchronize(device)
            first_step = time.perf_counter() - t0
        bar.update()
        if not bar.disable and step % 20 == 0:  # .item() waits for the GPU: only for a bar that shows it
            bar.set_postfix(loss=f"{total_loss.item() / seen:.3f}", acc=f"{correct.item() / seen:.3f}")
    return total_loss.item() / seen, correct.item() / seen, first_step, model, compile_error


def _forward_backward(model, x, y, device, bf16, label_smoothing) -> tuple[torch.Tensor, torch.Tensor]:
    with autocast(device, bf16):
        logits = model(x)
        loss = F.cross_entropy(logits, y, label_smoothing=label_smoothing)
    loss.backward()
    return logits, loss


def _next_epoch_seconds(epoch_time: float, train_time: float, first_step: float, steps: int) -> float:
    """What the next epoch should take, judged from the last one: its first step (compilation,
    warm-up) counted as an ordinary step."""
    if steps < 2:
        return epoch_time
    typical = (train_time - first_step) / (steps - 1)
    return epoch_time - max(0.0, first_step - typical)


def synchronize(device: torch.device | str) -> None:
    """Wait for the GPU, so that a clock read afterwards measures the work queued before (no-op on the CPU)."""
    device = torch.device(device)
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def write_json(path: str | os.PathLike, obj) -> None:
    """Write ``obj`` as JSON to a temporary file beside ``path``, then ``os.replace``: a reader, or a
    timeout, never sees half a file."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, indent=1) + "\n")
    os.replace(tmp, path)


def epochs_for_budget(history: dict[str, list[float]], elapsed: float, time_budget: float, epochs: int,
                      margin: float = 0.97) -> int:
    """How many epochs fit in ``time_budget`` seconds, at most ``epochs``, judged from a run so far.

    The next epochs are assumed to take as long as the last one (the first one includes compilation
    and warm-up, so call this after the second); ``margin`` keeps a little time in reserve.

    Args:
        history: :func:`fit`'s history of the epochs done so far ("epoch_time", seconds).
        elapsed: seconds since the run started (compilation included).
        time_budget: seconds the whole run may take.
        epochs: the most epochs wanted.
    """
    done = len(history["epoch_time"])
    per_epoch = history["epoch_time"][-1]
    more = math.floor(max(0.0, time_budget * margin - elapsed) / per_epoch)
    return max(done, min(epochs, done + more))


def fit(model: nn.Module, train_loader: Iterable, epochs: int, test_loader: Iterable | None = None, *,
        lr: float = 1e-3, weight_decay: float = 0.05, warmup_epochs: float = 1, label_smoothing: float = 0.1,
        bf16: bool = True, compile: bool = False, checkpoint: str | os.PathLike | None = None,
        checkpoint_every: int = 1, resume: bool = False, time_budget: float | None = None,
        on_epoch_end: Callable[[dict[str, list[float]], int], None] | None = None,
        progress: bool = True) -> dict[str, list[float]]:
    """Train ``model`` (already on its device) for ``epochs`` epochs.

    Args:
        model: the classifier; batches are moved to the device of its parameters.
        train_loader: yields (images [B, 3, H, W], targets): class indices [B] or soft targets [B, K];
            e.g. :class:`swin_edu.data.DeviceLoader`, whose ``generator`` state is checkpointed too.
        epochs: total number of epochs (also when resuming); with ``time_budget``, the most epochs.
        test_loader: evaluated after every epoch (None: no test columns are filled).
        lr: peak learning rate, reached after ``warmup_epochs`` (fractions allowed).
        weight_decay: AdamW decay of the weight matrices (see :func:`param_groups`).
        label_smoothing: of the training loss.
        bf16: bf16 autocast where it pays (CUDA with bf16 support, see :func:`resolve_bf16`).
        compile: train through ``torch.compile(model)`` (evaluation stays eager). If the first
            compiled step raises, training goes on eagerly and history["compile_error"] says why.
        checkpoint: file written every ``checkpoint_every`` epochs and after the last one (model,
            optimizer, schedule, epoch, planned epochs, RNG states, history).
        checkpoint_every: epochs between checkpoints.
        resume: continue from ``checkpoint`` if it exists (same arguments as the interrupted run).
        time_budget: seconds this call may take. After the second epoch the number of epochs is set
            to what fits (:func:`epochs_for_budget`, at most ``epochs``) and the cosine ends there; keep
            ``warmup_epochs`` >= 2 so that the cosine's length is set before it starts. Before each later
            epoch (also of a resumed run, which keeps its plan), training stops if that epoch would end
            past the budget (a guard: the learning rate is then not yet 0); the prediction counts the
            last epoch's first step, where compilation happens, as an ordinary step.
        on_epoch_end: called as ``on_epoch_end(history, epochs)`` after every epoch (``epochs``: the
            planned total), e.g. to write the history to disk as the run goes.
        progress: a tqdm progress bar per epoch (also switched off by ``TQDM_DISABLE=1``).

    Returns:
        history: lists with one float per epoch done: "train_loss", "train_acc", "test_loss", "test_acc",
        "lr" (at the epoch's last step), "train_time" and "eval_time" (seconds) and "epoch_time" (seconds,
        training + evaluation).
    """
    if epochs < 1 or checkpoint_every < 1:
        raise ValueError(f"epochs and checkpoint_every must be >= 1, got {epochs} and {checkpoint_every}")
    if time_budget is not None and time_budget <= 0:
        raise ValueError(f"time_budget must be a positive number of seconds, got {time_budget}")
    t_start = time.perf_counter()
    device = _device(model)
    steps_per_epoch = len(train_loader)
    optimizer = torch.optim.AdamW(param_groups(model, weight_decay), lr=lr, fused=device.type == "cuda")
    warmup_steps = max(1, round(warmup_epochs * steps_per_epoch))
    plan = {"epochs": epochs}  # the schedule reads the planned total, which a time budget may lower
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: warmup_cosine(step, warmup_steps, plan["epochs"] * steps_per_epoch))
    history = {key: [] for key in HISTORY_KEYS}
    start = 0
    if resume and checkpoint is not None and Path(checkpoint).exists():
        state = load_checkpoint(checkpoint)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        _set_rng_state(state["rng"], train_loader)
        start, history, plan["epochs"] = state["epoch"], state["history"], state["epochs"]
    train_model = torch.compile(model) if compile else model
    next_epoch = math.inf  # predicted seconds of the next epoch (none done yet)

    def save(epoch: int) -> None:
        if checkpoint is not None:
            save_checkpoint(checkpoint, {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                                         "scheduler": scheduler.state_dict(), "epoch": epoch,
                                         "epochs": plan["epochs"], "rng": _rng_state(train_loader),
                                         "history": history})

    epoch = start
    while epoch < plan["epochs"]:
        elapsed = time.perf_counter() - t_start
        if time_budget is not None and epoch > start and elapsed + next_epoch > time_budget:
            tqdm.write(f"time budget: {elapsed:.0f} s of {time_budget:.0f} s used, another epoch would not fit; "
                       f"stopping after {epoch} of {plan['epochs']} epochs")
            if epoch % checkpoint_every:
                save(epoch)
            break
        t0 = time.perf_counter()
        bar_options = {} if progress else {"disable": True}  # {}: tqdm's default, which TQDM_DISABLE can switch off
        with tqdm(total=steps_per_epoch, desc=f"epoch {epoch + 1}/{plan['epochs']}", leave=False, **bar_options) as bar:
            train_loss, train_acc, first_step, train_model, compile_error = _train_epoch(
                train_model, train_loader, optimizer, scheduler, device, bf16, label_smoothing, bar,
                eager=model if train_model is not model else None)
        synchronize(device)
        t1 = time.perf_counter()
        test_loss, test_acc = evaluate(model, test_loader, bf16) if test_loader is not None else (math.nan,) * 2
        t2 = time.perf_counter()
        epoch += 1
        values = (train_loss, train_acc, test_loss, test_acc, optimizer.param_groups[0]["lr"], t1 - t0, t2 - t1, t2 - t0)
        for key, value in zip(HISTORY_KEYS, values):
            history[key].append(value)
        if compile_error is not None:
            history["compile_error"] = [compile_error]  # recorded in run.json by swin_edu.train
        next_epoch = _next_epoch_seconds(t2 - t0, t1 - t0, first_step, steps_per_epoch)
        if time_budget is not None and start == 0 and epoch == 2:
            plan["epochs"] = epochs_for_budget(history, t2 - t_start, time_budget, plan["epochs"])
        if epoch % checkpoint_every == 0 or epoch == plan["epochs"]:
            save(epoch)
        test = f" | test loss {test_loss:.3f} acc {test_acc:.3f}" if test_loader is not None else ""
        tqdm.write(f"epoch {epoch:3d}/{plan['epochs']}: train loss {train_loss:.3f} acc {train_acc:.3f}{test} | "
                   f"{history['epoch_time'][-1]:.1f} s")
        if on_epoch_end is not None:
            on_epoch_end(history, plan["epochs"])
    return history
