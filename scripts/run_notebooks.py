"""Execute every notebook in order from a fresh kernel and save it with its outputs (what nbval
compares against in `make test`). Cell timing metadata and the explorers' widget state are dropped and
consecutive prints of a cell are one stream output (a busy machine flushes them one by one), so a re-run
changes only what really changed; the whole notebook's running time is kept (for
scripts/notebook_stats.py), and the "## Going deeper" heading is marked collapsed for JupyterLab.

    python scripts/run_notebooks.py [notebooks/03_window_attention.ipynb ...]   # default: all
"""
import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def machine() -> str:
    """e.g. '2 CPU threads, torch 2.14.1': where the recorded running time was measured."""
    import torch

    device = torch.cuda.get_device_name() if torch.cuda.is_available() else f"{os.cpu_count()} CPU threads"
    return f"{device}, torch {torch.__version__.split('+')[0]}"


def coalesce_streams(outputs: list) -> list:
    """Consecutive stream outputs of one name (stdout, stderr) merged into one, as JupyterLab shows them:
    how many pieces the kernel sent depends on when it flushed, not on the notebook."""
    merged = []
    for output in outputs:
        if merged and output.output_type == merged[-1].output_type == "stream" and output.name == merged[-1].name:
            merged[-1].text += output.text
        else:
            merged.append(output)
    return merged


def run(path: Path) -> None:
    start = time.perf_counter()
    env = {**os.environ, "TQDM_DISABLE": "1"}
    subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute", "--inplace",
                    path.name], cwd=path.parent, env=env, check=True)
    seconds = time.perf_counter() - start
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs = coalesce_streams(cell.outputs)
        # Going deeper opens collapsed in JupyterLab (one click expands it); nbval still runs it
        if cell.cell_type == "markdown" and cell.source.lstrip().startswith("## Going deeper"):
            cell.metadata["jp-MarkdownHeadingCollapsed"] = True
    # the running time that scripts/notebook_stats.py reports (README's notebook table)
    nb.metadata["swin_edu"] = {"run_seconds": round(seconds, 1), "machine": machine()}
    # The explorers' widget state (a second copy of their figure) is of no use in a saved notebook: a
    # clone is not trusted, so JupyterLab shows each explorer's saved image/png until the notebook runs.
    nb.metadata.pop("widgets", None)
    # the kernelspec JupyterLab writes when it starts the kernel: anything else marks the notebook modified
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    nbformat.write(nb, path)
    print(f"{path.name}: {seconds:.0f} s")


if __name__ == "__main__":
    for name in sys.argv[1:] or sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        run(Path(name).resolve())
    from notebook_stats import all_stats, write_readme

    write_readme(all_stats())  # the README's table of words and times follows the notebooks
