"""Explorer for notebook 05: what one query token of a window reads from the relative position bias."""
from __future__ import annotations

import ipywidgets as widgets
from matplotlib.figure import Figure

from ..analysis.position import example_bias_table
from ..plotting.position import plot_query_bias
from ._widget import Explorer, slider

__all__ = ["explore_bias", "draw_query_bias", "clamp_query"]

#: the window sizes the explorer offers
WINDOW_SIZES = (2, 9)
#: heads of the hand-made table drawn (:func:`swin_edu.analysis.example_bias_table`)
NUM_HEADS = 3


def draw_query_bias(window_size: int, row: int, col: int, head: int) -> Figure:
    """The explorer's figure: :func:`swin_edu.plotting.plot_query_bias` on the hand-made table
    ``example_bias_table(window_size, 3)`` for the query (row, col) and one head."""
    table = example_bias_table(window_size, NUM_HEADS)  # [(2M-1)^2, 3]
    return plot_query_bias(table, window_size, (row, col), head)


def clamp_query(controls: dict[str, widgets.ValueWidget]) -> None:
    """Keep the query inside the window: row and col range over 0..M-1 (a smaller M clamps them)."""
    last = controls["window_size"].value - 1
    for name in ("row", "col"):
        controls[name].max = last  # ipywidgets lowers the value with the bound when it exceeds it


def explore_bias(window_size: int = 7, query: tuple[int, int] = (4, 2), head: int = 0) -> Explorer:
    """Sliders for the window size M (2..9), the query's row and column, and the head.

    Redraws the query's window (offsets Δ = query − key to every key), the table entries it reads
    (its line of the relative position index) and its bias, as M x M images
    (:func:`swin_edu.plotting.plot_query_bias`).
    """
    lo, hi = WINDOW_SIZES
    if not lo <= window_size <= hi:
        raise ValueError(f"window_size must be in [{lo}, {hi}], got {window_size}")
    row, col = query
    if not (0 <= row < window_size and 0 <= col < window_size):
        raise ValueError(f"the query (row, col) must lie inside the {window_size}x{window_size} window, "
                         f"got {tuple(query)}")
    if not 0 <= head < NUM_HEADS:
        raise ValueError(f"head must be in [0, {NUM_HEADS - 1}], got {head}")
    controls = {
        "window_size": slider("window M", window_size, lo, hi),
        "row": slider("query row", row, 0, window_size - 1),
        "col": slider("query col", col, 0, window_size - 1),
        "head": slider("head", head, 0, NUM_HEADS - 1),
    }
    return Explorer(draw_query_bias, controls, "relative position bias: what one query reads", link=clamp_query)
