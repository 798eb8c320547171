"""The figures of notebook 05 (relative position bias): they draw, with colour bars, and refuse wrong input."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

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
    table = position.example_bias_table(5, 4)
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
    table = position.example_bias_table(7, 3)
    fig = position.plot_resized_table(table, position._bicubic(table, 12))
    assert len(_colorbars(fig)) == 3
    plt.close(fig)


@pytest.mark.parametrize("M, query, head", [(2, (1, 0), 2), (7, (4, 2), 0), (9, (8, 8), 1)])
def test_query_figure_draws_the_rows_of_query_bias_row(M, query, head):
    table = position.example_bias_table(M, 3)
    index_row, bias_row = position.query_bias_row(table, M, query, head)
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
    fig = position.plot_relative_position_bias(position.example_bias_table(M, 2), M)
    tables = [ax for ax in fig.axes if ax.get_title().startswith("head") and "table" in ax.get_title()]
    assert len(tables) == 2
    for ax in tables:
        assert ax.get_title().endswith("+ marks offset (0, 0)")
        (plus,) = [line for line in ax.get_lines() if line.get_marker() == "+"]
        assert (plus.get_xdata()[0], plus.get_ydata()[0]) == (M - 1, M - 1)  # dx = dy = 0: the table's centre
    plt.close(fig)
