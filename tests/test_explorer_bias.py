"""The relative-position explorer of notebook 05: its logic (query_bias_row) and its widget."""
import matplotlib

matplotlib.use("Agg")
import pytest  # noqa: E402
import torch  # noqa: E402

from swin_edu import relative_position_bias, relative_position_index  # noqa: E402
from swin_edu.explorers import explore_bias  # noqa: E402
from swin_edu.analysis import example_bias_table, query_bias_row  # noqa: E402


@pytest.mark.parametrize("M", [1, 2, 3, 7, 9])
def test_query_rows_are_rows_of_the_index_and_of_the_bias(M):
    table = torch.randn((2 * M - 1) ** 2, 4)
    index = relative_position_index(M)
    bias = relative_position_bias(table, index)  # [nH, N, N]
    for row in range(M):
        for col in range(M):
            q = row * M + col
            for head in (0, 3):
                index_row, bias_row = query_bias_row(table, M, (row, col), head)
                assert index_row.shape == bias_row.shape == (M, M)
                assert torch.equal(index_row, index[q].view(M, M))
                assert torch.equal(bias_row, bias[head, q].view(M, M))


def test_the_query_reads_offset_zero_and_opposite_corners_read_opposite_ends():
    M = 5
    index_row, _ = query_bias_row(example_bias_table(M, 3), M, (2, 3))
    centre = (M - 1) * (2 * M - 1) + (M - 1)  # offset (0, 0)
    assert index_row[2, 3] == centre
    top_left, _ = query_bias_row(example_bias_table(M, 3), M, (0, 0))
    assert top_left[M - 1, M - 1] == 0  # key bottom-right: offset (-(M-1), -(M-1)), the first row
    bottom_right, _ = query_bias_row(example_bias_table(M, 3), M, (M - 1, M - 1))
    assert bottom_right[0, 0] == (2 * M - 1) ** 2 - 1  # the last row


@pytest.mark.parametrize("args, message", [
    ((torch.zeros(169, 3), 7, (7, 0), 0), "inside the 7x7 window"),
    ((torch.zeros(169, 3), 7, (0, -1), 0), "inside the 7x7 window"),
    ((torch.zeros(169, 3), 7, (0, 0), 3), "head must be in"),
    ((torch.zeros(168, 3), 7, (0, 0), 0), r"\[169, nH\]"),
    ((torch.zeros(169, 3), 0, (0, 0), 0), "window_size must be >= 1"),
])
def test_query_bias_row_rejects_wrong_input(args, message):
    with pytest.raises(ValueError, match=message):
        query_bias_row(*args)


def test_explorer_redraws_and_clamps_the_query_when_the_window_shrinks():
    explorer = explore_bias(window_size=7, query=(6, 5), head=0)
    first = explorer.image.value
    assert first[:8] == b"\x89PNG\r\n\x1a\n"
    explorer.controls["head"].value = 1
    assert explorer.image.value != first
    second = explorer.image.value
    explorer.controls["window_size"].value = 3  # the query (6, 5) is outside a 3x3 window
    assert (explorer.controls["row"].value, explorer.controls["col"].value) == (2, 2)
    assert explorer.controls["row"].max == explorer.controls["col"].max == 2
    assert explorer.status.value == ""  # drawn, no error
    assert explorer.image.value != second
    explorer.controls["window_size"].value = 9  # growing keeps the query, widens the range
    assert (explorer.controls["row"].value, explorer.controls["col"].value) == (2, 2)
    assert explorer.controls["row"].max == 8


def test_explorer_static_output_and_bad_start_values():
    explorer = explore_bias()
    bundle = explorer._repr_mimebundle_()
    assert "image/png" in bundle and "window_size=7" in bundle["text/plain"]
    with pytest.raises(ValueError, match="window_size must be in"):
        explore_bias(window_size=10)
    with pytest.raises(ValueError, match="inside the 4x4 window"):
        explore_bias(window_size=4, query=(4, 0))
    with pytest.raises(ValueError, match="head must be in"):
        explore_bias(head=3)
