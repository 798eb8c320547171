"""The figures of notebook 05 (relative position bias): they draw, with colour bars, and refuse wrong input."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from swin_edu.analysis import example_bias_table, query_bias_row, resize_bias_table, same_offset_pair  # noqa: E402
from swin_edu.plotting import position  # noqa: E402


def _colorbars(fig):
    return [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]


@pytest.mark.parametrize("M", [1, 2, 4, 7])
def test_index_figure_has_one_shared_colour_scale(M):
    fig = position.plot_relative_position_index(M)
    images = [im for ax in fig.axes for im in ax.get_images()]
    assert len(images) == 2 and len(_colorbars(fig)) == 1
    assert {im.get_clim() for im in images} == {(0, max((2 * M - 1) ** 2 - 1, 1))}  # one scale
    plt.close(fig)


def test_bias_figure_has_a_colour_bar_per_head_and_the_table_range():
    table = example_bias_table(5, 4)
    fig = position.plot_relative_position_bias(table, 5)
    assert len(_colorbars(fig)) == 4
    for h in range(4):
        column = [ax for ax in fig.axes if ax.get_title().startswith(f"head {h}:")]
        clims = {im.get_clim() for ax in column for im in ax.get_images()}
        assert clims == {(table[:, h].min().item(), table[:, h].max().item())}
    plt.close(fig)
    with pytest.raises(ValueError, match=r"\[121, nH\]"):
        position.plot_relative_position_bias(table, 6)


def test_resized_figure_has_a_colour_bar_per_head():
    table = example_bias_table(7, 3)
    fig = position.plot_resized_table(table, resize_bias_table(table, 12))
    assert len(_colorbars(fig)) == 3
    plt.close(fig)


@pytest.mark.parametrize("M, query, head", [(2, (1, 0), 2), (7, (4, 2), 0), (9, (8, 8), 1)])
def test_query_figure_draws_the_rows_of_query_bias_row(M, query, head):
    table = example_bias_table(M, 3)
    index_row, bias_row = query_bias_row(table, M, query, head)
    fig = position.plot_query_bias(table, M, query, head)
    images = [im for ax in fig.axes for im in ax.get_images()]
    assert len(images) == 2 and len(_colorbars(fig)) == 2
    assert torch.equal(torch.as_tensor(images[0].get_array()), index_row)
    assert torch.equal(torch.as_tensor(images[1].get_array()), bias_row)
    assert images[1].get_clim() == (table[:, head].min().item(), table[:, head].max().item())
    plt.close(fig)


@pytest.mark.parametrize("name", sorted(position.FIGURES))
def test_registered_figures_draw(name):
    fig = position.FIGURES[name]()
    assert _colorbars(fig)
    plt.close(fig)


@pytest.mark.parametrize("M", [2, 7])
def test_bias_figure_marks_offset_zero_and_says_so(M):
    fig = position.plot_relative_position_bias(example_bias_table(M, 2), M)
    tables = [ax for ax in fig.axes if ax.get_title().startswith("head") and "table" in ax.get_title()]
    assert len(tables) == 2
    for ax in tables:
        assert ax.get_title().endswith("+ marks offset (0, 0)")
        (plus,) = [line for line in ax.get_lines() if line.get_marker() == "+"]
        assert (plus.get_xdata()[0], plus.get_ydata()[0]) == (M - 1, M - 1)  # dx = dy = 0: the table's centre
    plt.close(fig)


@pytest.mark.parametrize("M, query, key", [(3, (1, 2), (0, 1)), (5, (3, 1), (1, 2)), (9, (4, 4), (0, 8)),
                                           (2, (1, 1), (1, 1))])
def test_same_offset_figure_draws_two_pairs_and_the_entry_they_read(M, query, key):
    fig = position.plot_same_offset(M, query, key)
    window, table = fig.axes
    assert len([t for t in window.texts if getattr(t, "arrow_patch", None) is not None]) == (2 if query != key else 0)  # key -> query
    dy, dx = query[0] - key[0], query[1] - key[1]
    title = fig._suptitle.get_text()
    assert f"Δ = query − key = ({dy}, {dx}) → one table entry → the same bias for both pairs" in title
    marked = [t.get_position() for t in table.texts if t.get_text() == "Δ"]
    assert marked == [(dx + M - 1, dy + M - 1)]  # the cell of Δ in the (2M-1) x (2M-1) grid of offsets
    labels = {t.get_text().split("\n")[-1] for t in window.texts if "\n" in t.get_text()}
    assert {"q1", "k1", "q2", "k2"} <= {part for label in labels for part in label.split("/")}
    plt.close(fig)


def test_same_offset_figure_with_the_only_pair_of_its_offset():
    fig = position.plot_same_offset(3, (2, 2), (0, 0))
    assert "the only pair with this offset" in fig.axes[0].get_title()
    plt.close(fig)


def test_same_offset_pair_moves_the_pair_and_refuses_tokens_outside():
    assert same_offset_pair(3, (1, 2), (0, 1)) == ((2, 1), (1, 0))
    assert same_offset_pair(3, (2, 2), (0, 0)) is None  # opposite corners: no other pair
    (q, k) = same_offset_pair(9, (4, 4), (0, 8))
    assert {q, k}.isdisjoint({(4, 4), (0, 8)})  # shares no token with the given pair when it can
    with pytest.raises(ValueError, match="the query .* inside the 3x3 window"):
        same_offset_pair(3, (3, 0), (0, 0))
    with pytest.raises(ValueError, match="the key .* inside the 3x3 window"):
        same_offset_pair(3, (0, 0), (0, -1))
    with pytest.raises(ValueError, match="window_size must be >= 1"):
        position.plot_same_offset(0, (0, 0), (0, 0))


def test_bias_figures_use_viridis_light_is_large():
    table = example_bias_table(4, 2)
    figures = [position.plot_relative_position_bias(table, 4), position.plot_query_bias(table, 4, (1, 2), 1),
               position.plot_resized_table(table, resize_bias_table(table, 6))]
    for fig in figures:
        assert {im.get_cmap().name for ax in fig.axes for im in ax.get_images()} == {"viridis"}
        plt.close(fig)


def test_offset_labels_say_query_minus_key():
    fig = position.plot_relative_position_index(3)
    assert fig.axes[0].get_xlabel() == "Δx = x_query − x_key" and fig.axes[0].get_ylabel() == "Δy = y_query − y_key"
    plt.close(fig)
    fig = position.plot_query_bias(example_bias_table(3, 1), 3, (0, 0))
    assert "offset (Δy, Δx) = query − key" in fig.axes[0].get_title()
    plt.close(fig)
