"""swin_edu.plotting.training: the figures of notebook 07 explain their own marks and colours."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.colors as mcolors  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from swin_edu.plotting.training import (CORRECT, MASKED, VISIBLE, WRONG, plot_attention_maps,  # noqa: E402
                                       plot_confusion_matrix, plot_learned_bias, plot_predictions,
                                       plot_token_windows)


def _maps():
    """Two heads on a 4x4 grid: weight only on the 2x2 top-left block (the rest ~e^-100 or 0)."""
    maps = torch.zeros(2, 4, 4)
    maps[:, :2, :2] = torch.tensor([[0.1, 0.2], [0.3, 0.4]])
    maps[:, 3, 3] = 4e-44  # a masked pair: above 0, below the threshold
    return maps


def test_attention_legend_names_the_star_the_query_token_and_the_outlines():
    image = torch.randint(0, 256, (3, 32, 32), dtype=torch.uint8)
    fig = plot_attention_maps(image, _maps(), (9, 3), "title")
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == ["query pixel (9, 3)", "its token (1, 0), the query", f"tokens that receive attention (> {VISIBLE:g})",
                      "grey: no attention (masked or outside)"]
    # the legend's marks are the figure's marks: a white star, a white and a cyan outline, grey
    star, query, support, grey = fig.legends[0].legend_handles
    assert mcolors.same_color(grey.get_facecolor(), MASKED)
    assert star.get_marker() == "*" and mcolors.same_color(star.get_color(), "white")
    assert mcolors.same_color(query.get_edgecolor(), "white") and mcolors.same_color(support.get_edgecolor(), "cyan")
    # every panel outlines the 4 tokens above the threshold in cyan (not the 4e-44 one) and the query in white
    for ax in [a for a in fig.axes if a.get_title() in ("image", "head 0", "head 1")]:
        cyan = [p for p in ax.patches if mcolors.same_color(p.get_edgecolor()[:3], "cyan")]
        white = [p for p in ax.patches if mcolors.same_color(p.get_edgecolor()[:3], "white")]
        assert len(cyan) == 4 and len(white) == 1
        assert white[0].get_xy() == (0 * 8 - 0.5, 1 * 8 - 0.5)  # token (1, 0) of a stride-8 grid
    bars = [a for a in fig.axes if a.get_ylabel() == "weight (light = large)"]
    assert len(bars) == 2  # one colour bar per head, and it says which end is large
    # light = large (magma, not reversed); the tokens without attention are grey (the colour map's "bad")
    heads = [a for a in fig.axes if a.get_title() == "head 0"][0]
    heat = heads.images[-1]
    assert heat.get_cmap().name.startswith("magma") and not heat.get_cmap().name.endswith("_r")
    assert mcolors.same_color(heat.get_cmap().get_bad()[:3], MASKED)
    assert heat.get_array().mask.sum() == 16 - 4  # 12 tokens without attention, the 4e-44 one among them
    plt.close(fig)


def test_predictions_legend_matches_the_title_colours():
    images = torch.randint(0, 256, (5, 3, 32, 32), dtype=torch.uint8)
    labels, predictions = [0, 1, 2, 3, 4], [0, 1, 9, 3, 7]
    fig = plot_predictions(images, labels, predictions, [f"c{k}" for k in range(10)], cols=3)
    titled = [ax for ax in fig.axes if ax.get_title()]
    colours = [ax.title.get_color() for ax in titled]
    assert colours == [CORRECT, CORRECT, WRONG, CORRECT, WRONG]
    texts = fig.legends[0].get_texts()
    assert [t.get_text() for t in texts] == ["title green: correct (3)", "title red: wrong (2)"]
    assert mcolors.same_color(texts[0].get_color(), CORRECT) and mcolors.same_color(texts[1].get_color(), WRONG)
    plt.close(fig)


def test_predictions_reject_mismatched_lengths():
    images = torch.zeros(3, 3, 8, 8, dtype=torch.uint8)
    with pytest.raises(ValueError, match=r"as many labels and predictions as images \(3\), got 2 and 3"):
        plot_predictions(images, [0, 1], [0, 1, 2], ["a", "b", "c"])


def test_learned_bias_colour_bars_say_what_colour_means():
    from swin_edu.plotting import plot_learned_bias
    fig = plot_learned_bias(torch.randn(3, 7, 7), "bias")
    labels = [ax.get_ylabel() for ax in fig.axes if ax.get_label() == "<colorbar>"]
    assert labels == ["bias added to the logit"] * 3
    plt.close(fig)


def test_learned_bias_axes_say_query_minus_key_and_light_is_large():
    bias = torch.zeros(2, 7, 7)
    bias[1, 4, 3] = 1.0  # head 1: Δ = (+1, 0), a key one row above the query
    fig = plot_learned_bias(bias, "bias")
    panels = [ax for ax in fig.axes if ax.get_title().startswith("head")]
    assert panels[0].get_xlabel() == "Δx = query - key" and panels[0].get_ylabel() == "Δy = query - key"
    image = panels[1].images[0]
    assert image.get_cmap().name == "viridis" and image.get_clim() == (0.0, 1.0)  # one scale for both heads
    assert image.get_array()[4, 3] == 1.0  # drawn as given: row M-1 + Δy, column M-1 + Δx
    assert [t.get_text() for t in panels[0].get_yticklabels()] == ["-3", "0", "3"]
    plt.close(fig)


def test_confusion_matrix_light_is_large():
    fig = plot_confusion_matrix(torch.tensor([[9, 1], [2, 8]]), ["a", "b"])
    image = fig.axes[0].images[0]
    assert image.get_cmap().name == "viridis"
    assert image.get_array()[0, 0] == 0.9
    plt.close(fig)


def _rectangles(ax):
    return {p.get_label(): (p.get_xy(), p.get_width(), p.get_height()) for p in ax.patches}


def test_token_windows_regular_and_shifted_window_of_the_query():
    image = torch.randint(0, 256, (3, 32, 32), dtype=torch.uint8)
    # 8x8 tokens of 4 pixels, M = 4, s = 2; pixel (14, 14) is token (3, 3)
    fig = plot_token_windows(image, (8, 8), 4, 2, (14, 14))
    boxes = _rectangles(fig.axes[0])
    assert boxes["its window in block 1 (W-MSA)"] == ((-0.5, -0.5), 16, 16)  # tokens 0-3
    assert boxes["its shifted window in block 2 (SW-MSA, s = 2)"] == ((7.5, 7.5), 16, 16)  # tokens 2-5
    assert boxes["the query token (3, 3)"] == ((11.5, 11.5), 4, 4)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "query pixel (14, 14)" in labels
    plt.close(fig)
    # the bottom-right token: its shifted window wraps around; drawn clipped to the image, tokens 6-7
    fig = plot_token_windows(image, (8, 8), 4, 2, (31, 31))
    assert _rectangles(fig.axes[0])["its shifted window in block 2 (SW-MSA, s = 2)"] == ((23.5, 23.5), 8, 8)
    plt.close(fig)
    # a top-left token (0, 0): tokens 0-1 (the rest of its shifted window wraps to the far side)
    fig = plot_token_windows(image, (8, 8), 4, 2, (0, 0))
    assert _rectangles(fig.axes[0])["its shifted window in block 2 (SW-MSA, s = 2)"] == ((-0.5, -0.5), 8, 8)
    plt.close(fig)
    with pytest.raises(ValueError, match="outside"):
        plot_token_windows(image, (8, 8), 4, 2, (32, 0))


def test_learned_bias_limits_share_one_scale_between_figures():
    """Notebook 07 draws blocks 1 and 2 with one colour scale: `limits` sets it for every head."""
    from swin_edu.plotting import plot_learned_bias
    fig = plot_learned_bias(torch.zeros(2, 7, 7), "bias", limits=(-2.0, 3.0))
    images = [ax.images[0] for ax in fig.axes if ax.get_title().startswith("head")]
    assert [im.get_clim() for im in images] == [(-2.0, 3.0)] * 2
    plt.close(fig)
