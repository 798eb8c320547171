"""Training an image classifier: ``fit``, ``evaluate`` and ``predict``, readable in one sitting.

The recipe is the one Swin was trained with, scaled down:

- AdamW; weight decay on weight matrices only (not on norms, biases and the relative position
  bias tables, whose values are meaningful as they are);
- learning rate: linear warm-up, then a cosine decay to 0, updated every step;
- cross-entropy with label smoothing;
- bf16 autocast on CUDA (fp32 on the CPU, where autocast brings no speed), optional ``torch.compile``;
- after every epoch: test loss and accuracy, a line of log, and a checkpoint written atomically,
  from which ``resume=True`` continues bit for bit where the run stopped.
"""
from __future__ import annotations

import math
import os
import time
from collections.abc import Iterable
from functools import partial
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

__all__ = ["param_groups", "warmup_cosine", "resolve_bf16", "predict", "evaluate", "confusion_matrix", "fit",
           "save_checkpoint", "load_checkpoint"]

HISTORY_KEYS = ("train_loss", "train_acc", "test_loss", "test_acc", "epoch_time")


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


def _autocast(device: torch.device, bf16: bool):
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
        with _autocast(device, bf16):
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


def _train_epoch(model, loader, optimizer, scheduler, device, bf16, label_smoothing, bar) -> tuple[float, float]:
    """One pass over ``loader``; returns (mean training loss, training accuracy on the augmented batches)."""
    model.train()
    total_loss = torch.zeros((), device=device)  # summed on the device: no sync per step
    correct = torch.zeros((), device=device)
    seen = 0
    for step, (x, y) in enumerate(loader):
        x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        with _autocast(device, bf16):
            logits = model(x)
            loss = F.cross_entropy(logits, y, label_smoothing=label_smoothing)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
        total_loss += loss.detach() * len(y)
        correct += (logits.argmax(1) == y).sum()
        seen += len(y)
        bar.update()
        if step % 20 == 0:
            bar.set_postfix(loss=f"{total_loss.item() / seen:.3f}", acc=f"{correct.item() / seen:.3f}")
    return total_loss.item() / seen, correct.item() / seen


def fit(model: nn.Module, train_loader: Iterable, epochs: int, test_loader: Iterable | None = None, *,
        lr: float = 1e-3, weight_decay: float = 0.05, warmup_epochs: float = 1, label_smoothing: float = 0.1,
        bf16: bool = True, compile: bool = False, checkpoint: str | os.PathLike | None = None,
        resume: bool = False, progress: bool = True) -> dict[str, list[float]]:
    """Train ``model`` (already on its device) for ``epochs`` epochs.

    Args:
        model: the classifier; batches are moved to the device of its parameters.
        train_loader: yields (images [B, 3, H, W], labels [B]); e.g. :class:`swin_edu.data.DeviceLoader`,
            whose ``generator`` state is checkpointed too.
        epochs: total number of epochs (also when resuming).
        test_loader: evaluated after every epoch (None: no test columns are filled).
        lr: peak learning rate, reached after ``warmup_epochs`` (fractions allowed).
        weight_decay: AdamW decay of the weight matrices (see :func:`param_groups`).
        label_smoothing: of the training loss.
        bf16: bf16 autocast where it pays (CUDA with bf16 support, see :func:`resolve_bf16`).
        compile: train through ``torch.compile(model)`` (evaluation stays eager).
        checkpoint: file written after every epoch (model, optimizer, schedule, epoch, RNG states, history).
        resume: continue from ``checkpoint`` if it exists (same arguments as the interrupted run).
        progress: a tqdm progress bar per epoch (also switched off by ``TQDM_DISABLE=1``).

    Returns:
        history: lists with one float per epoch under "train_loss", "train_acc", "test_loss",
        "test_acc" and "epoch_time" (seconds, training + evaluation).
    """
    device = _device(model)
    steps_per_epoch = len(train_loader)
    optimizer = torch.optim.AdamW(param_groups(model, weight_decay), lr=lr, fused=device.type == "cuda")
    schedule = partial(warmup_cosine, warmup_steps=max(1, round(warmup_epochs * steps_per_epoch)),
                       total_steps=epochs * steps_per_epoch)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    history = {key: [] for key in HISTORY_KEYS}
    start = 0
    if resume and checkpoint is not None and Path(checkpoint).exists():
        state = load_checkpoint(checkpoint)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        _set_rng_state(state["rng"], train_loader)
        start, history = state["epoch"], state["history"]
    train_model = torch.compile(model) if compile else model

    for epoch in range(start, epochs):
        t0 = time.perf_counter()
        bar_options = {} if progress else {"disable": True}  # {}: tqdm's default, which TQDM_DISABLE can switch off
        with tqdm(total=steps_per_epoch, desc=f"epoch {epoch + 1}/{epochs}", leave=False, **bar_options) as bar:
            train_loss, train_acc = _train_epoch(train_model, train_loader, optimizer, scheduler, device, bf16,
                                                 label_smoothing, bar)
        test_loss, test_acc = evaluate(model, test_loader, bf16) if test_loader is not None else (math.nan,) * 2
        for key, value in zip(HISTORY_KEYS, (train_loss, train_acc, test_loss, test_acc, time.perf_counter() - t0)):
            history[key].append(value)
        if checkpoint is not None:
            save_checkpoint(checkpoint, {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                                         "scheduler": scheduler.state_dict(), "epoch": epoch + 1,
                                         "rng": _rng_state(train_loader), "history": history})
        test = f" | test loss {test_loss:.3f} acc {test_acc:.3f}" if test_loader is not None else ""
        tqdm.write(f"epoch {epoch + 1:3d}/{epochs}: train loss {train_loss:.3f} acc {train_acc:.3f}{test} | "
                   f"{history['epoch_time'][-1]:.1f} s")
    return history
