"""Figures for notebook 03: window partition, the reach of MSA versus W-MSA, the cost of both,
and the attention weights of one window."""
from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import torch
from einops import rearrange
from matplotlib import patheffects
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from ..analysis.patches import sample_image
from ..attention import msa_macs, wmsa_macs  # the cost formulas that plot_attention_cost draws
from ..windows import check_window

__all__ = ["plot_window_partition", "plot_window_ids", "plot_attention_scope", "plot_attention_cost",
           "plot_attention_heads"]


def _window_color(k: int):
    """A light colour per window id (9 colours in turn: neighbours on a grid up to 8 wide differ)."""
    return plt.get_cmap("Pastel1")(k % 9)


def _frame(ax, H: int, W: int) -> None:
    ax.set_xlim(0, W)
    ax.set_ylim(H, 0)
    ax.set_aspect("equal")
    ax.axis("off")


def _window_lines(ax, H: int, W: int, M: int, **style) -> None:
    for r in range(0, H + 1, M):
        ax.plot([0, W], [r, r], **style)
    for c in range(0, W + 1, M):
        ax.plot([c, c], [0, H], **style)


def plot_window_partition(H: int = 8, W: int = 8, M: int = 4) -> Figure:
    """``window_partition`` on a small numbered map (at most 16x16 tokens).

    Left: the [H, W] map, tokens numbered row-major, one colour per window, window ids in the
    corners. Right: the output [B*nW, M, M, C] of ``window_partition`` for one image with one
    channel (B = C = 1), windows in batch order with the same token numbers.
    """
    if H > 16 or W > 16 or H % M or W % M:
        raise ValueError(f"draw at most a 16x16 map cut into whole windows, got {H}x{W} with M={M}")
    nh, nw = H // M, W // M
    tokens = torch.arange(H * W).view(H, W)
    fig = plt.figure(figsize=(9, 5))
    left, right = fig.subfigures(1, 2, width_ratios=(1, 0.6))
    ax = left.subplots()
    fs = 10 if W <= 8 else 7
    for r in range(nh):
        for c in range(nw):
            ax.text(c * M + M / 2, r * M + M / 2, f"w{r * nw + c}", ha="center", va="center", alpha=0.35,
                    fontsize=60 / max(nh, nw), fontweight="bold", color="darkred")
    for i in range(H):
        for j in range(W):
            ax.add_patch(Rectangle((j, i), 1, 1, fc=_window_color((i // M) * nw + j // M), ec="white", lw=1,
                                   zorder=0))
            ax.text(j + 0.5, i + 0.5, str(int(tokens[i, j])), ha="center", va="center", fontsize=fs)
    _window_lines(ax, H, W, M, color="black", lw=2.5)
    _frame(ax, H, W)
    ax.set_title(f"[H, W] = [{H}, {W}], M = {M}: nW = {nh}x{nw} = {nh * nw} windows")

    windows = rearrange(tokens, "(nh m1) (nw m2) -> (nh nw) m1 m2", m1=M, m2=M)  # [nW, M, M]
    rows = min(nh * nw, 4)  # the batch axis runs down the columns
    axes = right.subplots(rows, (nh * nw + rows - 1) // rows, squeeze=False, gridspec_kw=dict(top=0.8))
    for k, axk in enumerate(axes.T.flat):
        if k >= nh * nw:
            axk.axis("off")
            continue
        for i in range(M):
            for j in range(M):
                axk.add_patch(Rectangle((j, i), 1, 1, fc=_window_color(k), ec="white", lw=1))
                axk.text(j + 0.5, i + 0.5, str(int(windows[k, i, j])), ha="center", va="center", fontsize=fs - 1)
        _frame(axk, M, M)
        axk.add_patch(Rectangle((0, 0), M, M, fill=False, ec="black", lw=2))
        axk.set_title(f"windows[{k}]", fontsize=8, pad=2)
    right.suptitle(f"window_partition -> [B·nW, M, M, C]\n= [{nh * nw}, {M}, {M}, 1] (B = C = 1)\n"
                   "(window k of image b at b·nW + k)", fontsize=10)
    return fig


def plot_window_ids(H: int = 56, W: int = 56, M: int = 7, image: torch.Tensor | None = None,
                    highlight: int | None = None) -> Figure:
    """The window grid of an [H, W] map with every window's id (its index in ``window_partition``),
    over ``image`` ([3, S, S], e.g. the photo the map was computed from) when given; the window
    ``highlight`` (an id) framed in red, with a white halo that sets it off from the yellow grid lines."""
    check_window(H, W, M)
    nh, nw = H // M, W // M
    fig, ax = plt.subplots(figsize=(4.8, 4.8))
    if image is not None:
        ax.imshow(rearrange(image, "c h w -> h w c").numpy(), extent=(0, W, H, 0))
    else:
        for k in range(nh * nw):
            ax.add_patch(Rectangle((k % nw * M, k // nw * M), M, M, fc=_window_color(k), ec="none"))
    _window_lines(ax, H, W, 1, color="white", lw=0.2, alpha=0.5)
    _window_lines(ax, H, W, M, color="yellow" if image is not None else "black", lw=1.5)
    for k in range(nh * nw):
        ax.text(k % nw * M + M / 2, k // nw * M + M / 2, str(k), ha="center", va="center", fontsize=9,
                color="black", bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.75))
    title = f"{H}x{W} tokens, {M}x{M} windows: ids 0..{nh * nw - 1} (row-major)"
    if highlight is not None:
        if not 0 <= highlight < nh * nw:
            raise ValueError(f"highlight must be a window id in [0, {nh * nw - 1}], got {highlight}")
        ax.add_patch(Rectangle((highlight % nw * M, highlight // nw * M), M, M, fill=False, ec="red", lw=3.5,
                               clip_on=False, zorder=3,  # a white halo sets it off from the yellow grid
                               path_effects=[patheffects.withStroke(linewidth=7, foreground="white")]))
        title += f"\nwindow {highlight} framed in red"
    _frame(ax, H, W)
    ax.set_title(title)
    return fig


def plot_attention_scope(H: int = 14, W: int = 14, M: int = 7, query: tuple[int, int] = (4, 9),
                         msa: bool = True) -> Figure:
    """Which tokens one query attends to: every token with global MSA (left, drawn when ``msa``),
    only its own M x M window with W-MSA (right, or alone). Red: the query; blue: the tokens it
    attends to; grey: the tokens it does not reach."""
    check_window(H, W, M)
    qi, qj = query
    if not (0 <= qi < H and 0 <= qj < W):
        raise ValueError(f"query must be a token (i, j) of the {H}x{W} map, got {query}")
    kinds = (False, True) if msa else (True,)
    fig, axes = plt.subplots(1, len(kinds), figsize=(5 * len(kinds), 5), squeeze=False)
    lw = 0.8 if max(H, W) <= 28 else 0.2
    for ax, windowed in zip(axes[0], kinds):
        for i in range(H):
            for j in range(W):
                seen = not windowed or (i // M, j // M) == (qi // M, qj // M)
                ax.add_patch(Rectangle((j, i), 1, 1, fc="#8fbce6" if seen else "#eeeeee", ec="white", lw=lw))
        ax.add_patch(Rectangle((qj, qi), 1, 1, fc="#d62728", ec="white", lw=lw))
        if windowed:
            _window_lines(ax, H, W, M, color="black", lw=2 if max(H, W) <= 28 else 1)
        _frame(ax, H, W)
        if not windowed:
            ax.set_title(f"MSA: the query (red) sees all {H * W} tokens", fontsize=11)
        elif msa:
            ax.set_title(f"W-MSA: the query sees its window's {M * M} tokens", fontsize=11)
        else:
            ax.set_title(f"W-MSA on a {H}x{W} map cut into {M}x{M} windows:\nthe query (red) attends to the "
                         f"{M * M} tokens of its window (blue),\nnot to the other {H * W - M * M} (grey)",
                         fontsize=11)
    return fig


def plot_attention_cost(C: int = 96, M: int = 7, max_side: int = 224,
                        measured: Mapping[int, tuple[int, int]] | None = None,
                        mark: tuple[int, int] | None = (56, 56), mark_label: str = "Swin-T stage 1") -> Figure:
    """MSA versus W-MSA multiply-accumulates as the map grows (square maps of side H = W).

    Left: linear axes (a parabola against a line). Right: log-log against the number of tokens HW
    (slope 2 against slope 1). ``measured`` maps a side H to counted (MSA, W-MSA) MACs, drawn as dots.
    ``mark`` = (H, W): a dotted vertical line at that map's HW tokens, labelled with ``mark_label``.
    """
    sides = list(range(M, max_side + 1, M))
    tokens = [s * s for s in sides]
    msa = [msa_macs(s, s, C) for s in sides]
    wmsa = [wmsa_macs(s, s, C, M) for s in sides]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.4))
    for ax, log in zip(axes, (False, True)):
        ax.plot(tokens, msa, color="#d62728", label=r"MSA: $4HWC^2 + 2(HW)^2C$")
        ax.plot(tokens, wmsa, color="#1f77b4", label=rf"W-MSA: $4HWC^2 + 2M^2HWC$ (M = {M})")
        if measured:
            for k, (side, (m, w)) in enumerate(sorted(measured.items())):
                ax.plot([side * side] * 2, [m, w], "o", color="black", ms=5,
                        label="counted by FlopCounterMode / 2" if k == 0 else None)
        if mark is not None:
            ax.axvline(mark[0] * mark[1], color="grey", ls=":", lw=1)
            ax.text(mark[0] * mark[1], 0.6, f" {mark[0]}x{mark[1]}\n ({mark_label})",
                    transform=ax.get_xaxis_transform(), fontsize=8, color="grey")
        ax.set_xlabel("tokens HW (square map H = W)")
        ax.set_ylabel("multiply-accumulates")
        ax.grid(alpha=0.3)
        if log:
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_title("log-log: quadratic (slope 2) vs linear (slope 1)")
        else:
            ax.set_xlim(0, (max_side // 2) ** 2)
            ax.set_ylim(0, 1.1 * msa_macs(max_side // 2, max_side // 2, C))
            ax.set_title(f"C = {C}: the cost of one attention layer")
        ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


def plot_attention_heads(weights: torch.Tensor, query: int, image: torch.Tensor | None = None) -> Figure:
    """The attention weights of one window, one column per head, on one shared colour scale.

    Args:
        weights: [nH, N, N] softmax weights of one window (N = M*M), e.g. one window of
            ``WindowAttention.attention_weights(x)``.
        query: index (0..N-1, row-major in the window) of the token whose weights are drawn in the bottom row.
        image: optional [3, P*M, P*M] crop of the pixels under the window (P pixels per token), drawn on the left.

    Top row: the N x N matrix of every head (row = query, column = key; each row sums to 1).
    Bottom row: the query's row reshaped to the M x M window, the query marked by a red square.
    Red always marks the query: its row in the top panels (a thin line), its token in the bottom
    panels and on the pixels (a square); a legend under the figure says so. All panels share one colour scale, from the smallest to the largest weight of the window over
    all heads, shown by one colour bar: the same colour is the same weight in every panel.
    """
    if weights.dim() != 3 or weights.shape[1] != weights.shape[2]:
        raise ValueError(f"expected weights [nH, N, N] of one window, got shape {tuple(weights.shape)}")
    nH, N, _ = weights.shape
    M = int(round(N**0.5))
    if M * M != N:
        raise ValueError(f"N = {N} tokens is not the square of a window side M")
    if not 0 <= query < N:
        raise ValueError(f"query must be a token of the window, in [0, {N - 1}], got {query}")
    weights = weights.detach()
    scale = dict(cmap="viridis", vmin=weights.min().item(), vmax=weights.max().item())
    extra = image is not None
    fig, axes = plt.subplots(2, nH + extra, figsize=(3.4 * (nH + extra) + 1, 6.6), squeeze=False,
                             layout="constrained")
    if extra:
        axes[0, 0].imshow(rearrange(image, "c h w -> h w c").numpy())
        axes[0, 0].set_title("the window's pixels")
        s = image.shape[-1] / M
        axes[0, 0].add_patch(Rectangle((query % M * s - 0.5, query // M * s - 0.5), s, s, fill=False, ec="red", lw=2))
        for ax in axes[:, 0]:
            ax.set_xticks([])
            ax.set_yticks([])
        axes[1, 0].axis("off")
    for h in range(nH):
        top, bottom = axes[0, h + extra], axes[1, h + extra]
        shown = top.imshow(weights[h].numpy(), **scale)
        top.axhline(query, color="red", lw=0.8)
        top.set_title(f"head {h}: [N, N] = [{N}, {N}]")
        top.set_xlabel("key")
        top.set_ylabel("query")
        bottom.imshow(weights[h, query].view(M, M).numpy(), **scale)
        bottom.add_patch(Rectangle((query % M - 0.5, query // M - 0.5), 1, 1, fill=False, ec="red", lw=2))
        bottom.set_title(f"head {h}: weights of query {query}", fontsize=10)
        bottom.set_xticks([])
        bottom.set_yticks([])
    fig.colorbar(shown, ax=axes[:, extra:].ravel().tolist(), fraction=0.025, pad=0.02,
                 label="attention weight (one scale for all panels)")
    red = dict(color="red", linestyle="none", markerfacecolor="none")
    fig.legend(handles=[Line2D([], [], marker="_", markersize=14, markeredgewidth=1, **red,
                               label=f"red line (top): the row of query {query}"),
                        Line2D([], [], marker="s", markersize=9, markeredgewidth=2, **red,
                               label=f"red square (bottom{', pixels' if extra else ''}): query token {query}")],
               loc="outside lower center", ncols=2, fontsize=9, frameon=False)
    fig.suptitle(f"attention weights of one window, {nH} heads on one colour scale "
                 f"[{scale['vmin']:.3f}, {scale['vmax']:.3f}] (uniform would be 1/N = {1 / N:.3f})", fontsize=11)
    return fig


#: figure file name -> function returning a matplotlib Figure
FIGURES: dict = {
    "window_partition.png": lambda: plot_window_partition(8, 8, 4),
    "window_ids.png": lambda: plot_window_ids(56, 56, 7, image=sample_image()),
    "attention_scope.png": lambda: plot_attention_scope(14, 14, 7),
    "attention_cost.png": lambda: plot_attention_cost(96, 7),
}
