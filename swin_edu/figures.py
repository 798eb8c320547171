"""Regenerate every figure in figures/: ``python -m swin_edu.figures [OUT_DIR]``."""
from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

from .plotting import masks, model, patches, position, training, windows

FIGURE_MODULES = (patches, windows, masks, position, model, training)


def all_figures() -> dict:
    """File name -> function drawing it, over every plotting module."""
    return {name: draw for module in FIGURE_MODULES for name, draw in module.FIGURES.items()}


def main(out_dir: str | Path = Path(__file__).resolve().parent.parent / "figures") -> list[Path]:
    """Draw every figure into ``out_dir`` as PNG; returns the written paths."""
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, draw in all_figures().items():
        fig = draw()
        fig.savefig(out_dir / name, dpi=110, bbox_inches="tight")
        plt.close(fig)
        written.append(out_dir / name)
        print(f"wrote {out_dir / name}")
    return written


if __name__ == "__main__":
    main(*sys.argv[1:2])
