"""The figures of notebook 03: the window-partition title, the heads on one colour scale, the cost formulas,
the query token of the figures, the single-panel scope, the highlighted window and the marked map."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

import swin_edu as se  # noqa: E402
from swin_edu.analysis import query_token  # noqa: E402
from swin_edu.attention import msa_macs, wmsa_macs  # noqa: E402
from swin_edu.plotting import (plot_attention_cost, plot_attention_heads, plot_attention_scope,  # noqa: E402
                               plot_window_ids, plot_window_partition)


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
                     "(window k of image b at b·nW + k)")
    plt.close(fig)


@pytest.mark.parametrize("H, W, M", [(8, 8, 4), (8, 12, 4), (14, 21, 7), (6, 6, 3)])
def test_query_token_is_where_window_partition_puts_it(H, W, M):
    positions = torch.arange(H * W).view(1, H, W, 1)  # token number i*W + j
    windows = se.window_partition(positions, M)  # [nW, M, M, 1]
    for window in range(windows.shape[0]):
        for row in range(M):
            for col in range(M):
                i, j = query_token(H, W, M, window, row, col)
                assert i * W + j == windows[window, row, col, 0]


@pytest.mark.parametrize("args, message", [
    ((8, 12, 4, 6, 0, 0), r"window must be in \[0, 5\]"),
    ((8, 12, 4, -1, 0, 0), r"window must be in \[0, 5\]"),
    ((8, 12, 4, 2, 4, 0), r"row and col must be in \[0, 3\]"),
    ((8, 12, 4, 2, 0, -1), r"row and col must be in \[0, 3\]"),
    ((8, 10, 4, 0, 0, 0), "multiples of the window size"),
])
def test_query_token_rejects_what_does_not_exist(args, message):
    with pytest.raises(ValueError, match=message):
        query_token(*args)


def _colours(ax):
    return [tuple(p.get_facecolor()) for p in ax.patches]


@pytest.mark.parametrize("H, W, M, query", [(12, 12, 4, (5, 6)), (8, 12, 4, (7, 8))])
def test_scope_alone_shows_the_query_window(H, W, M, query):
    fig = plot_attention_scope(H, W, M, query=query, msa=False)
    assert len(fig.axes) == 1
    colours = _colours(fig.axes[0])
    blue = colours.count(matplotlib.colors.to_rgba("#8fbce6"))
    grey = colours.count(matplotlib.colors.to_rgba("#eeeeee"))
    assert (blue, grey) == (M * M, H * W - M * M)  # the query's cell is blue under its red square
    assert f"the {M * M} tokens of its window" in fig.axes[0].get_title()
    plt.close(fig)
    fig = plot_attention_scope(H, W, M, query=query)
    assert len(fig.axes) == 2
    plt.close(fig)
    with pytest.raises(ValueError, match="query must be a token"):
        plot_attention_scope(H, W, M, query=(H, 0))


def test_window_ids_highlight_frames_one_window():
    fig = plot_window_ids(8, 12, 4, highlight=5)
    frames = [p for p in fig.axes[0].patches if p.get_edgecolor() == matplotlib.colors.to_rgba("red")]
    assert len(frames) == 1 and frames[0].get_xy() == (8, 4) and frames[0].get_width() == 4
    # thicker than the window grid (lw 1.5) and haloed in white, so that it stands out from yellow lines
    assert frames[0].get_linewidth() > 1.5 and frames[0].get_path_effects()
    assert "window 5 framed in red" in fig.axes[0].get_title()
    plt.close(fig)
    with pytest.raises(ValueError, match=r"highlight must be a window id in \[0, 5\]"):
        plot_window_ids(8, 12, 4, highlight=6)


def test_cost_plot_marks_the_given_map():
    fig = plot_attention_cost(C=32, M=4, max_side=48, mark=(8, 12), mark_label="our map")
    for ax in fig.axes:
        assert " 8x12\n (our map)" in [t.get_text() for t in ax.texts]
        assert any(list(line.get_xdata()) == [96, 96] for line in ax.lines)
    plt.close(fig)
    fig = plot_attention_cost(mark=None)
    assert all(not ax.texts for ax in fig.axes)
    plt.close(fig)
