"""python -m swin_edu.train: the output folder, resume, the time limit, errors; on a small fake CIFAR-10."""
import dataclasses
import json
import subprocess
import sys
import urllib.error
from pathlib import Path

import pytest
import torch

from swin_edu import data, load_weights, runs, swin_cifar, train
from swin_edu.recipes import RECIPES

from test_data import write_fake

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def fake_root(tmp_path_factory) -> Path:
    """cifar-10-batches-py with 64 images per file: 320 training, 64 test images."""
    root = tmp_path_factory.mktemp("cifar")
    write_fake(root, n=64)
    return root


@pytest.mark.slow
def test_help_reads_well():
    out = subprocess.run([sys.executable, "-m", "swin_edu.train", "--help"], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    for word in ("--recipe", "--out", "--resume", "--time-limit", "--weights-dir", "recipes:", "gpu", "example"):
        assert word in out, word


@pytest.mark.slow
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


@pytest.mark.slow
def test_weights_dir_and_time_limit(fake_root, tmp_path):
    out, heavy = tmp_path / "results", tmp_path / "heavy"
    info = train.main(["--recipe", "tiny", "--data", str(fake_root), "--out", str(out), "--weights-dir", str(heavy),
                       "--epochs", "100000", "--time-limit", "0.001"])
    assert sorted(p.name for p in out.iterdir()) == ["history.json", "learning_curves.png", "run.json"]
    assert sorted(p.name for p in heavy.iterdir()) == ["checkpoint.pt", "weights.pt"]
    # the budget is at least 1 s, which no machine fills with 100,000 epochs: however fast the epochs
    # are, the run ends early, either stopped by the guard or with its schedule fitted after epoch 2
    assert 1 <= info["epochs_done"] < 100_000
    if info["epochs_done"] >= 2:
        assert info["epochs_planned"] < 100_000
    if info["epochs_done"] < info["epochs_planned"]:
        assert info["status"] == "stopped by the time limit"
    assert len(json.loads((out / "history.json").read_text())["train_loss"]) == info["epochs_done"]


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


def _write_run(folder: Path, device_type: str, date: str, test_acc: list[float]) -> None:
    folder.mkdir(parents=True)
    run = {"recipe": "gpu", "date": date, "device": "Fake GPU" if device_type == "cuda" else "Fake CPU",
           "device_type": device_type, "torch": "2.x", "test_acc": test_acc[-1], "test_set": "10,000-image test set",
           "epochs_done": len(test_acc), "seconds": {"total": 450.0, "data": 3.0, "compile": 50.0, "training": 380.0,
                                                     "evaluation": 17.0, "images_per_second": 23000.0}}
    history = {"test_acc": test_acc, "epoch_time": [2.0] * len(test_acc)}
    (folder / "run.json").write_text(json.dumps(run))
    (folder / "history.json").write_text(json.dumps(history))


def test_recorded_runs_and_the_comparison_figure_with_a_fake_results_folder(tmp_path):
    """Notebook 07's 'Recorded GPU run' when results/ holds GPU runs: the newest CUDA run, its line, the figure."""
    import matplotlib
    matplotlib.use("Agg")
    from swin_edu.plotting import plot_run_comparison

    assert runs.recorded_runs(tmp_path) == []  # nothing recorded: the notebook prints that and draws nothing
    _write_run(tmp_path / "cpu-2026-11-28", "cpu", "2026-11-28T05:30:31+00:00", [0.4, 0.67])
    assert runs.recorded_runs(tmp_path) == []  # a CPU run is not a GPU run
    _write_run(tmp_path / "gpu-2026-12-02-h100", "cuda", "2026-12-02T10:00:00+00:00", [0.5, 0.9, 0.94])
    _write_run(tmp_path / "gpu-2026-12-01-h100", "cuda", "2026-12-01T10:00:00+00:00", [0.5, 0.93])
    (tmp_path / "incomplete").mkdir()
    (tmp_path / "incomplete" / "run.json").write_text(json.dumps({"device_type": "cuda", "date": "2027"}))  # no history
    recorded = runs.recorded_runs(tmp_path)
    assert [run["date"][:10] for run, _ in recorded] == ["2026-12-01", "2026-12-02"]  # oldest first
    run, history = recorded[-1]
    assert history["test_acc"] == [0.5, 0.9, 0.94]
    line = runs.describe_run(run)
    assert line.startswith("recorded CUDA run of 2026-12-02 on Fake GPU") and "94.0% top-1" in line
    assert "7.5 min = data 3 s + compile 50 s + training 380 s + evaluation 17 s; 23,000 img/s" in line
    fig = plot_run_comparison({"this notebook (cpu)": {"test_acc": [0.4, 0.67], "epoch_time": [14.0, 14.0]},
                               "GPU, 2026-12-02": history})
    ax_epoch, ax_time = fig.axes
    assert [line.get_label() for line in ax_epoch.lines] == ["this notebook (cpu): 67.0%", "GPU, 2026-12-02: 94.0%"]
    assert list(ax_time.lines[1].get_xdata()) == pytest.approx([2 / 60, 4 / 60, 6 / 60])


@pytest.mark.slow
def test_the_gpu_recipe_as_it_runs_on_cuda_smoke_tested_on_the_cpu(tmp_path, monkeypatch):
    """The gpu recipe end to end as step 1b runs it (random images), with what CUDA would switch on forced on the
    CPU: its model and augmentation, torch.compile (through AOTAutograd, the 'aot_eager' backend: the same graph
    capture without C++ code generation), bf16 autocast and the fused attention."""
    from swin_edu import training
    from swin_edu.attention import WindowAttention

    real_compile = torch.compile
    monkeypatch.setattr(torch, "compile", lambda model, **kw: real_compile(model, backend="aot_eager"))
    monkeypatch.setattr(training, "resolve_bf16", lambda device, bf16=True: bool(bf16))
    dtypes = []

    def cuda_like_model(**kwargs):
        model = swin_cifar(**kwargs)
        for module in model.modules():
            if isinstance(module, WindowAttention):
                module.fused = True  # the default on CUDA
        model.head.register_forward_hook(lambda module, args, out: dtypes.append(out.dtype))
        return model

    monkeypatch.setattr(train, "swin_cifar", cuda_like_model)
    recipe = dataclasses.replace(RECIPES["gpu"], epochs=1, time_limit=None, batch_size=32)  # a CPU-sized batch
    info = train.run(recipe, tmp_path / "out", name="gpu", device="cpu", synthetic=64,
                     weights_dir=tmp_path / "w", progress=False)
    assert info["compiled"] and info["compile_error"] is None and info["synthetic"]
    assert info["epochs_done"] == 1 and info["train_images"] == 64
    assert set(dtypes) == {torch.bfloat16}
    assert info["settings"]["augment"] == dataclasses.asdict(RECIPES["gpu"].augment)
    assert info["settings"]["model"] == RECIPES["gpu"].model and info["settings"]["compile"]
