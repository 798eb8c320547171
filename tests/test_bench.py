"""The benchmark script runs (one tiny iteration); its figures are printed, never asserted."""
from swin_edu import bench


def test_bench_smoke(capsys):
    rows = bench.main(["--smoke", "--config", "cifar"])
    assert len(rows) == 1 and rows[0]["config"] == "cifar"
    assert all(v > 0 for v in rows[0]["train"] + rows[0]["infer"])
    assert "ratio" in capsys.readouterr().out


def test_bench_builds_identical_models():
    import torch

    ours, theirs = bench.build_pair("cifar", "cpu")
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(ours.eval()(x), theirs.eval()(x), atol=1e-5, rtol=0)
