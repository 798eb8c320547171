"""A learner can change the example: every tutorial notebook runs from a fresh kernel with a second
set of values in its "try other values" cell (papermill injects them after the cell tagged
`parameters`, as it would for a learner's `papermill -p M 4 ...`). Only "runs without an exception"
is asserted: the outputs are new numbers and are not compared."""
import ast
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("0[0-7]_*.ipynb"))

# the second example of each notebook: other sizes, windows, queries, a short training
ALTERNATIVES: dict[str, dict] = {
    "00_overview": {"IMG_SIZE": 256, "WINDOW": 8},
    "01_patch_embedding": {"P": 2, "S": 160, "C": 32},
    "02_patch_merging": {"H": 6, "W": 10, "C": 8, "B": 3},
    "03_window_attention": {"H": 12, "W": 12, "M": 4, "nH": 2, "query_window": 4, "query_row": 1, "query_col": 2},
    "04_shifted_windows": {"H": 12, "W": 16, "M": 4, "query": [5, 9]},
    "05_relative_position_bias": {"M": 5, "nH": 2, "query": [3, 1], "key": [1, 2]},
    "06_whole_swin": {"size": 16, "M": 4, "img_size": 128, "query": [5, 13], "patch": [10, 20]},
    "07_train_cifar10": {"EPOCHS": 1, "TRAIN_IMAGES": 5000, "LR": 2e-3, "IMAGE_INDEX": 7, "PIXEL": [30, 6]},
}


def defaults(path: Path) -> dict:
    """The names and values assigned in the notebook's parameters cell."""
    cell = next(c for c in json.loads(path.read_text())["cells"] if "parameters" in c["metadata"].get("tags", []))
    values = {}
    for node in ast.parse("".join(cell["source"])).body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                names = target.elts if isinstance(target, ast.Tuple) else [target]
                for name in names:
                    values[name.id] = None
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                continue
            if len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                values[node.targets[0].id] = value
    return values


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_second_example_changes_values_of_the_parameters_cell(path):
    other = ALTERNATIVES[path.stem]
    given = defaults(path)
    assert other and set(other) <= set(given), f"{sorted(set(other) - set(given))} not in the parameters cell"
    assert any(given[k] != v for k, v in other.items()), "the second example is the first one"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_with_the_second_example(path, tmp_path):
    papermill = pytest.importorskip("papermill")
    out = tmp_path / path.name
    # raises PapermillExecutionError, with the cell and the traceback, on any exception
    # run in tmp_path: what a notebook writes (07's checkpoints/) stays out of notebooks/, where nbval runs it
    papermill.execute_notebook(str(path), str(out), parameters=ALTERNATIVES[path.stem], cwd=str(tmp_path),
                               kernel_name="python3", progress_bar=False, log_output=False)
    errors = [o for c in json.loads(out.read_text())["cells"] for o in c.get("outputs", [])
              if o["output_type"] == "error"]
    assert not errors
