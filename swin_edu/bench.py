"""Benchmark swin_edu against timm's SwinTransformer: same configuration, same weights.

    python -m swin_edu.bench                 # both configurations, on CUDA if available
    python -m swin_edu.bench --config cifar  # one configuration
    python -m swin_edu.bench --smoke         # one tiny iteration (what the test runs)
    python -m swin_edu.bench --profile       # where a training step spends its time, per op
    python -m swin_edu.bench --device cuda --json bench.json --time-limit 120   # what scripts/gpu_run.sh runs

First it checks that the two models give the same logits on the device (float32, TF32 off). Then,
for each configuration, it measures training throughput (forward + backward + AdamW step, img/s),
inference throughput (eval, no grad, img/s) and peak memory of a training step, running the two
models interleaved for several rounds after a warm-up and printing medians and the ratio
swin_edu / timm. On CUDA it runs in bf16 autocast, without and with ``torch.compile`` (the warm-up
time, compilation included, is printed too). Peak memory on CUDA is what one model's training step
allocates at its peak (``torch.cuda.max_memory_allocated`` during the step, above what was allocated
before it) plus that model's parameters and AdamW state: what the model would need alone on the GPU.
On the CPU (Linux) it is the peak resident set (VmHWM) of a fresh subprocess that runs only that
model's training steps, above its resident set before the first step. Next to it the bench prints the
bytes of activations saved for backward, an exact figure that does not depend on the allocator.
With ``--time-limit`` the measurements that would start after that many seconds are skipped (said
so in the output); with ``--json`` every result is written to a file as soon as it is measured.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

from . import swin_cifar, swin_t
from .model import SwinTransformer
from .recipes import RECIPES
from .training import autocast, synchronize, write_json

CONFIGS = {
    "cifar": dict(factory=swin_cifar, img_size=32, batch={"cpu": 128, "cuda": RECIPES["gpu"].batch_size}),
    "swin_t": dict(factory=swin_t, img_size=224, batch={"cpu": 16, "cuda": 128}),
}


def build_pair(config: str, device: str) -> tuple[SwinTransformer, torch.nn.Module]:
    """swin_edu's model and timm's, same configuration and same weights, on ``device``."""
    from timm.models.swin_transformer import SwinTransformer as TimmSwin

    torch.manual_seed(0)
    ours = CONFIGS[config]["factory"]()
    kw = dict(img_size=ours.img_size, patch_size=ours.patch_embed.patch_size, num_classes=ours.num_classes,
              embed_dim=ours.patch_embed.proj.out_channels,
              depths=tuple(len(layer.blocks) for layer in ours.layers),
              num_heads=tuple(layer.blocks[0].attn.num_heads for layer in ours.layers),
              window_size=ours.layers[0].blocks[0].window_size, drop_path_rate=0.1)
    theirs = TimmSwin(**kw)
    state = {k.replace("head.", "head.fc.") if k.startswith("head.") else k: v for k, v in ours.state_dict().items()}
    theirs.load_state_dict(state, strict=False)  # timm's persistent buffers stay as built
    return ours.to(device), theirs.to(device)


def fake_batch(config: str, batch: int, device: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Random images [batch, 3, S, S] and labels [batch] for a configuration (timing needs no data)."""
    size = CONFIGS[config]["img_size"]
    return torch.randn(batch, 3, size, size, device=device), torch.zeros(batch, dtype=torch.long, device=device)


def make_train_step(model, device):
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)

    def step(x, y):
        with autocast(device):
            loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
    return step


def make_infer_step(model, device):
    def step(x, y):
        with torch.no_grad(), autocast(device):
            model(x)
    return step


def time_steps(step, x, y, iters: int, device: str) -> float:
    """Images per second over ``iters`` calls of ``step``."""
    synchronize(device)
    start = time.perf_counter()
    for _ in range(iters):
        step(x, y)
    synchronize(device)
    return iters * x.shape[0] / (time.perf_counter() - start)


def throughput(config: str, device: str, mode: str, compiled: bool, batch: int, iters: int,
               rounds: int) -> dict:
    """Throughput of swin_edu and timm, measured interleaved.

    Returns:
        dict with "img_s": two lists of ``rounds`` img/s (swin_edu, timm); "warmup_s": seconds of the
        two warm-up steps of each model (compilation included); on CUDA in training mode also
        "memory_mib": peak memory of each model's training step (see the module docstring).
    """
    ours, theirs = build_pair(config, device)
    x, y = fake_batch(config, batch, device)
    steps = []
    for model in (ours, theirs):
        model.train(mode == "train")
        if compiled:
            model = torch.compile(model)
        steps.append((make_train_step if mode == "train" else make_infer_step)(model, device))
    warmup = [2 * batch / time_steps(step, x, y, 2, device) for step in steps]  # and compilation
    out = {"img_s": ([], []), "warmup_s": warmup}
    for _ in range(rounds):
        for i, step in enumerate(steps):
            out["img_s"][i].append(time_steps(step, x, y, iters, device))
    if device == "cuda" and mode == "train":
        out["memory_mib"] = [_cuda_step_peak(step, model, x, y) for step, model in zip(steps, (ours, theirs))]
    return out


def augmentation_cost(device: str, batch: int, iters: int) -> dict:
    """What the gpu recipe's augmentation costs a batch of CIFAR images on ``device``, as
    :class:`swin_edu.data.DeviceLoader` makes it (crop + flip + TrivialAugment on uint8, normalisation,
    erasing, mixup or cutmix).

    Returns:
        dict with "ms" (median milliseconds a batch over ``iters`` batches, after one warm-up batch),
        "img_s" and "ops" (the tensor ops of one batch: each is a kernel launch on a GPU).
    """
    from torch.utils._python_dispatch import TorchDispatchMode

    from .data import CIFAR10_MEAN, CIFAR10_STD, normalize

    class CountOps(TorchDispatchMode):
        n = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            CountOps.n += 1
            return func(*args, **(kwargs or {}))

    augment = RECIPES["gpu"].augment
    g = torch.Generator(device=device).manual_seed(0)
    images = torch.randint(0, 256, (batch, 3, 32, 32), dtype=torch.uint8, device=device, generator=g)
    labels = torch.randint(0, 10, (batch,), device=device, generator=g)
    mean, std = torch.tensor(CIFAR10_MEAN, device=device), torch.tensor(CIFAR10_STD, device=device)

    def one_batch():
        return augment.batch(normalize(augment.pixels(images, g), mean, std), labels, g)

    with CountOps():
        one_batch()
    times = []
    for _ in range(iters):
        synchronize(device)
        t = time.perf_counter()
        one_batch()
        synchronize(device)
        times.append(time.perf_counter() - t)
    ms = 1e3 * statistics.median(times)
    return {"ms": ms, "img_s": batch / ms * 1e3, "ops": CountOps.n}


def _cuda_step_peak(step, model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """MiB that ``model`` needs on the GPU for a training step: the step's peak allocation above what
    was allocated before it, plus the model's parameters and its two AdamW moments (3x the weights;
    the gradients are freed between steps and counted in the peak)."""
    torch.cuda.synchronize()
    before = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    step(x, y)
    torch.cuda.synchronize()
    weights = sum(p.numel() * p.element_size() for p in model.parameters())
    return (torch.cuda.max_memory_allocated() - before + 3 * weights) / 2**20


def logits_difference(config: str, device: str, batch: int = 8) -> dict:
    """Largest |logit difference| between swin_edu and timm on ``device`` for random images, in float32
    (TF32 off) and under bf16 autocast on CUDA, and whether the predicted classes agree.

    Returns:
        dict with "fp32" (float), "bf16" (float or None on the CPU), "same_argmax" (bool, float32)."""
    ours, theirs = (m.eval() for m in build_pair(config, device))
    x, _ = fake_batch(config, batch, device)
    tf32 = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False  # matmuls and the patch conv
    try:
        with torch.no_grad():
            a, b = ours(x), theirs(x)
            result = {"fp32": (a - b).abs().max().item(), "bf16": None,
                      "same_argmax": bool((a.argmax(1) == b.argmax(1)).all())}
            if device == "cuda":
                with autocast(device):
                    result["bf16"] = (ours(x).float() - theirs(x).float()).abs().max().item()
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = tf32
    return result


def peak_memory(config: str, which: int, batch: int, repeats: int = 3) -> float:
    """Peak memory (MiB) of a training step of model ``which`` (0 swin_edu, 1 timm) on the CPU: the
    median of ``repeats`` fresh processes (on CUDA, :func:`throughput` measures it)."""
    args = [sys.executable, "-m", "swin_edu.bench", "--_memory", json.dumps([config, which, batch])]
    runs = [float(subprocess.run(args, check=True, capture_output=True, text=True).stdout.split()[-1])
            for _ in range(repeats)]
    return statistics.median(runs)  # the allocator makes single runs vary by a few percent


def saved_activations_mib(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """MiB of tensors that autograd keeps from the forward pass for the backward pass of one training
    step (parameters excluded, each storage counted once). Exact, unlike a peak of the allocator.

    Shapes: x [B, 3, S, S] images, y [B] class indices."""
    params = {p.untyped_storage().data_ptr() for p in model.parameters()}
    storages = {}

    def pack(t):
        s = t.untyped_storage()
        if s.data_ptr() not in params:
            storages[s.data_ptr()] = s.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t), autocast(x.device.type):
        F.cross_entropy(model.train()(x), y)
    return sum(storages.values()) / 2**20


MATMUL_OPS = ("aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm")


def where_time_goes(config: str, device: str, batch: int, steps: int = 3) -> list[dict]:
    """Profile ``steps`` training steps of each model (after a warm-up). Returns, for swin_edu then
    timm, a dict: ``total`` op time and ``matmul`` time (ms per step), ``others`` the five largest
    other ops as (name, ms per step)."""
    from torch.profiler import ProfilerActivity, profile

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device == "cuda" else [])
    key = "self_device_time_total" if device == "cuda" else "self_cpu_time_total"
    x, y = fake_batch(config, batch, device)
    out = []
    for model in build_pair(config, device):
        step = make_train_step(model.train(), device)
        time_steps(step, x, y, 2, device)
        with profile(activities=activities) as prof:
            time_steps(step, x, y, steps, device)
        # ms per step, per aten op (on CUDA the kernels' time is counted under the op that launched them)
        times = {e.key: getattr(e, key) / 1e3 / steps for e in prof.key_averages()
                 if e.device_type == torch.autograd.DeviceType.CPU}
        total = sum(times.values())
        matmul = sum(times.get(op, 0.0) for op in MATMUL_OPS)
        others = sorted(((op, t) for op, t in times.items() if op not in MATMUL_OPS), key=lambda ot: -ot[1])
        out.append(dict(total=total, matmul=matmul, others=others[:5]))
    return out


def _print_profile(config: str, batch: int, prof: list[dict]) -> None:
    for name, p in zip(("swin_edu", "timm"), prof):
        others = ", ".join(f"{op} {t / p['total']:.0%}" for op, t in p["others"])
        print(f"{config} batch {batch} {name:8s} train step {p['total']:8.1f} ms of op time: "
              f"matmul {p['matmul'] / p['total']:.0%}; then {others}")
    ceiling = prof[1]["total"] / prof[0]["matmul"]
    print(f"{config} batch {batch}: if every op but the matmuls took no time, swin_edu / timm would be {ceiling:.2f}")


def _status_kib(field: str) -> int:
    """A memory figure of this process from /proc/self/status (Linux), in KiB."""
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _memory_child(config: str, which: int, batch: int) -> None:
    """Runs in a fresh process: print the peak RSS (MiB) of two training steps above the RSS before them.

    ru_maxrss would not do: Linux carries the parent's peak across fork + exec. VmHWM belongs to this
    process alone, and writing 5 to clear_refs resets it to the current RSS."""
    model = build_pair(config, "cpu")[which].train()
    x, y = fake_batch(config, batch, "cpu")
    step = make_train_step(model, "cpu")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    before = _status_kib("VmRSS")
    for _ in range(2):
        step(x, y)
    print((_status_kib("VmHWM") - before) / 1024)


def _write_json(path: str | None, result: dict) -> None:
    if path:
        write_json(path, result)


def main(argv=None) -> dict:
    """Run the benchmark (see the module docstring). Returns what ``--json`` writes: "environment",
    "logits" (per configuration, :func:`logits_difference`), "augmentation" (:func:`augmentation_cost`), "rows" (one per configuration and
    compile setting: img/s per round for "train" and "infer", their "..._warmup_s", "memory" and "saved"
    in MiB, swin_edu first), "skipped" (what the time limit left out) and "seconds" (wall clock)."""
    p = argparse.ArgumentParser(prog="python -m swin_edu.bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--config", choices=[*CONFIGS, "all"], default="all")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--iters", type=int, default=5, help="steps per timed round")
    p.add_argument("--rounds", type=int, default=5, help="interleaved rounds; medians are printed")
    p.add_argument("--batch", type=int, default=None, help="override the batch size")
    p.add_argument("--smoke", action="store_true", help="one tiny iteration, to check the script runs")
    p.add_argument("--profile", action="store_true", help="print where a training step spends its time")
    p.add_argument("--json", default=None, help="write the results to this file as they come")
    p.add_argument("--time-limit", type=float, default=None,
                   help="skip the measurements that would start after this many seconds")
    p.add_argument("--_memory", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args._memory:
        _memory_child(*json.loads(args._memory))
        return {}
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        p.error(f"--device {args.device}, but torch.cuda.is_available() is False (torch {torch.__version__}, CUDA "
                f"build {torch.version.cuda}): no GPU is visible or its driver failed; --device cpu runs on the CPU")
    if args.smoke:
        args.iters, args.rounds, args.batch = 1, 1, args.batch or 2
    start = time.perf_counter()
    configs = list(CONFIGS) if args.config == "all" else [args.config]
    dtype = "bf16 autocast" if args.device == "cuda" else "float32"
    name = torch.cuda.get_device_name() if args.device == "cuda" else "CPU"
    print(f"device {args.device} ({name}), {dtype}, torch {torch.__version__}, {torch.get_num_threads()} threads")
    result = {"environment": {"device": args.device, "name": name, "dtype": dtype, "torch": torch.__version__,
                              "threads": torch.get_num_threads()}, "logits": {}, "rows": [], "skipped": []}
    for config in configs:
        result["logits"][config] = diff = logits_difference(config, args.device)
        bf16 = f", bf16 autocast {diff['bf16']:.2e}" if diff["bf16"] is not None else ""
        print(f"{config}: logits swin_edu - timm, max |difference|: float32 {diff['fp32']:.2e}{bf16}; "
              f"same predicted classes: {diff['same_argmax']}")
    aug_batch = args.batch or CONFIGS["cifar"]["batch"][args.device]
    result["augmentation"] = aug = augmentation_cost(args.device, aug_batch, 3 if args.smoke else 20)
    print(f"gpu recipe's augmentation, batch {aug_batch}: {aug['ms']:.2f} ms a batch ({aug['img_s']:,.0f} img/s), "
          f"{aug['ops']} tensor ops")
    _write_json(args.json, result)
    if args.profile:
        for config in configs:
            batch = args.batch or CONFIGS[config]["batch"][args.device]
            _print_profile(config, batch, where_time_goes(config, args.device, batch, 1 if args.smoke else 3))
    # every eager row first, then the compiled ones (compilation is slow: a time limit cuts those first)
    for compiled in ([False, True] if args.device == "cuda" and not args.smoke else [False]):
        for config in configs:
            batch = args.batch or CONFIGS[config]["batch"][args.device]
            label = f"{config} batch {batch}{' compiled' if compiled else ''}"
            elapsed = time.perf_counter() - start
            if args.time_limit is not None and elapsed > args.time_limit:
                why = f"past the time limit: {elapsed:.0f} s of {args.time_limit:.0f} s used before it would start"
                print(f"{label:28s} skipped: {why}")
                result["skipped"].append({"row": label, "why": why})
                _write_json(args.json, result)
                continue
            # in the file from its start: a row killed by a hard timeout still shows what it reached
            row = dict(config=config, batch=batch, compiled=compiled, status="started")
            result["rows"].append(row)
            _write_json(args.json, result)
            for mode in ("train", "infer"):
                measured = throughput(config, args.device, mode, compiled, batch, args.iters, args.rounds)
                row[mode], row[f"{mode}_warmup_s"] = measured["img_s"], measured["warmup_s"]
                if "memory_mib" in measured:
                    row["memory"] = tuple(measured["memory_mib"])
                row["status"] = f"{mode} measured"
                _write_json(args.json, result)
            if "memory" not in row:
                row["memory"] = tuple(peak_memory(config, i, batch, 1 if args.smoke else 3) for i in (0, 1))
            x, y = fake_batch(config, batch, args.device)
            row["saved"] = tuple(saved_activations_mib(m, x, y) for m in build_pair(config, args.device))
            row["status"] = "done"
            _print_row(row)
            _write_json(args.json, result)
    for row in result["rows"]:  # what the augmentation adds to a training step of the CIFAR model
        if row["config"] == "cifar" and row["batch"] == aug_batch and row.get("status") == "done":
            step_ms = 1e3 * aug_batch / statistics.median(row["train"][0])
            row["augmentation_share"] = aug["ms"] / (aug["ms"] + step_ms)
            print(f"cifar batch {aug_batch}{' compiled' if row['compiled'] else ''}: a training step takes "
                  f"{step_ms:.1f} ms, the augmentation {aug['ms']:.2f} ms more: {row['augmentation_share']:.0%} of the two")
    result["seconds"] = time.perf_counter() - start
    _write_json(args.json, result)
    print(f"bench done in {result['seconds']:.0f} s")
    return result


def _print_row(row: dict) -> None:
    name = f"{row['config']} batch {row['batch']}{' compiled' if row['compiled'] else ''}"
    for mode in ("train", "infer"):
        ours, theirs = row[mode]
        ratios = [a / b for a, b in zip(ours, theirs)]
        warm = row[f"{mode}_warmup_s"]
        print(f"{name:28s} {mode:5s}  swin_edu {statistics.median(ours):9.1f} img/s   "
              f"timm {statistics.median(theirs):9.1f} img/s   ratio {statistics.median(ratios):.2f} "
              f"(rounds {min(ratios):.2f}-{max(ratios):.2f})   warm-up {warm[0]:.1f} / {warm[1]:.1f} s")
    ours, theirs = row["memory"]
    print(f"{name:28s} peak memory of a training step: swin_edu {ours:.0f} MiB, timm {theirs:.0f} MiB, "
          f"ratio {ours / max(theirs, 1e-9):.2f}")
    ours, theirs = row["saved"]
    print(f"{name:28s} activations saved for backward: swin_edu {ours:.1f} MiB, timm {theirs:.1f} MiB")


if __name__ == "__main__":
    main()
