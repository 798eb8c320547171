"""Run records: what a training run writes about itself (run.json, history.json) and how the
results/ folder's recorded runs are read back (notebook 07, the README's training section).

A run folder holds run.json (recipe, device, torch, commit, test set, wall clock split into data /
compile / training / evaluation, images per second, accuracy) and history.json (per epoch: losses,
accuracies, learning rate, seconds); :mod:`swin_edu.train` writes them, this module names and reads them.
"""
from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
from pathlib import Path

import torch

__all__ = ["RESULTS", "device_name", "test_set_name", "wall_clock", "recorded_runs", "describe_run", "git_commit"]

#: where recorded runs are committed: one folder per run, holding run.json and history.json
RESULTS = Path(__file__).resolve().parent.parent / "results"


def device_name(device: torch.device) -> str:
    """'NVIDIA H100 80GB HBM3' on CUDA; the processor and the number of threads on the CPU."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{cpu} ({torch.get_num_threads()} threads)"


def test_set_name(n: int) -> str:
    """How to name the test set an accuracy was measured on: the full set or the subset built here."""
    return "10,000-image test set" if n == 10_000 else f"{n:,}-image test subset"


def wall_clock(history: dict[str, list[float]], steps_per_epoch: int, batch_size: int) -> dict:
    """Split the seconds of a run's epochs into compilation (and warm-up), training and evaluation.

    The first epoch pays for ``torch.compile`` and the GPU's warm-up: its training time above the
    median of the other epochs' is counted as compilation. Images per second are those of a steady
    epoch (the median), augmentation included.

    Returns:
        dict with "compile", "training", "evaluation" (seconds) and "images_per_second".
    """
    train = history["train_time"]
    steady = statistics.median(train[1:]) if len(train) > 1 else train[0]
    compile_s = max(0.0, train[0] - steady)
    return {"compile": compile_s, "training": sum(train) - compile_s, "evaluation": sum(history["eval_time"]),
            "images_per_second": steps_per_epoch * batch_size / steady}


def recorded_runs(root: str | os.PathLike = RESULTS, device_type: str = "cuda") -> list[tuple[dict, dict]]:
    """The runs recorded under ``root`` (any folder below it with run.json and history.json) on
    ``device_type``, oldest first by their date: a list of (run.json, history.json) contents."""
    runs = []
    for path in Path(root).glob("**/run.json"):
        if (path.parent / "history.json").is_file():
            run = json.loads(path.read_text())
            if run.get("device_type") == device_type and not run.get("synthetic"):  # smoke runs are no result
                runs.append((run, json.loads((path.parent / "history.json").read_text())))
    return sorted(runs, key=lambda r: r[0]["date"])


def describe_run(run: dict) -> str:
    """One line on a recorded run (the content of its run.json): date, device, recipe, accuracy and the
    wall clock split into data, compilation, training and evaluation."""
    sec = run["seconds"]
    return (f"recorded {run['device_type'].upper()} run of {run['date'][:10]} on {run['device']} (recipe "
            f"{run['recipe']}, torch {run['torch']}): {run['test_acc']:.1%} top-1 ({run['test_set']}) after "
            f"{run['epochs_done']} epochs; wall clock {sec['total'] / 60:.1f} min = data {sec['data']:.0f} s + "
            f"compile {sec['compile']:.0f} s + training {sec['training']:.0f} s + evaluation "
            f"{sec['evaluation']:.0f} s; {sec['images_per_second']:,.0f} img/s")


def git_commit() -> str | None:
    """The repository's commit; where there is no .git (a copied working tree, as on the GPU machine),
    what SWIN_EDU_GIT_COMMIT says (scripts/gpu_run.sh sets it from gpu_data/commit.txt)."""
    if os.environ.get("SWIN_EDU_GIT_COMMIT"):
        return os.environ["SWIN_EDU_GIT_COMMIT"]
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10,
                             cwd=Path(__file__).resolve().parent)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None
