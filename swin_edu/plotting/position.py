"""Figures for notebook 05 (relative position bias).

The bias tables drawn here are hand-made (:func:`swin_edu.analysis.example_bias_table`); what one query
reads and the resized table are computed in :mod:`swin_edu.analysis.position`.

Offsets are always Δ = query − key: (Δy, Δx) = (y_i − y_j, x_i − x_j) for query token i and key token j.
Colour scales: light = large (viridis).
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure

from ..analysis.position import (bias_table_grid, check_bias_table, example_bias_table, query_bias_row,
                                 resize_bias_table, same_offset_pair)
from ..relative_position import relative_position_bias, relative_position_index
from ..windows import check_window_size

__all__ = ["plot_same_offset", "plot_relative_position_index", "plot_relative_position_bias", "plot_resized_table",
           "plot_query_bias"]

QUERY_COLOUR, KEY_COLOUR = "#e6550d", "#3182bd"  # one colour per meaning: query orange, key blue



def _window_axes(ax, M: int, xlabel: str, ylabel: str) -> None:
    """An M x M window's axes: one unit per token, row 0 at the top, a tick per row and column."""
    ax.set_xlim(-0.5, M - 0.5)
    ax.set_ylim(M - 0.5, -0.5)
    ax.set_aspect("equal")
    ax.set_xticks(range(M))
    ax.set_yticks(range(M))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)

def plot_same_offset(window_size: int, query: tuple[int, int], key: tuple[int, int]) -> Figure:
    """Two (query, key) pairs with the same offset Δ = query − key read the same table entry.

    Left: the M x M window (token numbers in the cells), the pair (query, key) and the same pair moved
    (:func:`swin_edu.analysis.same_offset_pair`); queries orange, keys blue (purple: a token in both roles), an arrow
    from each key to its query (the arrow is Δ). Right: the table's (2M-1) x (2M-1) offsets; the cell
    of Δ, the one entry both pairs read, is dark and marked Δ (its number comes later, with the index).
    When the pair cannot move (opposite corners), only the one pair is drawn and the titles say so.
    """
    M = window_size
    other = same_offset_pair(M, query, key)
    pairs = [(tuple(query), tuple(key))] + ([other] if other else [])
    dy, dx = query[0] - key[0], query[1] - key[1]
    side = 2 * M - 1
    size = min(11, 70 // M)
    fig, (win, tab) = plt.subplots(1, 2, figsize=(10.5, 4.8), layout="constrained",
                                   gridspec_kw={"width_ratios": [1, 1.15]})
    roles: dict[tuple[int, int], list[str]] = {}  # token -> its roles, e.g. ["q1"] or ["q1", "k2"]
    for n, (q, k) in enumerate(pairs, start=1):
        roles.setdefault(q, []).append(f"q{n}")
        roles.setdefault(k, []).append(f"k{n}")
    for y in range(M):
        for x in range(M):
            label = "/".join(roles.get((y, x), []))
            kinds = {r[0] for r in roles.get((y, x), [])}
            fc = {"": "#eeeeee", "q": QUERY_COLOUR, "k": KEY_COLOUR}.get("".join(kinds), "#756bb1")  # purple: both
            win.add_patch(plt.Rectangle((x - 0.5, y - 0.5), 1, 1, fc=fc, ec="white", lw=2))
            text = f"{y * M + x}\n{label}" if label else str(y * M + x)
            win.text(x, y, text, ha="center", va="center", fontsize=size, color="white" if label else "#555555")
    for q, k in pairs:
        if q != k:
            win.annotate("", xy=(q[1], q[0]), xytext=(k[1], k[0]),
                         arrowprops=dict(arrowstyle="-|>", color="black", lw=2, shrinkA=12, shrinkB=12))
    _window_axes(win, M, "column x", "row y")
    moved = "the pair and the same pair moved" if other else "the only pair with this offset"
    win.set_title(f"window {M}x{M}: {moved}\nqueries orange, keys blue, arrow key → query = Δ", fontsize=10)
    for a in range(side):
        for b in range(side):
            hit = (a, b) == (dy + M - 1, dx + M - 1)
            tab.add_patch(plt.Rectangle((b - 0.5, a - 0.5), 1, 1, fc="#444444" if hit else "#eeeeee",
                                        ec="white", lw=1.5))
    tab.text(dx + M - 1, dy + M - 1, "Δ", ha="center", va="center", fontsize=min(12, 60 // side + 6),
             color="white")
    tab.set_xlim(-0.5, side - 0.5)
    tab.set_ylim(side - 0.5, -0.5)
    tab.set_aspect("equal")
    _offset_axes(tab, side)
    tab.set_title(f"the table: one entry per offset, {side}x{side} = {side * side} entries\n"
                  f"{'both pairs read' if other else 'the pair reads'} the entry of Δ = ({dy}, {dx})", fontsize=10)
    pairs_word = "for both pairs" if other else "for the pair"
    fig.suptitle(f"Δ = query − key = ({dy}, {dx}) → one table entry → the same bias {pairs_word}, in each head",
                 fontsize=11)
    return fig


def _offset_axes(ax, side: int) -> None:
    """Label a (2M-1) x (2M-1) table image with offsets Δy (rows) and Δx (columns), Δ = query − key."""
    M = (side + 1) // 2
    ticks = [0, M - 1, side - 1]
    ax.set_xticks(ticks, [f"{t - (M - 1)}" for t in ticks])
    ax.set_yticks(ticks, [f"{t - (M - 1)}" for t in ticks])
    ax.set_xlabel("Δx = x_query − x_key")
    ax.set_ylabel("Δy = y_query − y_key")


def plot_relative_position_index(window_size: int = 2) -> Figure:
    """The (2M-1) x (2M-1) entries of the table (one per offset) and the [M*M, M*M] index that reads them.

    Left: the table's entries, numbered as they are stored (row-major over (Δy, Δx)); the colour is the
    entry number r, not a learned value (:func:`plot_relative_position_bias` draws the values). Right:
    :func:`swin_edu.relative_position_index`; cell [i, j] is the table entry read by query token i
    and key token j. Both panels share one colour scale (colour bar on the right), so a cell of the
    index has the colour of the table entry it reads. Numbers are written in the cells when M <= 4.
    """
    M = window_size
    check_window_size(M)
    side, N = 2 * M - 1, M * M
    index = relative_position_index(M)
    annotate = M <= 4
    scale = dict(cmap="viridis", vmin=0, vmax=max(side * side - 1, 1), interpolation="nearest")  # M=1: 1 entry
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.8), layout="constrained",
                                      gridspec_kw={"width_ratios": [1, 1.25]})
    left.imshow(torch.arange(side * side).view(side, side).numpy(), **scale)
    _offset_axes(left, side)
    left.set_title(f"the table's entries: (2M-1)^2 = {side * side},\none per offset (Δy, Δx); colour = entry number",
                   fontsize=10)
    shown = right.imshow(index.numpy(), **scale)
    right.set_xlabel("key token j")
    right.set_ylabel("query token i")
    right.set_title(f"relative_position_index({M}): [{N}, {N}],\n(Δy+M-1)(2M-1) + (Δx+M-1) = the entry read",
                    fontsize=10)
    if annotate:
        for a in range(side):
            for b in range(side):
                left.text(b, a, f"{a * side + b}\n({a - (M - 1)},{b - (M - 1)})", ha="center", va="center",
                          fontsize=8 if M <= 2 else 6, color=_text_colour(a * side + b, 0, side * side - 1))
        for i in range(N):
            for j in range(N):
                right.text(j, i, str(int(index[i, j])), ha="center", va="center", fontsize=9 if M <= 2 else 6,
                           color=_text_colour(int(index[i, j]), 0, side * side - 1))
        right.set_xticks(range(N))
        right.set_yticks(range(N))
    fig.colorbar(shown, ax=[left, right], fraction=0.03, pad=0.02, label="table entry (both panels)")
    fig.suptitle(f"window M={M}: {N} tokens, {N * N} token pairs, {side * side} distinct offsets", fontsize=11)
    return fig


def _scale(values: torch.Tensor) -> dict:
    """imshow arguments for bias values: viridis from their minimum (dark) to their maximum (light)."""
    lo, hi = values.min().item(), values.max().item()
    return dict(cmap="viridis", vmin=lo, vmax=max(hi, lo + 1e-12), interpolation="nearest")


def _text_colour(value: float, lo: float, hi: float) -> str:
    """Text colour readable on a viridis cell: black on the light (large) part, white on the dark."""
    return "black" if value - lo > 0.6 * max(hi - lo, 1e-12) else "white"


def plot_relative_position_bias(table: torch.Tensor, window_size: int) -> Figure:
    """Each head's table ((2M-1) x (2M-1), top) and the [M*M, M*M] bias it expands to (bottom).

    Args:
        table: [(2M-1)^2, nH], e.g. a layer's ``relative_position_bias_table`` or
            :func:`swin_edu.analysis.example_bias_table`.
        window_size: M.

    One colour scale per head (column), from the head's smallest to its largest value, shown by the
    column's colour bar; the bias only repeats the table's values, so both panels of a column share it.
    A black + marks offset (0, 0) in each table (entry (M-1)(2M-1) + M-1, read by the bias's diagonal),
    as each table's title says.
    """
    M = window_size
    check_bias_table(table, M)
    bias = relative_position_bias(table.detach(), relative_position_index(M))  # [nH, N, N]
    grids = bias_table_grid(table)
    nH = grids.shape[0]
    fig, axes = plt.subplots(2, nH, figsize=(3.9 * nH, 7.2), squeeze=False, layout="constrained",
                             gridspec_kw={"height_ratios": [1, 1.3]})
    for h in range(nH):
        scale = _scale(grids[h])
        top, bottom = axes[0, h], axes[1, h]
        top.imshow(grids[h].numpy(), **scale)
        top.plot(M - 1, M - 1, marker="+", color="k", markersize=10)  # offset (0, 0)
        _offset_axes(top, 2 * M - 1)
        top.set_title(f"head {h}: table, {2 * M - 1}x{2 * M - 1}\n+ marks offset (0, 0)", fontsize=10)
        shown = bottom.imshow(bias[h].numpy(), **scale)
        for k in range(M, M * M, M):  # block boundaries: one block per (query row, key row)
            bottom.axhline(k - 0.5, color="k", linewidth=0.3)
            bottom.axvline(k - 0.5, color="k", linewidth=0.3)
        bottom.set_xticks([])
        bottom.set_yticks([])
        bottom.set_xlabel("key token j")
        bottom.set_ylabel("query token i")
        bottom.set_title(f"head {h}: bias[{h}], {M * M}x{M * M}", fontsize=10)
        fig.colorbar(shown, ax=axes[:, h].tolist(), location="bottom", fraction=0.04, pad=0.02,
                     label=f"bias of head {h}")
    fig.suptitle(f"relative position bias, M={M}: bias[h, i, j] = table[index[i, j], h]\n"
                 f"(one colour scale per head, see its colour bar; blocks = pairs of window rows)", fontsize=11)
    return fig


def plot_resized_table(table: torch.Tensor, resized: torch.Tensor) -> Figure:
    """Each head's table before (top) and after (bottom) resizing to a new window size.

    Args:
        table: [(2M-1)^2, nH], the original table.
        resized: [(2M'-1)^2, nH], the same table resized (e.g. bicubic, M=7 -> M'=12).

    One colour scale per head (column), spanning both tables, shown by the column's colour bar.
    """
    before, after = bias_table_grid(table), bias_table_grid(resized)
    nH = before.shape[0]
    if after.shape[0] != nH:
        raise ValueError(f"table and resized need the same number of heads, got {nH} and {after.shape[0]}")
    fig, axes = plt.subplots(2, nH, figsize=(3.6 * nH, 7.4), squeeze=False, layout="constrained")
    for h in range(nH):
        scale = _scale(torch.cat([before[h].flatten(), after[h].flatten()]))
        for row, grid in enumerate((before, after)):
            ax = axes[row, h]
            shown = ax.imshow(grid[h].numpy(), **scale)
            _offset_axes(ax, grid.shape[-1])
            ax.set_title(f"head {h}: {grid.shape[-1]}x{grid.shape[-1]} (M={(grid.shape[-1] + 1) // 2})", fontsize=10)
        fig.colorbar(shown, ax=axes[:, h].tolist(), location="bottom", fraction=0.04, pad=0.02,
                     label=f"bias of head {h}")
    fig.suptitle(f"resizing the table: {tuple(table.shape)} -> {tuple(resized.shape)} "
                 f"(one colour scale per head, see its colour bar)", fontsize=11)
    return fig


def plot_query_bias(table: torch.Tensor, window_size: int, query: tuple[int, int], head: int = 0) -> Figure:
    """One query token of an M x M window: its offsets to every key, the table entries they read, the bias.

    Left: the window, every key token j with its offset (Δy, Δx) = query − key; the query in orange.
    Middle: the query's line of the relative position index as an [M, M] image (the same colours as
    :func:`plot_relative_position_index`, colour bar = table entry). Right: the query's line of the bias of one
    head, ``table[index, head]``, on a colour scale that spans the head's whole table (so colours
    compare between queries), with its colour bar. See :func:`swin_edu.analysis.query_bias_row`.
    """
    M = window_size
    index_row, bias_row = query_bias_row(table, M, query, head)
    row, col = query
    side = 2 * M - 1
    size = min(11, 60 // M)  # text size that fits the cells, up to 9 x 9
    fig, (win, idx, bia) = plt.subplots(1, 3, figsize=(14, 4.8), layout="constrained")
    for y in range(M):
        for x in range(M):
            is_query = (y, x) == (row, col)
            win.add_patch(plt.Rectangle((x - 0.5, y - 0.5), 1, 1, fc=QUERY_COLOUR if is_query else "#e8eef6",
                                        ec="white", lw=1.5))
            win.text(x, y, f"{y * M + x}\n({row - y},{col - x})", ha="center", va="center", fontsize=size,
                     color="white" if is_query else "black")
    _window_axes(win, M, "key column x", "key row y")
    win.set_title(f"window {M}x{M}: query ({row}, {col}) = token {row * M + col} (orange)\n"
                  f"cells: key token j, offset (Δy, Δx) = query − key", fontsize=10)
    shown = idx.imshow(index_row.numpy(), cmap="viridis", vmin=0, vmax=max(side * side - 1, 1),
                       interpolation="nearest")
    for y in range(M):
        for x in range(M):
            idx.text(x, y, str(int(index_row[y, x])), ha="center", va="center", fontsize=size,
                     color=_text_colour(int(index_row[y, x]), 0, side * side - 1))
    idx.set_title(f"relative_position_index({M})[{row * M + col}] as {M}x{M}:\nthe table entry each key reads",
                  fontsize=10)
    fig.colorbar(shown, ax=idx, fraction=0.046, pad=0.04, label="table entry")
    scale = _scale(table.detach()[:, head])
    shown = bia.imshow(bias_row.numpy(), **scale)
    for y in range(M):
        for x in range(M):
            bia.text(x, y, f"{bias_row[y, x].item() + 0.0:.2f}", ha="center", va="center", fontsize=size,
                     color=_text_colour(bias_row[y, x].item(), scale["vmin"], scale["vmax"]))
    bia.set_title(f"bias[{head}, {row * M + col}] as {M}x{M} = table[index, {head}]\n"
                  "(colour scale: the head's whole table)", fontsize=10)
    fig.colorbar(shown, ax=bia, fraction=0.046, pad=0.04, label=f"bias of head {head}")
    for ax in (idx, bia):
        ax.set_xticks(range(M))
        ax.set_yticks(range(M))
        ax.set_xlabel("key column x")
        ax.set_ylabel("key row y")
        ax.add_patch(plt.Rectangle((col - 0.5, row - 0.5), 1, 1, fill=False, ec=QUERY_COLOUR, lw=2.5))
    fig.suptitle(f"what query token {row * M + col} reads: offset Δ = query − key → table entry "
                 f"(Δy+{M - 1})*{side} + (Δx+{M - 1}) → bias", fontsize=11)
    return fig


def _resize_figure() -> Figure:
    """The table of notebook 05, Going deeper (pattern + noise, seed 0), resized from M=7 to M=12."""
    noise = torch.randn(169, 3, generator=torch.Generator().manual_seed(0))
    table = example_bias_table(7, 3) + 0.1 * noise
    return plot_resized_table(table, resize_bias_table(table, 12))


#: figure file name -> function returning a matplotlib Figure
FIGURES: dict = {
    "relative_position_index.png": lambda: plot_relative_position_index(2),
    "relative_position_bias.png": lambda: plot_relative_position_bias(example_bias_table(7), 7),
    "relative_position_bias_resized.png": lambda: _resize_figure(),
}
