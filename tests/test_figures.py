"""`python -m swin_edu.figures` writes every figure the README shows."""
import subprocess
import sys
from pathlib import Path

import pytest
from swin_edu.figures import all_figures

ROOT = Path(__file__).resolve().parent.parent
README_FIGURES = {"patch_grid.png", "patch_merging.png", "window_partition.png", "attention_cost.png",
                  "region_maps.png", "mask_window.png", "relative_position_bias.png"}


@pytest.mark.slow
def test_figure_command_writes_every_file(tmp_path):
    subprocess.run([sys.executable, "-m", "swin_edu.figures", str(tmp_path)], check=True, cwd=ROOT,
                   capture_output=True)
    written = {p.name for p in tmp_path.glob("*.png")}
    assert README_FIGURES <= set(all_figures())
    assert written == set(all_figures())
    assert all((tmp_path / name).stat().st_size > 5_000 for name in written)  # a real picture, not an empty canvas


def test_committed_figures_are_the_ones_the_command_draws():
    committed = {p.name for p in (ROOT / "figures").glob("*.png")}
    assert committed == set(all_figures())
    readme = (ROOT / "README.md").read_text()
    assert all(f"figures/{name}" in readme for name in README_FIGURES)
