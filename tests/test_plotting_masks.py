"""The figures of notebook 04 and the seed note's region numbering they rely on."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from swin_edu import region_map  # noqa: E402
from swin_edu.plotting import masks  # noqa: E402


@pytest.mark.parametrize("H, W, M", [(8, 8, 4), (56, 56, 7), (12, 16, 4), (14, 7, 7)])
def test_seed_numbering_is_the_code_labels_rolled_back(H, W, M):
    s = M // 2
    code = region_map(H, W, M, s)
    i, j = code // 3, code % 3
    as_seed = 3 * ((i + 1) % 3) + (j + 1) % 3
    assert torch.equal(torch.roll(as_seed, (s, s), (0, 1)), masks.seed_region_map(H, W, M, s))


def test_top_right_window_holds_seed_regions_5_and_3():
    seed = torch.roll(masks.seed_region_map(8, 8, 4, 2), (-2, -2), (0, 1))
    assert seed[:4, 4:].unique().tolist() == [3, 5]
    assert region_map(8, 8, 4, 2)[:4, 4:].unique().tolist() == [1, 2]


@pytest.mark.parametrize("name", sorted(masks.FIGURES))
def test_registered_figures_draw(name):
    fig = masks.FIGURES[name]()
    assert isinstance(fig, Figure)
    plt.close(fig)


def test_weights_and_reach_figures_draw():
    weights = torch.full((16, 16), 1 / 16)
    labels = torch.tensor([5, 5, 3, 3] * 4)
    for fig in (masks.plot_window_weights(weights, labels),
                masks.plot_reach(torch.ones(2, 8, 8, dtype=torch.bool), ["a", "b"], 4, (3, 3))):
        assert isinstance(fig, Figure)
        plt.close(fig)
