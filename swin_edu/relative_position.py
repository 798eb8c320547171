"""Relative position bias: one learned scalar per head for every 2-D offset inside a window.

Two tokens of an M x M window differ by (dy, dx) with dy, dx in [-(M-1), M-1]: (2M-1)^2
possible offsets. Each head owns a table of (2M-1)^2 biases; the index below says which
table entry every pair (i, j) of the M*M tokens reads.
"""
from __future__ import annotations

import torch

from .windows import check_window_size

__all__ = ["relative_position_index", "relative_position_bias"]


def relative_position_index(window_size: int) -> torch.Tensor:
    """Table index for every token pair of a window: [M*M, M*M] int64.

    For query token i = (y_i, x_i) and key token j = (y_j, x_j), the offset is query minus key:
    dy = y_i - y_j and dx = x_i - x_j are shifted by M-1 to be non-negative, then flattened as
    (dy + M-1) * (2M-1) + (dx + M-1).
    """
    check_window_size(window_size)
    M = window_size
    ys, xs = torch.meshgrid(torch.arange(M), torch.arange(M), indexing="ij")
    coords = torch.stack([ys.flatten(), xs.flatten()])  # [2, N]
    rel = coords[:, :, None] - coords[:, None, :]  # [2, N, N]: (dy, dx) of query i minus key j
    dy, dx = rel[0] + (M - 1), rel[1] + (M - 1)  # both in [0, 2M-2]
    return dy * (2 * M - 1) + dx


def relative_position_bias(table: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """Expand a bias table to one bias matrix per head: [(2M-1)^2, nH] -> [nH, N, N].

    ``index`` is :func:`relative_position_index` (shape [N, N]); entry [h, i, j] of the result
    is ``table[index[i, j], h]``.
    """
    N = index.shape[0]
    return table[index.flatten()].view(N, N, -1).permute(2, 0, 1)
