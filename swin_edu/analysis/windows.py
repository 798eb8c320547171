"""Windows on the map, counted as ``window_partition`` counts them (row-major over the window grid):
where a token of a window sits on the map (notebook 03), and how the text names a window (notebook 04)."""
from __future__ import annotations

from ..windows import check_window

__all__ = ["query_token", "window_name"]


def query_token(H: int, W: int, M: int, window: int, row: int, col: int) -> tuple[int, int]:
    """Place (i, j) on the [H, W] map of the token at (``row``, ``col``) inside window ``window``.

    Windows are numbered row-major, as ``window_partition`` orders them: i = (window // (W/M)) * M + row,
    j = (window % (W/M)) * M + col. Raises ValueError for a map that M does not divide, or for a window or
    a position that does not exist.
    """
    check_window(H, W, M)
    nW = (H // M) * (W // M)
    if not 0 <= window < nW:
        raise ValueError(f"window must be in [0, {nW - 1}]: a {H}x{W} map has nW = {nW} windows of {M}x{M}, "
                         f"got {window}")
    if not (0 <= row < M and 0 <= col < M):
        raise ValueError(f"row and col must be in [0, {M - 1}] inside a {M}x{M} window, got ({row}, {col})")
    return (window // (W // M)) * M + row, (window % (W // M)) * M + col


def window_name(H: int, W: int, window_size: int, window: int) -> str:
    """How the text and the figures name a window of an [H, W] map: "the top-right window (window 1)".

    A corner of the window grid is named by its place and its row-major index; any other window by its
    index and its (row, column) in the window grid, e.g. "window 5 (window row 1, column 1)".
    Raises ValueError for a map that M = ``window_size`` does not divide, or a window that does not exist.
    """
    check_window(H, W, window_size)
    rows, cols = H // window_size, W // window_size
    if not 0 <= window < rows * cols:
        raise ValueError(f"window must be in [0, {rows * cols - 1}] for a {H}x{W} map with M={window_size}, "
                         f"got {window}")
    row, col = divmod(window, cols)
    vertical = "top" if row == 0 else "bottom" if row == rows - 1 else ""
    horizontal = "left" if col == 0 else "right" if col == cols - 1 else ""
    if vertical and horizontal:
        return f"the {vertical}-{horizontal} window (window {window})"
    return f"window {window} (window row {row}, column {col})"
