"""Train a Swin on CIFAR-10 from the command line: the same recipe and the same ``fit`` as notebook 07.

    python -m swin_edu.train --recipe cpu --out checkpoints/cpu   # about 3 minutes on two cores
    python -m swin_edu.train --recipe gpu --out checkpoints/gpu   # one GPU, under 4 minutes
    python -m swin_edu.train --recipe gpu --out checkpoints/gpu --resume   # continue an interrupted run

The output folder receives, as the run goes (so that an interrupted run still leaves its history):
history.json (per epoch: losses, accuracies, learning rate, seconds), run.json (recipe, device, torch,
parameters, test set, wall clock split into data / compile / training / evaluation, images per
second, accuracy), checkpoint.pt (the training state, for --resume), and at the end weights.pt (the
model's state_dict, for ``swin_edu.load_weights``) and learning_curves.png. ``--weights-dir`` puts
the two large files elsewhere, so that the output folder stays small enough to commit.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime
import os
import platform
import sys
import time
from pathlib import Path

import torch

from . import swin_cifar
from .data import DeviceLoader, data_dir, load_cifar10
from .recipes import RECIPES, Recipe
from .runs import device_name, git_commit, test_set_name, wall_clock
from .training import fit, write_json

__all__ = ["main", "run", "check_device"]


def check_device(device: torch.device | str) -> None:
    """Raise ValueError when CUDA is asked for but not usable: a GPU run must never fall back to the
    CPU in silence (it would record a CPU run under the GPU recipe)."""
    if torch.device(device).type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device} was asked for, but torch.cuda.is_available() is False (torch "
                         f"{torch.__version__}, CUDA build {torch.version.cuda}): no GPU is visible or its driver "
                         "failed. Pass --device cpu to run on the CPU on purpose.")


def run(recipe: Recipe, out: str | os.PathLike, *, name: str = "custom", data: str | os.PathLike | None = None,
        device: str | torch.device | None = None, weights_dir: str | os.PathLike | None = None,
        resume: bool = False, seed: int = 0, progress: bool = True, synthetic: int | None = None) -> dict:
    """Train ``recipe`` on CIFAR-10 and write the output folder ``out`` (see the module docstring).

    Args:
        recipe: what to train and how (:mod:`swin_edu.recipes`).
        out: the output folder (created).
        name: the recipe's name, for run.json.
        data: folder holding ``cifar-10-batches-py/`` (default: :func:`swin_edu.data.data_dir`).
        device: default CUDA when available, else the CPU.
        weights_dir: where checkpoint.pt and weights.pt go (default: ``out``).
        resume: continue from the checkpoint if it exists.
        seed: of the model's initialisation, the shuffling and the augmentation.
        progress: tqdm bars.
        synthetic: train on this many random images (and test on as many, at most 1,000) instead of CIFAR-10: a smoke
            test of the device path (compilation, autocast, speed) whose accuracy means nothing.

    Returns:
        the content of run.json.
    """
    t_start = time.perf_counter()
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    check_device(device)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True  # fp32 matmuls outside autocast on tensor cores
        torch.backends.cudnn.allow_tf32 = True
    out = Path(out)
    weights_dir = Path(weights_dir) if weights_dir is not None else out
    for folder in (out, weights_dir):
        folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)

    if synthetic:
        g = torch.Generator().manual_seed(seed)
        sizes = (synthetic, min(synthetic, 1000))
        train_x, test_x = (torch.randint(0, 256, (k, 3, 32, 32), generator=g, dtype=torch.uint8) for k in sizes)
        train_y, test_y = (torch.randint(0, 10, (k,), generator=g) for k in sizes)
    else:
        train_x, train_y = load_cifar10("train", data)
        test_x, test_y = load_cifar10("test", data)
    n = min(recipe.train_images or len(train_y), len(train_y))
    train_loader = DeviceLoader(train_x[:n], train_y[:n], recipe.batch_size, train=True, augment=recipe.augment,
                                device=device, seed=seed)
    test_loader = DeviceLoader(test_x, test_y, 500, train=False, device=device)
    data_seconds = time.perf_counter() - t_start

    model = swin_cifar(**recipe.model).to(device)
    info = {
        "recipe": name, "settings": recipe.to_dict(), "status": "running",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "device": device_name(device), "device_type": device.type, "torch": torch.__version__, "python": platform.python_version(),
        "git_commit": git_commit(), "command": " ".join(sys.argv),
        "parameters": sum(p.numel() for p in model.parameters()), "macs_per_image": model.flops(),
        "train_images": n, "test_images": len(test_y), "test_set": test_set_name(len(test_y)),
        "data_folder": "random images" if synthetic else str(data_dir(data)), "synthetic": bool(synthetic),
        "seconds": {"data": data_seconds},
    }

    def record(history: dict, epochs: int) -> None:
        info.update(epochs_planned=epochs, epochs_done=len(history["train_loss"]),
                    test_acc=history["test_acc"][-1], best_test_acc=max(history["test_acc"]),
                    compiled=recipe.compile and "compile_error" not in history,
                    compile_error=history.get("compile_error", [None])[0])
        info["seconds"].update(wall_clock(history, len(train_loader), recipe.batch_size))
        info["seconds"]["total"] = time.perf_counter() - t_start
        write_json(out / "history.json", history)
        write_json(out / "run.json", info)

    budget = None
    if recipe.time_limit is not None:
        reserve = 15.0  # final writing, figure, interpreter exit
        budget = max(1.0, recipe.time_limit - (time.perf_counter() - t_start) - reserve)
    history = fit(model, train_loader, recipe.epochs, test_loader, lr=recipe.lr, weight_decay=recipe.weight_decay,
                  warmup_epochs=recipe.warmup_epochs, label_smoothing=recipe.label_smoothing,
                  compile=recipe.compile, checkpoint=weights_dir / "checkpoint.pt", checkpoint_every=recipe.checkpoint_every,
                  resume=resume, time_budget=budget, on_epoch_end=record, progress=progress)

    torch.save(model.state_dict(), weights_dir / "weights.pt")
    from .plotting import plot_learning_curves  # matplotlib only when it is needed

    fig = plot_learning_curves(history)
    fig.savefig(out / "learning_curves.png", dpi=100)
    planned = info.get("epochs_planned", len(history["train_loss"]))  # not set if a resumed run had nothing left
    record(history, planned)
    info["status"] = "finished" if info["epochs_done"] == planned else "stopped by the time limit"
    write_json(out / "run.json", info)
    s = info["seconds"]
    print(f"{name}: {info['test_acc']:.1%} top-1 ({info['test_set']}) after {info['epochs_done']} epochs on "
          f"{info['device']} | {s['images_per_second']:.0f} img/s | wall clock {s['total']:.0f} s = data "
          f"{s['data']:.0f} + compile {s['compile']:.0f} + training {s['training']:.0f} + evaluation "
          f"{s['evaluation']:.0f} + rest | {out}")
    return info


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(
        prog="python -m swin_edu.train", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Train a Swin on CIFAR-10 with one of the recipes of notebook 07 (swin_edu/recipes.py).",
        epilog="recipes:\n" + "\n".join(
            f"  {k:5s} {r.epochs} epochs{' (fitted to the time limit)' if r.time_limit else ''}, batch {r.batch_size}, "
            f"lr {r.lr:g}, {'compiled' if r.compile else 'eager'}" for k, r in RECIPES.items())
        + "\n\nexample: python -m swin_edu.train --recipe cpu --out checkpoints/cpu   (checkpoints/ is git-ignored)")
    p.add_argument("--recipe", choices=list(RECIPES), default=None,
                   help="default: gpu when CUDA is available, else cpu")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (history.json, run.json, weights, figure)")
    p.add_argument("--data", default=None, metavar="DIR", help="folder holding cifar-10-batches-py/ (default: $SWIN_EDU_DATA, else data/)")
    p.add_argument("--device", default=None, metavar="DEVICE", help="cuda or cpu (default: cuda when available)")
    p.add_argument("--epochs", type=int, metavar="N", help="override the recipe's epochs (with a time limit: the most epochs)")
    p.add_argument("--batch-size", type=int, metavar="N", help="override the recipe's batch size")
    p.add_argument("--lr", type=float, metavar="LR", help="override the recipe's peak learning rate")
    p.add_argument("--train-images", type=int, metavar="N", help="train on the first N training images only")
    p.add_argument("--time-limit", type=float, metavar="SECONDS",
                   help="seconds the whole run may take, data and compilation included (0: no limit); "
                        "the epochs are fitted to it and training stops before it")
    p.add_argument("--no-compile", action="store_true", help="train without torch.compile")
    p.add_argument("--weights-dir", metavar="DIR", help="folder for checkpoint.pt and weights.pt (default: the --out folder)")
    p.add_argument("--resume", action="store_true", help="continue from the checkpoint in the weights folder")
    p.add_argument("--seed", type=int, default=0, help="of the initialisation, the shuffling and the augmentation")
    p.add_argument("--synthetic", type=int, metavar="N", help="train on N random images instead of CIFAR-10: a smoke "
                                                              "test of the device path (its accuracy means nothing)")
    args = p.parse_args(argv)

    name = args.recipe or ("gpu" if torch.cuda.is_available() else "cpu")
    overrides = {"epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr,
                 "train_images": args.train_images}
    overrides = {k: v for k, v in overrides.items() if v is not None}
    if args.time_limit is not None:
        overrides["time_limit"] = args.time_limit or None
    if args.no_compile:
        overrides["compile"] = False
    for key in ("epochs", "batch_size", "train_images"):
        if overrides.get(key, 1) < 1:
            p.error(f"--{key.replace('_', '-')} must be at least 1")
    recipe = dataclasses.replace(RECIPES[name], **overrides)
    try:
        return run(recipe, args.out, name=name, data=args.data, device=args.device, weights_dir=args.weights_dir,
                   resume=args.resume, seed=args.seed, synthetic=args.synthetic)
    except (FileNotFoundError, RuntimeError, ValueError) as err:
        if isinstance(err, RuntimeError) and "download failed" not in str(err):
            raise
        p.exit(2, f"python -m swin_edu.train: error: {err}\n")


if __name__ == "__main__":
    main()
