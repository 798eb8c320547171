"""swin_edu.plotting.training: the figures of notebook 07 explain their own marks and colours."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.colors as mcolors  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from swin_edu.plotting.training import CORRECT, VISIBLE, WRONG, plot_attention_maps, plot_predictions  # noqa: E402


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
    assert labels == ["query pixel (9, 3)", "its token (1, 0), the query", f"tokens that receive attention (> {VISIBLE:g})"]
    # the legend's marks are the figure's marks: a white star, a white and a cyan outline
    star, query, support = fig.legends[0].legend_handles
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
