"""The figures of notebook 03: the window-partition title, the heads on one colour scale, the cost formulas."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from swin_edu.plotting import msa_macs, plot_attention_heads, plot_window_partition, wmsa_macs  # noqa: E402


@pytest.mark.parametrize("with_image", [False, True])
def test_heads_share_one_colour_scale(with_image):
    weights = torch.randn(3, 16, 16).softmax(-1)
    weights[1] *= 0.5  # a head with smaller weights must not get its own stretched scale
    image = torch.rand(3, 8, 8) if with_image else None
    fig = plot_attention_heads(weights, 5, image=image)
    maps = [im for ax in fig.axes if ax.get_title().startswith("head") for im in ax.get_images()]
    assert len(maps) == 6
    assert {im.get_clim() for im in maps} == {(weights.min().item(), weights.max().item())}
    assert sum(ax.get_label() == "<colorbar>" for ax in fig.axes) == 1
    plt.close(fig)


@pytest.mark.parametrize("weights, query, message", [
    (torch.rand(3, 16, 15), 0, r"\[nH, N, N\]"),
    (torch.rand(3, 15, 15), 0, "not the square"),
    (torch.rand(3, 16, 16), 16, r"in \[0, 15\]"),
])
def test_heads_reject_wrong_input(weights, query, message):
    with pytest.raises(ValueError, match=message):
        plot_attention_heads(weights, query)


@pytest.mark.parametrize("with_image", [False, True])
def test_heads_legend_says_what_red_marks(with_image):
    image = torch.rand(3, 8, 8) if with_image else None
    fig = plot_attention_heads(torch.randn(2, 16, 16).softmax(-1), 5, image=image)
    texts = [t.get_text() for legend in fig.legends for t in legend.get_texts()]
    assert texts == ["red line (top): the row of query 5",
                     f"red square (bottom{', pixels' if with_image else ''}): query token 5"]
    plt.close(fig)


def test_cost_formulas():
    assert msa_macs(56, 56, 96) == 4 * 3136 * 96**2 + 2 * 3136**2 * 96
    assert wmsa_macs(56, 56, 96, 7) == 4 * 3136 * 96**2 + 2 * 49 * 3136 * 96
    assert msa_macs(7, 7, 96) == wmsa_macs(7, 7, 96, 7)  # one window: the same cost


@pytest.mark.parametrize("H, W, M", [(8, 8, 4), (8, 12, 4)])
def test_partition_title_gives_the_output_shape(H, W, M):
    fig = plot_window_partition(H, W, M)
    title = fig.subfigs[1]._suptitle.get_text()
    nW = (H // M) * (W // M)
    assert title == (f"window_partition -> [B·nW, M, M, C]\n= [{nW}, {M}, {M}, 1] (B = C = 1)\n"
                     "(windows of image b at b*nW + w)")
    plt.close(fig)
