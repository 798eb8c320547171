"""The benchmark script runs (one tiny iteration); its timings are printed, never asserted."""
import json

import pytest
import torch

from swin_edu import bench


@pytest.mark.slow
def test_bench_smoke(capsys, tmp_path):
    result = bench.main(["--smoke", "--config", "cifar", "--profile", "--json", str(tmp_path / "b.json")])
    rows = result["rows"]
    assert len(rows) == 1 and rows[0]["config"] == "cifar"
    assert all(v > 0 for mode in ("train", "infer") for per_model in rows[0][mode] for v in per_model)
    out = capsys.readouterr().out
    assert "ratio" in out and "matmul" in out and "saved for backward" in out and "logits" in out
    written = json.loads((tmp_path / "b.json").read_text())
    assert written["rows"][0]["train"] == [list(r) for r in rows[0]["train"]]
    assert written["logits"]["cifar"]["fp32"] < 1e-4 and written["logits"]["cifar"]["same_argmax"]
    # the augmentation's cost a batch, and its share of a training step of the same batch
    assert written["augmentation"]["ms"] > 0 and written["augmentation"]["ops"] > 100
    assert 0 < written["rows"][0]["augmentation_share"] < 1 and "of the two" in out


@pytest.mark.slow
def test_bench_time_limit_skips_and_still_writes(tmp_path, capsys):
    result = bench.main(["--smoke", "--config", "cifar", "--time-limit", "0", "--json", str(tmp_path / "b.json")])
    assert result["rows"] == [] and [s["row"] for s in result["skipped"]] == ["cifar batch 2"]
    assert "time limit" in result["skipped"][0]["why"]  # why it was skipped, in the file too
    assert "skipped" in capsys.readouterr().out
    assert json.loads((tmp_path / "b.json").read_text())["logits"]["cifar"]["bf16"] is None  # CPU: no bf16


@pytest.mark.slow
def test_a_row_is_in_the_file_from_its_start(tmp_path, monkeypatch):
    """A hard timeout may kill the bench inside a row: the file must already show the row as started,
    then each mode as it is measured (it used to be written only after the whole row)."""
    path = tmp_path / "b.json"
    seen = []

    def fake_throughput(config, device, mode, compiled, batch, iters, rounds):
        seen.append([row["status"] for row in json.loads(path.read_text())["rows"]])
        return {"img_s": ([1.0], [1.0]), "warmup_s": (0.0, 0.0)}

    monkeypatch.setattr(bench, "throughput", fake_throughput)
    monkeypatch.setattr(bench, "peak_memory", lambda *args: 1.0)
    bench.main(["--smoke", "--config", "cifar", "--json", str(path)])
    assert seen == [["started"], ["train measured"]]
    assert json.loads(path.read_text())["rows"][0]["status"] == "done"


@pytest.mark.slow
def test_logits_difference_is_small():
    diff = bench.logits_difference("cifar", "cpu", batch=2)
    assert diff["fp32"] < 1e-4 and diff["same_argmax"] and diff["bf16"] is None


@pytest.mark.slow
def test_bench_builds_identical_models():
    ours, theirs = bench.build_pair("cifar", "cpu")
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(ours.eval()(x), theirs.eval()(x), atol=1e-5, rtol=0)


@pytest.mark.slow
def test_swin_edu_saves_no_more_activations_than_timm():
    """Memory of a training step is mostly what autograd saves for backward: counted exactly."""
    ours, theirs = bench.build_pair("cifar", "cpu")
    x, y = torch.randn(4, 3, 32, 32), torch.zeros(4, dtype=torch.long)
    saved = [bench.saved_activations_mib(m, x, y) for m in (ours, theirs)]
    assert 0 < saved[0] <= saved[1], saved


def test_saved_activations_counts_what_a_layer_adds():
    """A GELU after the linear layer saves its input: 16 x 8 float32 more, nothing else."""
    torch.manual_seed(0)
    x, y = torch.randn(16, 8), torch.zeros(16, dtype=torch.long)
    lin = torch.nn.Linear(8, 8)
    base = bench.saved_activations_mib(torch.nn.Sequential(lin), x, y)
    more = bench.saved_activations_mib(torch.nn.Sequential(lin, torch.nn.GELU()), x, y)
    assert (more - base) * 2**20 == 16 * 8 * 4
