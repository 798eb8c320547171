"""python -m swin_edu.train: the output folder, resume, the time limit, errors; on a small fake CIFAR-10."""
import json
import subprocess
import sys
import urllib.error
from pathlib import Path

import pytest
import torch

from swin_edu import data, load_weights, swin_cifar, train
from swin_edu.recipes import RECIPES

from test_data import write_fake

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def fake_root(tmp_path_factory) -> Path:
    """cifar-10-batches-py with 64 images per file: 320 training, 64 test images."""
    root = tmp_path_factory.mktemp("cifar")
    write_fake(root, n=64)
    return root


def test_help_reads_well():
    out = subprocess.run([sys.executable, "-m", "swin_edu.train", "--help"], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    for word in ("--recipe", "--out", "--resume", "--time-limit", "--weights-dir", "recipes:", "gpu", "example"):
        assert word in out, word


def test_tiny_run_writes_the_output_folder(fake_root, tmp_path, capsys):
    out = tmp_path / "run"
    info = train.main(["--recipe", "tiny", "--data", str(fake_root), "--out", str(out), "--device", "cpu"])
    assert sorted(p.name for p in out.iterdir()) == ["checkpoint.pt", "history.json", "learning_curves.png",
                                                     "run.json", "weights.pt"]
    history = json.loads((out / "history.json").read_text())
    assert len(history["train_loss"]) == 2 and {"lr", "train_time", "eval_time", "test_acc"} <= set(history)
    run = json.loads((out / "run.json").read_text())
    assert run == json.loads(json.dumps(info))
    assert run["recipe"] == "tiny" and run["status"] == "finished" and run["epochs_done"] == 2
    assert run["train_images"] == 256 and run["test_set"] == "64-image test subset"
    assert run["torch"] == torch.__version__ and run["parameters"] > 0 and run["test_acc"] == history["test_acc"][-1]
    assert set(run["seconds"]) == {"data", "compile", "training", "evaluation", "images_per_second", "total"}
    assert run["settings"]["augment"]["trivial_augment"] is True  # the recipe as it ran
    model = swin_cifar(**RECIPES["tiny"].model)
    assert load_weights(model, out / "weights.pt") == "swin_edu"
    assert "tiny:" in capsys.readouterr().out  # the summary line

    # resuming a finished run trains no further; --weights-dir keeps the heavy files apart
    again = train.main(["--recipe", "tiny", "--data", str(fake_root), "--out", str(out), "--resume"])
    assert again["epochs_done"] == 2 and json.loads((out / "history.json").read_text()) == history


def test_weights_dir_and_time_limit(fake_root, tmp_path):
    out, heavy = tmp_path / "results", tmp_path / "heavy"
    info = train.main(["--recipe", "tiny", "--data", str(fake_root), "--out", str(out), "--weights-dir", str(heavy),
                       "--epochs", "200", "--time-limit", "0.001"])
    assert sorted(p.name for p in out.iterdir()) == ["history.json", "learning_curves.png", "run.json"]
    assert sorted(p.name for p in heavy.iterdir()) == ["checkpoint.pt", "weights.pt"]
    assert info["epochs_done"] < 200  # a 1-second budget (the least fit is given) fits few epochs
    assert info["status"] in ("finished", "stopped by the time limit")


def test_missing_data_is_a_clear_error(tmp_path, monkeypatch, capsys):
    def offline(url, dst, **kwargs):
        raise urllib.error.URLError("no network")
    monkeypatch.setattr(data, "download_url_to_file", offline)
    with pytest.raises(SystemExit) as info:
        train.main(["--recipe", "tiny", "--data", str(tmp_path / "nothing"), "--out", str(tmp_path / "o")])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "data_batch_1" in err and "SWIN_EDU_DATA" in err
    with pytest.raises(SystemExit):
        train.main(["--recipe", "tiny", "--out", str(tmp_path / "o"), "--epochs", "0"])


def test_recipes_are_shared_with_the_notebook():
    notebook = (ROOT / "notebooks" / "07_train_cifar10.ipynb").read_text()
    assert "RECIPES[" in notebook and "dict(model=" not in notebook  # no copy of the numbers
    gpu = RECIPES["gpu"]
    assert gpu.compile and gpu.time_limit and gpu.warmup_epochs >= 2  # the schedule is fitted in the warm-up
    assert RECIPES["cpu"].time_limit is None  # the notebook's CPU run is deterministic
