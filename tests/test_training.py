"""swin_edu.training: optimiser groups, schedule, bf16 resolution, fit / evaluate, checkpoints and resume."""
import math
import os
import subprocess
import sys

import pytest
import torch

from swin_edu import WindowAttention, swin_cifar
from swin_edu import training
from swin_edu.data import DeviceLoader
from swin_edu.augment import BatchAugment
from swin_edu.training import (epochs_for_budget, evaluate, fit, load_checkpoint, param_groups, predict, resolve_bf16,
                               save_checkpoint, warmup_cosine)


def tiny_model(seed: int = 0) -> torch.nn.Module:
    """16x16 images, patch 2 -> 8x8 map (W-MSA + SW-MSA), then 4x4 (one window)."""
    torch.manual_seed(seed)
    return swin_cifar(img_size=16, patch_size=2, embed_dim=16, depths=(2, 2), num_heads=(1, 2), window_size=4)


def tiny_data(n: int = 192) -> tuple[torch.Tensor, torch.Tensor]:
    """Noisy images of one random colour per class, so a few steps already learn something."""
    g = torch.Generator().manual_seed(0)
    y = torch.arange(n) % 10
    colours = torch.randint(0, 200, (10, 3, 1, 1), generator=g)
    x = colours[y] + torch.randint(0, 56, (n, 3, 16, 16), generator=g)
    return x.to(torch.uint8), y


def loaders(seed: int = 0):
    x, y = tiny_data()
    return DeviceLoader(x, y, 32, train=True, seed=seed), DeviceLoader(x[:64], y[:64], 32, train=False)


def test_param_groups_split():
    model = tiny_model()
    decay, no_decay = param_groups(model, 0.05)
    assert decay["weight_decay"] == 0.05 and no_decay["weight_decay"] == 0.0
    names = {id(p): n for n, p in model.named_parameters()}
    no_decay_names = {names[id(p)] for p in no_decay["params"]}
    decay_names = {names[id(p)] for p in decay["params"]}
    assert len(decay_names) + len(no_decay_names) == len(names)  # every parameter exactly once
    assert "layers.0.blocks.0.attn.relative_position_bias_table" in no_decay_names
    assert {"layers.0.blocks.0.norm1.weight", "layers.0.blocks.0.attn.qkv.bias", "head.bias"} <= no_decay_names
    assert {"layers.0.blocks.0.attn.qkv.weight", "patch_embed.proj.weight", "head.weight"} <= decay_names
    assert all(p.ndim >= 2 for p in decay["params"])


def test_warmup_cosine():
    lrs = [warmup_cosine(s, 10, 100) for s in range(100)]
    assert lrs[0] == pytest.approx(0.1) and lrs[9] == pytest.approx(1.0)
    assert all(a < b for a, b in zip(lrs[:9], lrs[1:10]))  # rising
    assert all(a >= b for a, b in zip(lrs[10:], lrs[11:]))  # then falling
    assert lrs[55] == pytest.approx(0.5) and warmup_cosine(100, 10, 100) == pytest.approx(0.0, abs=1e-12)


def test_resolve_bf16(monkeypatch):
    assert resolve_bf16("cpu") is False and resolve_bf16(torch.device("cpu"), True) is False
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    assert resolve_bf16("cuda") is True and resolve_bf16("cuda:0", bf16=False) is False
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)  # e.g. a V100
    assert resolve_bf16("cuda") is False


@pytest.mark.slow
def test_fit_learns_and_evaluate_agrees(capsys):
    model = tiny_model()
    train, test = loaders()
    history = fit(model, train, 3, test, lr=3e-3, warmup_epochs=0.5, progress=False)
    assert set(history) == set(training.HISTORY_KEYS) and all(len(v) == 3 for v in history.values())
    assert history["train_loss"][-1] < history["train_loss"][0]
    assert history["test_acc"][-1] > 0.3  # chance is 0.1
    assert capsys.readouterr().out.count("epoch") == 3  # one log line per epoch
    loss, acc = evaluate(model, test)
    assert (loss, acc) == pytest.approx((history["test_loss"][-1], history["test_acc"][-1]))
    logits, labels = predict(model, test)
    assert logits.shape == (64, 10) and logits.dtype == torch.float32 and torch.equal(labels, torch.arange(64) % 10)
    assert model.training  # predict restores the mode


def test_checkpoint_is_atomic(tmp_path):
    path = tmp_path / "ckpt.pt"
    save_checkpoint(path, {"x": torch.ones(2)})
    with pytest.raises(Exception):
        save_checkpoint(path, {"x": torch.zeros(2), "bad": lambda: None})  # cannot be pickled
    assert torch.equal(load_checkpoint(path)["x"], torch.ones(2))  # the old one survives
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.pt"]  # no temporary file left


class Interrupt(Exception):
    pass


class InterruptAt:
    """Wraps a loader and raises in the given epoch (0-based) at its second batch, like a Ctrl-C."""

    def __init__(self, loader, epoch: int):
        self.loader, self.epoch, self.seen = loader, epoch, 0
        self.generator = loader.generator

    def __len__(self):
        return len(self.loader)

    def __iter__(self):
        for i, batch in enumerate(self.loader):
            if self.seen == self.epoch and i == 1:
                raise Interrupt
            yield batch
        self.seen += 1


@pytest.mark.slow
def test_resume_gives_identical_weights(tmp_path):
    options = dict(lr=3e-3, warmup_epochs=1, progress=False)
    train, test = loaders()
    reference = tiny_model()
    expected = fit(reference, train, 3, test, **options)

    path = tmp_path / "run.pt"
    train, test = loaders()
    with pytest.raises(Interrupt):
        fit(tiny_model(), InterruptAt(train, epoch=1), 3, test, checkpoint=path, **options)
    state = load_checkpoint(path)  # weights_only=True: tensors, numbers and lists only
    assert state["epoch"] == 1 and len(state["history"]["train_loss"]) == 1
    assert set(state) == {"model", "optimizer", "scheduler", "epoch", "epochs", "rng", "history"}

    # a new process: another initialisation, another loader seed, another global RNG state
    torch.manual_seed(123)
    train, test = loaders(seed=99)
    resumed = tiny_model(seed=7)
    history = fit(resumed, train, 3, test, checkpoint=path, resume=True, **options)
    for (name, a), b in zip(reference.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(a, b), name
    for key in ("train_loss", "train_acc", "test_loss", "test_acc"):
        assert history[key] == expected[key], key
    assert load_checkpoint(path)["epoch"] == 3
    # resuming a finished run trains no further
    assert fit(resumed, train, 3, test, checkpoint=path, resume=True, **options)["train_loss"] == history["train_loss"]


@pytest.mark.slow
def test_fit_with_compile(monkeypatch):
    """The compile flag on the CPU, through dynamo + AOTAutograd; the 'aot_eager' backend skips the C++ code
    generation of the default inductor backend (about a minute on 2 cores), which the GPU path uses."""
    calls, real_compile = [], torch.compile

    def compile_aot_eager(model, **kwargs):
        calls.append(model)
        return real_compile(model, backend="aot_eager")

    monkeypatch.setattr(torch, "compile", compile_aot_eager)
    x, y = tiny_data(64)
    eager, compiled = tiny_model(), tiny_model()
    torch.manual_seed(1)  # the same stochastic-depth draws in both runs
    h_eager = fit(eager, DeviceLoader(x, y, 32, train=True), 1, progress=False)
    torch.manual_seed(1)
    h_compiled = fit(compiled, DeviceLoader(x, y, 32, train=True), 1, compile=True, progress=False)
    assert calls == [compiled]
    assert h_compiled["train_loss"] == pytest.approx(h_eager["train_loss"], rel=1e-4)
    assert math.isnan(h_compiled["test_acc"][0])  # no test loader given
    # the checkpointable state is the plain model's: no "_orig_mod." prefixes
    assert set(compiled.state_dict()) == set(eager.state_dict())


def test_progress_bar(capsys):
    fit(tiny_model(), DeviceLoader(*tiny_data(64), 32, train=True), 1, progress=False)
    out = capsys.readouterr()
    assert out.err == "" and "epoch   1/1" in out.out  # no bar, still the log line


def _fit_in_fresh_interpreter(env: dict) -> subprocess.CompletedProcess:
    """tqdm reads TQDM_DISABLE when it is imported, hence a fresh interpreter."""
    code = ("import torch; from swin_edu import swin_cifar; from swin_edu.training import fit; "
            "from swin_edu.data import DeviceLoader; "
            "m = swin_cifar(img_size=16, patch_size=4, embed_dim=8, depths=(2,), num_heads=(1,)); "
            "x = torch.zeros(8, 3, 16, 16, dtype=torch.uint8); "
            "fit(m, DeviceLoader(x, torch.zeros(8, dtype=torch.long), 4, train=True), 1)")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return subprocess.run([sys.executable, "-c", code], env=env, cwd=root, capture_output=True, text=True, check=True)


@pytest.mark.slow
def test_tqdm_bar_shown_by_default():
    env = {k: v for k, v in os.environ.items() if k != "TQDM_DISABLE"}
    assert "epoch 1/1" in _fit_in_fresh_interpreter(env).stderr  # the bar (tqdm writes to stderr)


@pytest.mark.slow
def test_tqdm_disable_respected():
    out = _fit_in_fresh_interpreter({**os.environ, "TQDM_DISABLE": "1"})
    assert out.stdout.startswith("epoch   1/1") and out.stderr == ""


def test_confusion_matrix():
    labels = torch.tensor([0, 0, 1, 2, 2, 2])
    predictions = torch.tensor([0, 1, 1, 2, 0, 2])
    cm = training.confusion_matrix(predictions, labels, 3)
    assert cm.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]
    assert cm.trace() == (predictions == labels).sum()


@pytest.mark.slow
def test_gpu_recipe_model_trains_on_cpu():
    """The notebook's GPU configuration (swin_cifar(): patch 2, window 4, 16x16 -> 8x8 -> 4x4, drop path 0.1),
    two steps on the CPU: the path as far as a CPU can take it."""
    model = swin_cifar()
    g = torch.Generator().manual_seed(0)
    x, y = torch.randint(0, 256, (8, 3, 32, 32), dtype=torch.uint8, generator=g), torch.arange(8)
    before = model.head.weight.clone()
    history = fit(model, DeviceLoader(x, y, 4, train=True), 1, DeviceLoader(x, y, 8, train=False),
                  lr=1e-3, warmup_epochs=1, bf16=True, progress=False)
    assert all(math.isfinite(v[0]) for v in history.values())
    assert not torch.equal(before, model.head.weight)


@pytest.mark.slow
def test_fit_on_soft_targets_of_mixup_and_cutmix():
    x, y = tiny_data()
    train = DeviceLoader(x, y, 32, train=True, augment=BatchAugment(mixup_alpha=0.8, cutmix_alpha=1.0), seed=0)
    assert next(iter(train))[1].shape == (32, 10)
    torch.manual_seed(0)
    history = fit(tiny_model(), train, 3, DeviceLoader(x[:64], y[:64], 32, train=False), lr=3e-3,
                  warmup_epochs=0.5, progress=False)
    assert history["train_loss"][-1] < history["train_loss"][0]
    assert history["test_acc"][-1] > 0.3 and 0 <= history["train_acc"][-1] <= 1


@pytest.mark.slow
def test_bf16_autocast_path_runs_on_cpu(monkeypatch):
    """The CUDA branch of fit exercised on the CPU: bf16 autocast around forward and loss, and the fused
    attention (scaled_dot_product_attention, the default on CUDA) with its bias cast to bf16."""
    monkeypatch.setattr(training, "resolve_bf16", lambda device, bf16=True: bool(bf16))
    seen = []
    model = tiny_model()
    for module in model.modules():
        if isinstance(module, WindowAttention):
            module.fused = True
    model.head.register_forward_hook(lambda module, args, out: seen.append(out.dtype))
    x, y = tiny_data(64)
    history = fit(model, DeviceLoader(x, y, 32, train=True), 1, DeviceLoader(x, y, 32, train=False),
                  progress=False)
    assert set(seen) == {torch.bfloat16} and math.isfinite(history["train_loss"][0])
    assert all(p.dtype == torch.float32 for p in model.parameters())  # weights stay fp32
    logits, _ = predict(model, DeviceLoader(x, y, 32, train=False))
    assert logits.dtype == torch.float32  # predict returns float32 whatever autocast computed in


@pytest.mark.slow
def test_history_has_lr_and_times_and_callback(tmp_path):
    x, y = tiny_data(64)
    calls = []
    history = fit(tiny_model(), DeviceLoader(x, y, 32, train=True), 4, DeviceLoader(x, y, 32, train=False),
                  lr=1e-3, warmup_epochs=1, checkpoint=tmp_path / "c.pt", checkpoint_every=3, progress=False,
                  on_epoch_end=lambda h, epochs: calls.append((len(h["train_loss"]), epochs)))
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert history["lr"][0] == pytest.approx(1e-3)  # end of the warm-up epoch
    assert history["lr"][1] > history["lr"][2] > history["lr"][3] == pytest.approx(0, abs=1e-12)
    for t, e, total in zip(history["train_time"], history["eval_time"], history["epoch_time"]):
        assert 0 < t and 0 < e and total == pytest.approx(t + e, rel=0.05, abs=0.05)
    assert load_checkpoint(tmp_path / "c.pt")["epoch"] == 4  # after epoch 3, and after the last one


def test_epochs_for_budget():
    history = {"epoch_time": [10.0, 2.0]}  # compilation in the first epoch
    assert epochs_for_budget(history, elapsed=12, time_budget=30, epochs=100) == 2 + 8  # (29.1 - 12) / 2
    assert epochs_for_budget(history, elapsed=12, time_budget=30, epochs=5) == 5  # at most what was asked
    assert epochs_for_budget(history, elapsed=40, time_budget=30, epochs=100) == 2  # never fewer than done


@pytest.mark.slow
def test_time_budget_fits_epochs_and_stops():
    x, y = tiny_data(64)
    make = lambda: DeviceLoader(x, y, 32, train=True)  # noqa: E731
    unlimited = fit(tiny_model(), make(), 3, time_budget=1e6, progress=False)
    assert len(unlimited["train_loss"]) == 3  # a generous budget changes nothing
    tight = fit(tiny_model(), make(), 50, time_budget=1e-3, progress=False)
    assert len(tight["train_loss"]) == 1  # the guard stops before an epoch that cannot fit
    with pytest.raises(ValueError, match="time_budget"):
        fit(tiny_model(), make(), 1, time_budget=0)
    with pytest.raises(ValueError, match="epochs"):
        fit(tiny_model(), make(), 0)


class FakeClock:
    """time.perf_counter for swin_edu.training: only the model's forward moves it, by `first` seconds
    on the first call (what compilation does to a first step) and 1 s on every later one."""

    def __init__(self, first: float):
        self.now, self.first, self.calls = 0.0, first, 0

    def perf_counter(self) -> float:
        return self.now

    def forward_hook(self, module, args, output):
        self.calls += 1
        self.now += self.first if self.calls == 1 else 1.0


def test_time_guard_does_not_count_the_first_steps_compilation(monkeypatch):
    """Epoch 1 = a 100 s first step + 3 steps of 1 s; epoch 2 then takes 4 s. With 150 s, the
    guard must not predict epoch 2 from epoch 1's 103 s (it used to stop after one epoch)."""
    clock = FakeClock(first=100.0)
    monkeypatch.setattr(training, "time", clock)
    x, y = tiny_data(64)
    model = tiny_model()
    model.register_forward_hook(clock.forward_hook)
    history = fit(model, DeviceLoader(x, y, 16, train=True), 3, time_budget=150, progress=False)
    assert history["epoch_time"] == [103.0, 4.0, 4.0]


@pytest.mark.slow
def test_no_host_sync_per_step_without_a_progress_bar(monkeypatch):
    """Without a bar, the loss and accuracy are read once per epoch (.item() waits for the GPU)."""
    x, y = tiny_data(192)
    calls, item = [], torch.Tensor.item

    def counting_item(self):  # only fit's own reads (the CPU's AdamW reads its step count too)
        if sys._getframe(1).f_code.co_filename == training.__file__:
            calls.append(1)
        return item(self)

    monkeypatch.setattr(torch.Tensor, "item", counting_item)
    fit(tiny_model(), DeviceLoader(x, y, 8, train=True), 1, progress=False)  # 24 steps, no test loader
    assert len(calls) == 2  # the epoch's loss and accuracy


@pytest.mark.slow
def test_compile_error_in_the_first_step_falls_back_to_eager(monkeypatch):
    class Broken(torch.nn.Module):  # what a compiled model whose lowering fails does
        def forward(self, x):
            raise RuntimeError("inductor lowering failed\nlong traceback")

    def broken_compile(model, **kwargs):
        return Broken()

    monkeypatch.setattr(torch, "compile", broken_compile)
    x, y = tiny_data(64)
    history = fit(tiny_model(), DeviceLoader(x, y, 32, train=True), 2, compile=True, progress=False)
    assert len(history["train_loss"]) == 2 and all(math.isfinite(v) for v in history["train_loss"])
    assert history["compile_error"] == ["RuntimeError: inductor lowering failed"]
