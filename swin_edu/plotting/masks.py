"""Figures for notebook 04 (shifted windows and the -100 mask, SW-MSA).

Two numberings of the same nine regions appear side by side:

* the seed note's figure numbers the regions 0..8 row-major on the ORIGINAL map, cut by the
  shifted window grid (rows [0, s), [s, H-M+s), [H-M+s, H), the same for columns);
* the official code (and :func:`swin_edu.region_map`) numbers them 0..8 row-major on the
  ROLLED map, cut by the slices [0, H-M), [H-M, H-s), [H-s, H).

Rolling by (-s, -s) moves the seed's bands (0, 1, 2) to the code's bands (2, 0, 1), so a token
in code region 3i + j is in seed region 3((i+1) % 3) + (j+1) % 3: on an 8x8 map with M=4, s=2 the
top-right window holds the seed's regions 5 and 3, which the code labels 1 and 2.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import torch
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.transforms import blended_transform_factory

from ..windows import region_map, shifted_window_mask, window_partition

__all__ = ["seed_region_map", "plot_region_maps", "plot_mask_window", "plot_window_weights", "plot_reach",
           "REGION_COLORS"]

#: one colour per region, indexed by the seed's numbering (a region keeps its colour when it moves)
REGION_COLORS = ("#8dd3c7", "#ffffb3", "#bebada", "#fb8072", "#80b1d3", "#fdb462", "#b3de69", "#fccde5",
                 "#d9d9d9")
_HIGHLIGHT = "#d62728"


def seed_region_map(H: int, W: int, window_size: int, shift: int) -> torch.Tensor:
    """The seed note's numbering, on the original (un-rolled) map: [H, W] int64.

    Each axis is cut at s and H-M+s (the shifted window grid, first and last bands
    shortened) and the 3x3 grid is numbered 0..8 row-major. Equal to
    ``torch.roll(code, (s, s))`` with code labels mapped by 3i + j -> 3((i+1) % 3) + (j+1) % 3.
    """
    M, s = window_size, shift
    bands = (slice(0, s), slice(s, H - M + s), slice(H - M + s, None))
    cols = (slice(0, s), slice(s, W - M + s), slice(W - M + s, None))
    regions = torch.zeros(H, W, dtype=torch.int64)
    for i, rows in enumerate(bands):
        for j, c in enumerate(cols):
            regions[rows, c] = 3 * i + j
    return regions


def _cells(ax, H: int, W: int) -> None:
    """Thin token grid and no ticks on an [H, W] image."""
    ax.set_xticks([x - 0.5 for x in range(W + 1)], minor=True)
    ax.set_yticks([y - 0.5 for y in range(H + 1)], minor=True)
    ax.grid(which="minor", color="white", linewidth=0.6)
    ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)


def _lines(ax, H: int, W: int, cuts_h, cuts_w, **style) -> None:
    """Window boundaries: horizontal lines at rows ``cuts_h``, vertical at columns ``cuts_w``."""
    for r in cuts_h:
        ax.plot([-0.5, W - 0.5], [r - 0.5] * 2, **style)
    for c in cuts_w:
        ax.plot([c - 0.5] * 2, [-0.5, H - 0.5], **style)


def _outline(ax, inside: torch.Tensor, **style) -> None:
    """Outline the cells of a boolean [H, W] map (edges between inside and outside cells)."""
    H, W = inside.shape
    padded = torch.zeros(H + 2, W + 2, dtype=torch.bool)
    padded[1:-1, 1:-1] = inside
    for y, x in inside.nonzero().tolist():
        p, q = y + 1, x + 1
        if not padded[p - 1, q]:
            ax.plot([x - 0.5, x + 0.5], [y - 0.5] * 2, **style)
        if not padded[p + 1, q]:
            ax.plot([x - 0.5, x + 0.5], [y + 0.5] * 2, **style)
        if not padded[p, q - 1]:
            ax.plot([x - 0.5] * 2, [y - 0.5, y + 0.5], **style)
        if not padded[p, q + 1]:
            ax.plot([x + 0.5] * 2, [y - 0.5, y + 0.5], **style)


def _label_regions(ax, labels: torch.Tensor, fontsize: float) -> None:
    """Write each region's label at the centre of its (rectangular) block of cells."""
    for label in labels.unique().tolist():
        ys, xs = (labels == label).nonzero(as_tuple=True)
        ax.text(xs.float().mean().item(), ys.float().mean().item(), str(label), ha="center", va="center",
                fontsize=fontsize, fontweight="bold")


def plot_region_maps(H: int = 8, W: int = 8, window_size: int = 4, shift: int = 2) -> Figure:
    """The 3x3 regions before and after ``torch.roll(x, (-s, -s))``, in both numberings.

    Top row: the seed's numbering (regions 0..8 on the original map). Bottom row: the official
    labels (:func:`swin_edu.region_map`, defined on the rolled map). Left: original map, with the
    shifted window grid (dashed). Right: rolled map, with the regular M x M window grid. A region
    keeps its colour everywhere; the red outline follows the tokens of the rolled map's top-right
    window (the seed's regions 5 and 3, the code's labels 1 and 2 when H = W = 2M).
    """
    M, s = window_size, shift
    seed = seed_region_map(H, W, M, s)
    rolled_seed = torch.roll(seed, (-s, -s), (0, 1))
    code = region_map(H, W, M, s)
    panels = {  # (row, col): (labels, colours by seed region, title)
        (0, 0): (seed, seed, "seed's numbering, original map"),
        (0, 1): (rolled_seed, rolled_seed, "seed's numbering, after roll by (-s, -s)"),
        (1, 0): (torch.roll(code, (s, s), (0, 1)), seed, "official labels, rolled back onto the original map"),
        (1, 1): (code, rolled_seed, "official labels (region_map), rolled map"),
    }
    top_right = torch.zeros(H, W, dtype=torch.bool)
    top_right[:M, W - M:] = True  # the rolled map's top-right window
    fontsize = max(6.0, 14.0 * min(1.0, 8 / max(H, W)) + 4)
    fig, axes = plt.subplots(2, 2, figsize=(9, 9.4))
    cmap = ListedColormap(REGION_COLORS)
    for (r, c), (labels, colours, title) in panels.items():
        ax = axes[r, c]
        ax.imshow(colours.numpy(), cmap=cmap, vmin=-0.5, vmax=8.5, interpolation="nearest")
        if H * W <= 1024:
            _cells(ax, H, W)
        else:
            ax.set_xticks([])
            ax.set_yticks([])
        if c == 0:  # the shifted grid on the original map: cuts at s, s+M, ...
            _lines(ax, H, W, range(s, H, M), range(s, W, M), color="k", linewidth=2, linestyle="--")
            inside = torch.roll(top_right, (s, s), (0, 1))
        else:  # the regular grid on the rolled map
            _lines(ax, H, W, range(M, H, M), range(M, W, M), color="k", linewidth=2)
            inside = top_right
        _outline(ax, inside, color=_HIGHLIGHT, linewidth=3)
        _label_regions(ax, labels, fontsize)
        ax.set_title(title, fontsize=10)
    fig.suptitle(f"{H}x{W} map, window M={M}, shift s={s}: the same nine regions, two numberings\n"
                 "(colour = region, follows its tokens; red = tokens of the rolled map's top-right window)",
                 fontsize=11)
    fig.tight_layout()
    return fig


def _region_strip(ax, labels: torch.Tensor, where: str) -> None:
    """A thin band of region colours just outside the top or left edge of an [N, N] image."""
    N = labels.numel()
    for t, label in enumerate(labels.tolist()):
        colour = REGION_COLORS[label]
        if where == "top":  # x in data units, y in axes fraction
            band = Rectangle((t - 0.5, 1.01), 1, 0.04, color=colour, clip_on=False,
                             transform=blended_transform_factory(ax.transData, ax.transAxes))
        else:
            band = Rectangle((-0.05, t - 0.5), 0.04, 1, color=colour, clip_on=False,
                             transform=blended_transform_factory(ax.transAxes, ax.transData))
        ax.add_patch(band)
    ax.set_xlim(-0.5, N - 0.5)
    ax.set_ylim(N - 0.5, -0.5)


def _window_labels(H: int, W: int, window_size: int, shift: int, window: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Seed and official region label of each token of window ``window`` of the rolled map: two [N]."""
    M, s = window_size, shift
    rolled_seed = torch.roll(seed_region_map(H, W, M, s), (-s, -s), (0, 1))
    seed = window_partition(rolled_seed[None, :, :, None], M)[window].flatten()
    code = window_partition(region_map(H, W, M, s)[None, :, :, None], M)[window].flatten()
    return seed, code


def plot_mask_window(H: int = 8, W: int = 8, window_size: int = 4, shift: int = 2, window: int | None = None) -> Figure:
    """The M*M tokens of one rolled window and its [M*M, M*M] mask from :func:`swin_edu.shifted_window_mask`.

    ``window`` defaults to the top-right window (index W/M - 1), which on an 8x8 map with M=4, s=2
    holds the seed's regions 5 and 3 (official labels 1 and 2). Mask entries: 0 (white) when the
    query and key tokens are in the same region, -100 (dark) when not.
    """
    M, s = window_size, shift
    window = W // M - 1 if window is None else window
    seed, code = _window_labels(H, W, M, s, window)
    mask = shifted_window_mask(H, W, M, s)[window]  # [N, N]
    N = M * M
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 5.2), gridspec_kw={"width_ratios": [1, 1.5]})
    left.imshow(seed.view(M, M).numpy(), cmap=ListedColormap(REGION_COLORS), vmin=-0.5, vmax=8.5)
    for t in range(N):
        left.text(t % M, t // M, f"{t}\nseed {seed[t]}\ncode {code[t]}", ha="center", va="center",
                  fontsize=max(5, 9 - M // 3))
    _cells(left, M, M)
    left.set_title(f"window {window} of the rolled map:\ntoken index, seed region, official label", fontsize=10)
    right.imshow(mask.numpy(), cmap="Greys_r", vmin=-100, vmax=0, interpolation="nearest")
    _region_strip(right, seed, "top")
    _region_strip(right, seed, "left")
    step = max(1, N // 16)
    right.set_xticks(range(0, N, step))
    right.set_yticks(range(0, N, step))
    right.tick_params(labelsize=7, length=0, pad=16)
    right.set_xlabel("key token j")
    right.set_ylabel("query token i")
    right.set_title(f"mask[{window}]  ({N}x{N}): white 0 = same region, black -100 = different", fontsize=10,
                    y=1.06)
    fig.suptitle(f"{H}x{W} map, M={M}, s={s}: {int((mask != 0).sum())} of {N * N} pairs masked in window {window}",
                 fontsize=11)
    fig.tight_layout()
    return fig


def plot_window_weights(weights: torch.Tensor, labels: torch.Tensor) -> Figure:
    """Attention weights of one window and head after softmax, linear and log10 scale.

    Args:
        weights: [N, N] softmax output (rows sum to 1).
        labels: [N] region label of each token (any numbering; used to draw region blocks
            and the colour strips, which follow :data:`REGION_COLORS`).
    """
    w = weights.detach().double()
    fig, axes = plt.subplots(1, 2, figsize=(11, 5))
    images = (w, w.clamp_min(1e-46).log10())
    titles = ("weights (linear): cross-region pairs look exactly 0",
              "log10(weights): cross-region pairs are ~1e-44, not 0")
    for ax, img, title, vmin in zip(axes, images, titles, (0.0, -46.0)):
        shown = ax.imshow(img.numpy(), cmap="magma", vmin=vmin, interpolation="nearest")
        fig.colorbar(shown, ax=ax, fraction=0.046, pad=0.04)
        _region_strip(ax, labels, "top")
        _region_strip(ax, labels, "left")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel("key token j")
        ax.set_ylabel("query token i")
        ax.set_title(title, fontsize=10, y=1.06)
    fig.tight_layout()
    return fig


def plot_reach(maps: torch.Tensor, titles: list[str], window_size: int, target: tuple[int, int]) -> Figure:
    """Which input tokens can reach one output token: one panel per [H, W] boolean map.

    Args:
        maps: [K, H, W] bool, True where the output at ``target`` depends on the input token.
        titles: K panel titles.
        window_size: M, for the (unshifted) window grid drawn on every panel.
        target: (row, column) of the output token, marked with a star.
    """
    K, H, W = maps.shape
    fig, axes = plt.subplots(1, K, figsize=(4.2 * K, 4.4), squeeze=False)
    for ax, reach, title in zip(axes[0], maps, titles):
        ax.imshow(reach.float().numpy(), cmap=ListedColormap(["#f0f0f0", "#80b1d3"]), vmin=0, vmax=1)
        _cells(ax, H, W)
        _lines(ax, H, W, range(window_size, H, window_size), range(window_size, W, window_size),
               color="k", linewidth=2)
        ax.plot(target[1], target[0], marker="*", markersize=16, color=_HIGHLIGHT)
        ax.set_title(f"{title}\n{int(reach.sum())} of {H * W} input tokens", fontsize=10)
    fig.tight_layout()
    return fig


#: figure file name -> function returning a matplotlib Figure
FIGURES: dict = {
    "region_maps.png": lambda: plot_region_maps(8, 8, 4, 2),
    "mask_window.png": lambda: plot_mask_window(8, 8, 4, 2),
}
