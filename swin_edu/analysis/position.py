"""Relative position bias tables (notebook 05): a hand-made table, what one query token reads, resizing.

The hand-made table (:func:`example_bias_table`) stands in for a trained one: trained tables need a
checkpoint download, and a table with a visible pattern per head makes the expansion from the
(2M-1) x (2M-1) table to the [M*M, M*M] bias easy to follow.

Offsets are always Δ = query − key: (Δy, Δx) = (y_i − y_j, x_i − x_j) for query token i and key token j.
A table is [(2M-1)^2, nH], its rows ordered like :func:`swin_edu.relative_position_index`:
(Δy + M-1) * (2M-1) + (Δx + M-1).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from einops import rearrange

from ..relative_position import relative_position_index
from ..windows import check_window_size

__all__ = ["example_bias_table", "check_bias_table", "bias_table_grid", "same_offset_pair", "query_bias_row",
           "resize_bias_table"]


def example_bias_table(window_size: int = 7, num_heads: int = 3) -> torch.Tensor:
    """A hand-made relative position bias table with one readable pattern per head: [(2M-1)^2, nH].

    With (Δy, Δx) = position of the query minus position of the key, each in [-(M-1), M-1]:
    head 0 prefers near keys (-(|Δy| + |Δx|) / (M-1)), head 1 keys to the left of the query
    (Δx / (M-1)), head 2 keys in the same row (-|Δy| / (M-1)); further heads repeat the cycle.
    Entries (one per offset) are ordered like :func:`swin_edu.relative_position_index`:
    (Δy + M-1) * (2M-1) + (Δx + M-1).
    """
    check_window_size(window_size)
    if num_heads < 1:
        raise ValueError(f"num_heads must be >= 1, got {num_heads}")
    M = window_size
    offsets = torch.arange(-(M - 1), M, dtype=torch.float32)
    dy, dx = torch.meshgrid(offsets, offsets, indexing="ij")  # [2M-1, 2M-1] each
    patterns = (-(dy.abs() + dx.abs()), dx, -dy.abs())
    heads = [patterns[h % 3] / max(M - 1, 1) for h in range(num_heads)]
    return rearrange(torch.stack(heads), "h a b -> (a b) h")


def check_bias_table(table: torch.Tensor, window_size: int) -> None:
    """Raise ValueError unless ``table`` is [(2M-1)^2, nH] for M = ``window_size`` >= 1."""
    check_window_size(window_size)
    rows = (2 * window_size - 1) ** 2
    if table.dim() != 2 or table.shape[0] != rows:
        raise ValueError(f"expected a table [(2M-1)^2, nH] = [{rows}, nH] for M={window_size}, "
                         f"got shape {tuple(table.shape)}")


def bias_table_grid(table: torch.Tensor) -> torch.Tensor:
    """Each head's table as an image: [(2M-1)^2, nH] -> [nH, 2M-1, 2M-1], rows Δy, columns Δx (detached).

    Raises ValueError unless the table has (2M-1)^2 rows for some M >= 1 (an odd square).
    """
    side = round(table.shape[0] ** 0.5) if table.dim() == 2 else 0
    if table.dim() != 2 or side * side != table.shape[0] or side % 2 == 0:
        raise ValueError(f"expected a table [(2M-1)^2, nH] (an odd square of rows), got shape {tuple(table.shape)}")
    return rearrange(table.detach(), "(a b) h -> h a b", a=side)


def _check_token(window_size: int, token: tuple[int, int], name: str) -> None:
    """Raise ValueError unless ``token`` = (row, col) lies inside the M x M window."""
    row, col = token
    if not (0 <= row < window_size and 0 <= col < window_size):
        raise ValueError(f"the {name} (row, col) must lie inside the {window_size}x{window_size} window, "
                         f"each in [0, {window_size - 1}], got {tuple(token)}")


def same_offset_pair(window_size: int, query: tuple[int, int],
                     key: tuple[int, int]) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """Another (query, key) pair of the window with the same offset Δ = query − key.

    The pair moved by the translation (ty, tx) that keeps both tokens inside the M x M window, shares
    no token with the given pair if any such translation exists, and moves it farthest (|ty| + |tx|;
    ties: the first in row-major order of (ty, tx)). Returns (query', key'), each (row, col), or None
    when the pair cannot move: |Δy| = |Δx| = M-1, the opposite corners.
    """
    M = window_size
    check_window_size(M)
    _check_token(M, query, "query")
    _check_token(M, key, "key")
    (qy, qx), (ky, kx) = query, key
    moves = [(ty, tx) for ty in range(-min(qy, ky), M - max(qy, ky)) for tx in range(-min(qx, kx), M - max(qx, kx))
             if (ty, tx) != (0, 0)]
    if not moves:
        return None
    shares = lambda t: bool({(qy + t[0], qx + t[1]), (ky + t[0], kx + t[1])} & {tuple(query), tuple(key)})  # noqa: E731
    ty, tx = max(moves, key=lambda t: (not shares(t), abs(t[0]) + abs(t[1])))  # max keeps the first of ties
    return (qy + ty, qx + tx), (ky + ty, kx + tx)


def query_bias_row(table: torch.Tensor, window_size: int, query: tuple[int, int],
                   head: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """What one query token reads: its line of the index and of one head's bias, as windows.

    Args:
        table: [(2M-1)^2, nH] relative position bias table.
        window_size: M.
        query: (row, col) of the query token inside the window, each in [0, M-1].
        head: which head's bias, in [0, nH-1].

    Returns:
        (index_row, bias_row), both [M, M]: entry [y, x] belongs to the key token at row y, column x
        of the window (token j = y*M + x). ``index_row`` (int64) is the table entry that the pair
        (query, key) reads, (Δy + M-1)(2M-1) + (Δx + M-1) with (Δy, Δx) = query − key; ``bias_row``
        is ``table[index_row, head]``. They equal row ``row*M + col`` of
        :func:`swin_edu.relative_position_index` and of head ``head`` of
        :func:`swin_edu.relative_position_bias`, reshaped to [M, M].
    """
    M = window_size
    check_bias_table(table, M)
    _check_token(M, query, "query")
    row, col = query
    if not 0 <= head < table.shape[1]:
        raise ValueError(f"head must be in [0, {table.shape[1] - 1}] for a table with {table.shape[1]} heads, "
                         f"got {head}")
    index_row = rearrange(relative_position_index(M)[row * M + col], "(y x) -> y x", y=M)  # keys as a window
    return index_row, table.detach()[index_row, head]


def resize_bias_table(table: torch.Tensor, window_size: int) -> torch.Tensor:
    """A table resized to a new window size, as the official fine-tuning code does (bicubic, each head's
    (2M-1) x (2M-1) grid separately, ``align_corners=False``): [(2M-1)^2, nH] -> [(2M'-1)^2, nH] for
    M' = ``window_size`` (detached).

    Raises ValueError unless ``table`` has (2M-1)^2 rows for some M and M' >= 1.
    """
    check_window_size(window_size)
    grid = bias_table_grid(table)[None]  # [1, nH, 2M-1, 2M-1]
    side = 2 * window_size - 1
    resized = F.interpolate(grid, size=(side, side), mode="bicubic", align_corners=False)
    return rearrange(resized[0], "h a b -> (a b) h")
