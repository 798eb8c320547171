"""Benchmark swin_edu against timm's SwinTransformer: same configuration, same weights.

    python -m swin_edu.bench                 # both configurations, on CUDA if available
    python -m swin_edu.bench --config cifar  # one configuration
    python -m swin_edu.bench --smoke         # one tiny iteration (what the test runs)

For each configuration it measures training throughput (forward + backward + AdamW step, img/s),
inference throughput (eval, no grad, img/s) and peak memory of a training step, running the two
models interleaved for several rounds after a warm-up and printing medians and the ratio
swin_edu / timm. On CUDA it runs in bf16 autocast, without and with ``torch.compile``.
Peak memory is ``torch.cuda.max_memory_allocated`` on CUDA, and on the CPU (Linux) the peak
resident set (VmHWM) of a fresh subprocess that runs only that model's training steps, above its
resident set before the first step.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from contextlib import nullcontext

import torch
import torch.nn.functional as F

from . import swin_cifar, swin_t
from .model import SwinTransformer

CONFIGS = {
    "cifar": dict(factory=swin_cifar, img_size=32, batch={"cpu": 128, "cuda": 512}),
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


def _autocast(device: str):
    return torch.autocast("cuda", dtype=torch.bfloat16) if device == "cuda" else nullcontext()


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def make_train_step(model, device):
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)

    def step(x, y):
        with _autocast(device):
            loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
    return step


def make_infer_step(model, device):
    def step(x, y):
        with torch.no_grad(), _autocast(device):
            model(x)
    return step


def time_steps(step, x, y, iters: int, device: str) -> float:
    """Images per second over ``iters`` calls of ``step``."""
    _sync(device)
    start = time.perf_counter()
    for _ in range(iters):
        step(x, y)
    _sync(device)
    return iters * x.shape[0] / (time.perf_counter() - start)


def throughput(config: str, device: str, mode: str, compiled: bool, batch: int, iters: int, rounds: int):
    """Median img/s of (swin_edu, timm), measured interleaved."""
    ours, theirs = build_pair(config, device)
    x = torch.randn(batch, 3, ours.img_size, ours.img_size, device=device)
    y = torch.randint(0, ours.num_classes, (batch,), device=device)
    steps = []
    for model in (ours, theirs):
        model.train(mode == "train")
        if compiled:
            model = torch.compile(model)
        steps.append((make_train_step if mode == "train" else make_infer_step)(model, device))
    for step in steps:  # warm-up (and compilation)
        time_steps(step, x, y, 2, device)
    results = ([], [])
    for _ in range(rounds):
        for i, step in enumerate(steps):
            results[i].append(time_steps(step, x, y, iters, device))
    return statistics.median(results[0]), statistics.median(results[1])


def peak_memory(config: str, device: str, which: int, compiled: bool, batch: int, repeats: int = 3) -> float:
    """Peak memory (MiB) of a training step of model ``which`` (0 swin_edu, 1 timm); on the CPU the
    median of ``repeats`` fresh processes."""
    if device == "cuda":
        model = build_pair(config, "cpu")[which].to(device)  # only this model on the GPU
        model = torch.compile(model) if compiled else model
        size = CONFIGS[config]["img_size"]
        x = torch.randn(batch, 3, size, size, device=device)
        y = torch.zeros(batch, dtype=torch.long, device=device)
        step = make_train_step(model, device)
        step(x, y)
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        step(x, y)
        torch.cuda.synchronize()
        return torch.cuda.max_memory_allocated() / 2**20
    args = [sys.executable, "-m", "swin_edu.bench", "--_memory", json.dumps([config, which, batch])]
    runs = [float(subprocess.run(args, check=True, capture_output=True, text=True).stdout.split()[-1])
            for _ in range(repeats)]
    return statistics.median(runs)  # the allocator makes single runs vary by a few percent


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
    size = CONFIGS[config]["img_size"]
    x, y = torch.randn(batch, 3, size, size), torch.zeros(batch, dtype=torch.long)
    step = make_train_step(model, "cpu")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    before = _status_kib("VmRSS")
    for _ in range(2):
        step(x, y)
    print((_status_kib("VmHWM") - before) / 1024)


def main(argv=None) -> list[dict]:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--config", choices=[*CONFIGS, "all"], default="all")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--iters", type=int, default=5, help="steps per timed round")
    p.add_argument("--rounds", type=int, default=5, help="interleaved rounds; medians are printed")
    p.add_argument("--batch", type=int, default=None, help="override the batch size")
    p.add_argument("--smoke", action="store_true", help="one tiny iteration, to check the script runs")
    p.add_argument("--_memory", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args._memory:
        _memory_child(*json.loads(args._memory))
        return []
    if args.smoke:
        args.iters, args.rounds, args.batch = 1, 1, args.batch or 2
    configs = list(CONFIGS) if args.config == "all" else [args.config]
    dtype = "bf16 autocast" if args.device == "cuda" else "float32"
    print(f"device {args.device} ({torch.cuda.get_device_name() if args.device == 'cuda' else 'CPU'}), "
          f"{dtype}, torch {torch.__version__}, {torch.get_num_threads()} threads")
    rows = []
    for config in configs:
        batch = args.batch or CONFIGS[config]["batch"][args.device]
        for compiled in ([False, True] if args.device == "cuda" and not args.smoke else [False]):
            row = dict(config=config, batch=batch, compiled=compiled)
            for mode in ("train", "infer"):
                ours, theirs = throughput(config, args.device, mode, compiled, batch, args.iters, args.rounds)
                row[mode] = (ours, theirs)
            repeats = 1 if args.smoke else 3
            row["memory"] = tuple(peak_memory(config, args.device, i, compiled, batch, repeats) for i in (0, 1))
            rows.append(row)
            _print_row(row)
    return rows


def _print_row(row: dict) -> None:
    name = f"{row['config']} batch {row['batch']}{' compiled' if row['compiled'] else ''}"
    for mode in ("train", "infer"):
        ours, theirs = row[mode]
        print(f"{name:28s} {mode:5s}  swin_edu {ours:9.1f} img/s   timm {theirs:9.1f} img/s   ratio {ours / theirs:.2f}")
    ours, theirs = row["memory"]
    print(f"{name:28s} peak memory of a training step: swin_edu {ours:.0f} MiB, timm {theirs:.0f} MiB, "
          f"ratio {ours / max(theirs, 1e-9):.2f}")


if __name__ == "__main__":
    main()
