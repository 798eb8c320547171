"""Figures for notebook 05 (relative position bias).

The bias tables drawn here are hand-made (:func:`example_bias_table`): trained tables need a
checkpoint download, and a table with a visible pattern per head makes the expansion from the
(2M-1) x (2M-1) table to the [M*M, M*M] bias easy to follow.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from einops import rearrange
from matplotlib.figure import Figure

from ..relative_position import relative_position_bias, relative_position_index

__all__ = ["example_bias_table", "plot_relative_position_index", "plot_relative_position_bias",
           "plot_resized_table"]


def example_bias_table(window_size: int = 7, num_heads: int = 3) -> torch.Tensor:
    """A hand-made relative position bias table with one readable pattern per head: [(2M-1)^2, nH].

    With (dy, dx) = position of the query minus position of the key, each in [-(M-1), M-1]:
    head 0 prefers near keys (-(|dy| + |dx|) / (M-1)), head 1 keys to the left of the query
    (dx / (M-1)), head 2 keys in the same row (-|dy| / (M-1)); further heads repeat the cycle.
    Rows are ordered like :func:`swin_edu.relative_position_index`: (dy + M-1) * (2M-1) + (dx + M-1).
    """
    M = window_size
    offsets = torch.arange(-(M - 1), M, dtype=torch.float32)
    dy, dx = torch.meshgrid(offsets, offsets, indexing="ij")  # [2M-1, 2M-1] each
    patterns = (-(dy.abs() + dx.abs()), dx, -dy.abs())
    heads = [patterns[h % 3] / max(M - 1, 1) for h in range(num_heads)]
    return rearrange(torch.stack(heads), "h a b -> (a b) h")


def _table_grid(table: torch.Tensor) -> torch.Tensor:
    """[(2M-1)^2, nH] -> [nH, 2M-1, 2M-1]: each head's table as an image, rows dy, columns dx."""
    side = round(table.shape[0] ** 0.5)
    return rearrange(table.detach(), "(a b) h -> h a b", a=side)


def _offset_axes(ax, side: int) -> None:
    """Label a (2M-1) x (2M-1) table image with offsets dy (rows) and dx (columns)."""
    M = (side + 1) // 2
    ticks = [0, M - 1, side - 1]
    ax.set_xticks(ticks, [f"{t - (M - 1)}" for t in ticks])
    ax.set_yticks(ticks, [f"{t - (M - 1)}" for t in ticks])
    ax.set_xlabel("dx")
    ax.set_ylabel("dy")


def plot_relative_position_index(window_size: int = 2) -> Figure:
    """The (2M-1) x (2M-1) table and the [M*M, M*M] index that reads it.

    Left: the table's entries, numbered as they are stored (row-major), with the offset
    (dy, dx) each one stands for. Right: :func:`swin_edu.relative_position_index`; entry
    [i, j] is the table row used by query token i and key token j. Numbers are written in the
    cells when M <= 4.
    """
    M = window_size
    side, N = 2 * M - 1, M * M
    index = relative_position_index(M)
    annotate = M <= 4
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.8), gridspec_kw={"width_ratios": [1, 1.25]})
    left.imshow(torch.arange(side * side).view(side, side).numpy(), cmap="viridis", interpolation="nearest")
    _offset_axes(left, side)
    left.set_title(f"the table: (2M-1)^2 = {side * side} rows,\none per offset (dy, dx)", fontsize=10)
    shown = right.imshow(index.numpy(), cmap="viridis", interpolation="nearest")
    right.set_xlabel("key token j")
    right.set_ylabel("query token i")
    right.set_title(f"relative_position_index({M}): [{N}, {N}],\n(dy+M-1)(2M-1) + (dx+M-1)", fontsize=10)
    if annotate:
        for a in range(side):
            for b in range(side):
                left.text(b, a, f"{a * side + b}\n({a - (M - 1)},{b - (M - 1)})", ha="center", va="center",
                          fontsize=8 if M <= 2 else 6, color="white")
        for i in range(N):
            for j in range(N):
                right.text(j, i, str(int(index[i, j])), ha="center", va="center", fontsize=9 if M <= 2 else 6,
                           color="white")
        right.set_xticks(range(N))
        right.set_yticks(range(N))
    else:
        fig.colorbar(shown, ax=right, fraction=0.046, pad=0.04)
    fig.suptitle(f"window M={M}: {N} tokens, {N * N} token pairs, {side * side} distinct offsets", fontsize=11)
    fig.tight_layout()
    return fig


def plot_relative_position_bias(table: torch.Tensor, window_size: int) -> Figure:
    """Each head's table ((2M-1) x (2M-1), top) and the [M*M, M*M] bias it expands to (bottom).

    Args:
        table: [(2M-1)^2, nH], e.g. a layer's ``relative_position_bias_table`` or
            :func:`example_bias_table`.
        window_size: M.
    """
    M = window_size
    bias = relative_position_bias(table.detach(), relative_position_index(M))  # [nH, N, N]
    grids = _table_grid(table)
    nH = grids.shape[0]
    fig, axes = plt.subplots(2, nH, figsize=(3.6 * nH, 7.2), squeeze=False,
                             gridspec_kw={"height_ratios": [1, 1.3]})
    for h in range(nH):
        lo, hi = grids[h].min().item(), grids[h].max().item()
        top, bottom = axes[0, h], axes[1, h]
        top.imshow(grids[h].numpy(), cmap="coolwarm", vmin=lo, vmax=hi, interpolation="nearest")
        top.plot(M - 1, M - 1, marker="+", color="k", markersize=10)  # offset (0, 0)
        _offset_axes(top, 2 * M - 1)
        top.set_title(f"head {h}: table, {2 * M - 1}x{2 * M - 1}", fontsize=10)
        bottom.imshow(bias[h].numpy(), cmap="coolwarm", vmin=lo, vmax=hi, interpolation="nearest")
        for k in range(M, M * M, M):  # block boundaries: one block per (query row, key row)
            bottom.axhline(k - 0.5, color="k", linewidth=0.3)
            bottom.axvline(k - 0.5, color="k", linewidth=0.3)
        bottom.set_xticks([])
        bottom.set_yticks([])
        bottom.set_xlabel("key token j")
        bottom.set_ylabel("query token i")
        bottom.set_title(f"head {h}: bias B[{h}], {M * M}x{M * M}", fontsize=10)
    fig.suptitle(f"relative position bias, M={M}: table[index[i, j], h] -> B[h, i, j] "
                 f"(same colour scale per column; blocks = pairs of window rows)", fontsize=11)
    fig.tight_layout()
    return fig


def plot_resized_table(table: torch.Tensor, resized: torch.Tensor) -> Figure:
    """Each head's table before (top) and after (bottom) resizing to a new window size.

    Args:
        table: [(2M-1)^2, nH], the original table.
        resized: [(2M'-1)^2, nH], the same table resized (e.g. bicubic, M=7 -> M'=12).
    """
    before, after = _table_grid(table), _table_grid(resized)
    nH = before.shape[0]
    fig, axes = plt.subplots(2, nH, figsize=(3.4 * nH, 7), squeeze=False)
    for h in range(nH):
        lo, hi = before[h].min().item(), before[h].max().item()
        for row, grid in enumerate((before, after)):
            ax = axes[row, h]
            ax.imshow(grid[h].numpy(), cmap="coolwarm", vmin=lo, vmax=hi, interpolation="nearest")
            _offset_axes(ax, grid.shape[-1])
            ax.set_title(f"head {h}: {grid.shape[-1]}x{grid.shape[-1]} (M={(grid.shape[-1] + 1) // 2})", fontsize=10)
    fig.suptitle(f"resizing the table: {tuple(table.shape)} -> {tuple(resized.shape)}", fontsize=11)
    fig.tight_layout()
    return fig


def _bicubic(table: torch.Tensor, window_size: int) -> torch.Tensor:
    """[(2M-1)^2, nH] -> [(2M'-1)^2, nH] for M' = window_size, as the official fine-tuning code does."""
    grid = _table_grid(table)[None]  # [1, nH, 2M-1, 2M-1]
    side = 2 * window_size - 1
    resized = F.interpolate(grid, size=(side, side), mode="bicubic", align_corners=False)
    return rearrange(resized[0], "h a b -> (a b) h")


def _resize_figure() -> Figure:
    """The table of notebook 05, section 6 (pattern + noise, seed 0), resized from M=7 to M=12."""
    noise = torch.randn(169, 3, generator=torch.Generator().manual_seed(0))
    table = example_bias_table(7, 3) + 0.1 * noise
    return plot_resized_table(table, _bicubic(table, 12))


#: figure file name -> function returning a matplotlib Figure
FIGURES: dict = {
    "relative_position_index.png": lambda: plot_relative_position_index(2),
    "relative_position_bias.png": lambda: plot_relative_position_bias(example_bias_table(7), 7),
    "relative_position_bias_resized.png": lambda: _resize_figure(),
}
