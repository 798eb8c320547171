"""scripts/gpu_run.sh on the CPU: the environment report, the bench step and the training step end to end
(with the tiny recipe on a fake CIFAR-10), and the message when carried data is missing."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from test_data import write_fake

from swin_edu.recipes import RECIPES

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "gpu_run.sh"


def run_step(step: str, out: Path, **env) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHON": sys.executable, "TQDM_DISABLE": "1", **env}
    return subprocess.run(["bash", str(SCRIPT), step, str(out)], env=env, capture_output=True, text=True,
                          timeout=600)


@pytest.mark.slow
def test_step0_reports_the_environment(tmp_path):
    result = run_step("0", tmp_path / "out", GPU_DATA=str(tmp_path))
    assert result.returncode == 0, result.stderr
    report = (tmp_path / "out" / "env.txt").read_text()
    assert f"torch {__import__('torch').__version__}" in report and "available False" in report
    for name in ("einops", "matplotlib", "tqdm", "timm"):
        assert f"{name:10s}" in report and f"{name:10s} MISSING" not in report


@pytest.mark.slow
def test_step1_runs_the_bench_and_writes_json(tmp_path):
    """The logits check, then every measurement skipped by a time limit of 0 (tests/test_bench.py runs them)."""
    out = tmp_path / "out"
    result = run_step("1", out, BENCH_ARGS="--device cpu --smoke --config cifar --time-limit 0",
                      TRAIN_ARGS="--device cpu --recipe tiny --epochs 1", SMOKE_IMAGES="64", GPU_DATA=str(tmp_path / "g"))
    assert "step 1 exit status: 0" in result.stdout, result.stdout[-2000:]
    # the smoke run of step 1b: random images, recorded as synthetic, never taken for a result
    assert "step 1b exit status: 0" in result.stdout, result.stdout[-2000:]
    smoke = json.loads((out / "smoke" / "run.json").read_text())
    assert smoke["synthetic"] and smoke["train_images"] == 64 and smoke["status"] == "finished"
    from swin_edu.runs import recorded_runs
    assert recorded_runs(out, device_type="cpu") == []
    bench = json.loads((out / "bench.json").read_text())
    assert bench["logits"]["cifar"]["same_argmax"] and [s["row"] for s in bench["skipped"]] == ["cifar batch 2"]
    assert "logits swin_edu - timm" in (out / "bench.log").read_text()


@pytest.mark.slow
def test_step2_trains_and_keeps_the_results_small(tmp_path):
    gpu_data = tmp_path / "gpu_data"
    write_fake(gpu_data / "built", n=64)  # as if build.py had run
    (gpu_data / "commit.txt").write_text("abc1234+local changes\n")  # what `make gpu-data` writes
    out = tmp_path / "out"
    result = run_step("2", out, GPU_DATA=str(gpu_data), TRAIN_ARGS="--recipe tiny --device cpu --epochs 1")
    assert "step 2 exit status: 0" in result.stdout, result.stdout[-3000:]
    assert sorted(p.name for p in out.iterdir()) == ["history.json", "learning_curves.png", "run.json", "train.log"]
    assert sorted(p.name for p in (gpu_data / "run").iterdir()) == ["checkpoint.pt", "weights.pt"]
    run = json.loads((out / "run.json").read_text())
    assert run["status"] == "finished" and run["epochs_done"] == 1 and run["recipe"] == "tiny"
    assert run["git_commit"] == "abc1234+local changes"  # the GPU machine's copy has no .git
    assert "already built" in (out / "train.log").read_text()


@pytest.mark.slow
@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="needs a machine without CUDA")
def test_steps_1_and_2_refuse_to_fall_back_to_the_cpu(tmp_path):
    """Without a usable GPU, steps 1 and 2 stop at once and say why (they used to measure and train
    on the CPU cores, recording a CPU run under the GPU recipe)."""
    gpu_data = tmp_path / "gpu_data"
    write_fake(gpu_data / "built", n=64)
    out = tmp_path / "out"
    bench = run_step("1", out, BENCH_ARGS="--smoke --config cifar")
    train = run_step("2", out, GPU_DATA=str(gpu_data), TRAIN_ARGS="--recipe tiny --epochs 1")
    for result, step in ((bench, 1), (train, 2)):
        assert f"step {step} exit status: 2" in result.stdout, result.stdout[-2000:]
        assert "torch.cuda.is_available() is False" in result.stdout + result.stderr
    assert not (out / "history.json").exists() and not (out / "bench.json").exists()


def test_step2_says_which_carried_parts_are_missing(tmp_path):
    gpu_data = tmp_path / "gpu_data"
    (gpu_data / "part1").mkdir(parents=True)
    (gpu_data / "build.py").write_text("")
    result = run_step("2", tmp_path / "out", GPU_DATA=str(gpu_data))
    assert result.returncode == 1
    assert "lacks part2 part3" in result.stdout and "given back between the calls" in result.stdout
    assert not (tmp_path / "out" / "history.json").exists()


def test_the_plan_fits_the_device_time_with_room_for_a_second_long_call():
    """The three calls at their hard stops, a machine start and step 2 a second time fit the 15 minutes; the
    recipe stops itself well before step 2's hard stop (data build, start and exit fit in between)."""
    result = subprocess.run(["bash", str(SCRIPT), "plan", "-"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout
    total, budget = map(int, re.search(r"step 2 twice: (\d+) s of (\d+) s", result.stdout).groups())
    assert total <= budget == 900
    train_timeout = int(re.search(r"call 3 \(step 2\): at most (\d+) s", result.stdout).group(1))
    assert RECIPES["gpu"].time_limit + 30 <= train_timeout
    slow = subprocess.run(["bash", str(SCRIPT), "plan", "-"], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "TRAIN_TIMEOUT": "400"})
    assert slow.returncode != 0  # a plan without room for a rerun is refused
