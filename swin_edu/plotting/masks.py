"""Figures for notebook 04 (shifted windows and the -100 mask, SW-MSA).

What they draw is computed in :mod:`swin_edu.analysis.regions` (the nine regions in the official
numbering of :func:`swin_edu.region_map` and in the numbering on the original map,
:func:`swin_edu.analysis.region_views`) and :mod:`swin_edu.analysis.windows` (how a window is named).
Window borders have one style in the whole series (:func:`window_line_style`).
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import torch
from matplotlib import patheffects
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.transforms import blended_transform_factory

from ..analysis.regions import RegionViews, check_regions, region_views
from ..analysis.windows import window_name

__all__ = ["plot_shift_idea", "plot_regions", "plot_region_maps", "plot_mask_window", "plot_shift_explorer",
           "plot_window_weights", "plot_reach", "REGION_COLORS", "window_line_style"]

#: one colour per region, indexed by the official label (a region keeps its colour when it moves)
REGION_COLORS = ("#8dd3c7", "#ffffb3", "#bebada", "#fb8072", "#80b1d3", "#fdb462", "#b3de69", "#fccde5",
                 "#d9d9d9")
#: colours of the regular windows in :func:`plot_shift_idea` (cycled over the window grid)
WINDOW_COLORS = ("#a6cee3", "#fdbf6f", "#b2df8a", "#cab2d6", "#fb9a99", "#ffff99", "#8dd3c7", "#d9d9d9")
#: the highlighted window of the explorer (a thick red outline, no edge) and the target star of plot_reach
_HIGHLIGHT = "#d62728"
#: the mask's two values: 0 (same region) light, -100 (masked) grey, as every heat map of the series
MASK_COLORS = ("#a0a0a0", "#ffffff")


def window_line_style(kind: str, linewidth: float = 2.0) -> dict:
    """The series' window borders (notebooks 04 and 06): keyword arguments of ``plot``/``axhline``/``Line2D``.

    ``kind`` "W-MSA": the regular M x M windows, solid white; "SW-MSA": the shifted windows, dashed cyan
    (the colours of notebook 07's attention figure). Both are edged in black, so that they show on the
    pastel regions of notebook 04 as on the magma heat maps and the grey of notebook 06.
    """
    styles = {"W-MSA": ("white", "-"), "SW-MSA": ("cyan", "--")}
    if kind not in styles:
        raise ValueError(f"expected kind 'W-MSA' or 'SW-MSA', got {kind!r}")
    colour, style = styles[kind]
    return dict(color=colour, linewidth=linewidth, linestyle=style,
                path_effects=[patheffects.withStroke(linewidth=linewidth + 2, foreground="black")])


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


# the SW-MSA windows: the shifted grid on the original map, the regular grid on the rolled map
_SHIFTED_GRID = window_line_style("SW-MSA", 2.5)
_OUTLINE = dict(color=_HIGHLIGHT, linewidth=4)  # the tokens of one window of the rolled map


def _draw_region_panels(axes, views: RegionViews, panels: list, M: int, s: int) -> list[Line2D]:
    """Draw region maps, one per panel ``(labels written, colours by code label, title, on the original
    map?)``, into ``axes``; return the legend handles."""
    H, W = views.code.shape
    fontsize = max(6.0, 14.0 * min(1.0, 8 / max(H, W)) + 4)
    cmap = ListedColormap(REGION_COLORS)
    for ax, (labels, colours, title, original) in zip(axes, panels):
        ax.imshow(colours.numpy(), cmap=cmap, vmin=-0.5, vmax=8.5, interpolation="nearest")
        if H * W <= 1024:
            _cells(ax, H, W)
        else:
            ax.set_xticks([])
            ax.set_yticks([])
        if original:  # the SW-MSA windows on the original map: the shifted grid, cuts at s, s+M, ...
            _lines(ax, H, W, range(s, H, M), range(s, W, M), **_SHIFTED_GRID)
            inside = torch.roll(views.inside, (s, s), (0, 1))
        else:  # the same windows on the rolled map: the regular grid that window_partition cuts
            _lines(ax, H, W, range(M, H, M), range(M, W, M), **_SHIFTED_GRID)
            inside = views.inside
        _outline(ax, inside, **_OUTLINE)
        _label_regions(ax, labels, fontsize)
        ax.set_title(title, fontsize=10)
    return [Line2D([], [], label="dashed cyan: the SW-MSA windows (original map: the grid shifted by s;\n"
                                 "rolled map: the regular M x M grid that window_partition cuts)", **_SHIFTED_GRID),
            Line2D([], [], **_OUTLINE,
                   label=f"thick red: the tokens of {window_name(H, W, M, views.window)} of the rolled map, "
                         "on both maps")]


def _code_panels(views: RegionViews) -> list:
    """The main line's two maps: the official labels on the original map and on the rolled map."""
    return [(views.code_back, views.code_back, "original map: each token with its label", True),
            (views.code, views.code, "rolled map, torch.roll(x, (-s, -s)):\nlabels of region_map", False)]


def plot_shift_idea(H: int = 8, W: int = 8, window_size: int = 4, shift: int = 2) -> Figure:
    """Why shift, in one picture: the W-MSA windows and the shifted windows of the next block.

    Tokens are coloured by their regular M x M window (W-MSA, solid white lines); the dashed cyan lines are
    the window grid shifted by s (SW-MSA's windows, drawn on the original map): :func:`window_line_style`. A
    dashed window away from the map's edges holds tokens of four colours, one along an edge of two, one at a
    corner of the map of one only: SW-MSA mixes tokens of different W-MSA windows wherever its windows cross
    a W-MSA border.
    H and W must be multiples of M = ``window_size`` and 1 <= s < M (else ValueError).
    """
    M, s = window_size, shift
    check_regions(H, W, M, s)
    rows, cols = torch.arange(H) // M, torch.arange(W) // M
    windows = rows[:, None] * (W // M) + cols[None, :]
    colours = windows % len(WINDOW_COLORS)
    fig, ax = plt.subplots(figsize=(min(9.0, 1.0 + 0.55 * W), min(9.0, 1.3 + 0.55 * H)))
    ax.imshow(colours.numpy(), cmap=ListedColormap(WINDOW_COLORS), vmin=-0.5, vmax=len(WINDOW_COLORS) - 0.5,
              interpolation="nearest")
    _cells(ax, H, W)
    _lines(ax, H, W, range(M, H, M), range(M, W, M), **window_line_style("W-MSA", 2.5))
    _lines(ax, H, W, range(s, H, M), range(s, W, M), **window_line_style("SW-MSA", 2.5))
    ax.legend(handles=[Line2D([], [], **window_line_style("W-MSA", 2.5), label="W-MSA windows (colours)"),
                       Line2D([], [], **window_line_style("SW-MSA", 2.5),
                              label=f"SW-MSA: the grid shifted by s = {s}")],
              loc="upper center", bbox_to_anchor=(0.5, -0.02), ncol=2, fontsize=9, frameon=False)
    ax.set_title(f"{H}x{W} map, M = {M}: a shifted window that crosses a W-MSA border\n"
                 "holds tokens of several W-MSA windows (colours)", fontsize=10)
    fig.tight_layout()
    return fig


def plot_regions(H: int = 8, W: int = 8, window_size: int = 4, shift: int = 2, window: int | None = None) -> Figure:
    """The regions of :func:`swin_edu.region_map`, on the rolled map and carried back to the original map.

    Right: the rolled map with its regular M x M grid and the labels 0..8. Left: the same labels on the
    original map, with the shifted window grid. Both grids are the SW-MSA windows (dashed cyan,
    :func:`window_line_style`). A region keeps its colour; the thick red outline follows the tokens of one
    window of the rolled map (default: the top-right one, labels 1 and 2). Arguments and errors as
    :func:`swin_edu.analysis.region_views`.
    """
    M, s = window_size, shift
    views = region_views(H, W, M, s, window)
    fig, axes = plt.subplots(1, 2, figsize=(10, 5.6), layout="constrained")
    handles = _draw_region_panels(axes, views, _code_panels(views), M, s)
    fig.suptitle(f"{H}x{W} map, window M={M}, shift s={s}: the regions (colour and label follow the tokens)",
                 fontsize=11)
    fig.legend(handles=handles, loc="outside lower center", fontsize=9, frameon=False)
    return fig


def plot_region_maps(H: int = 8, W: int = 8, window_size: int = 4, shift: int = 2, window: int | None = None) -> Figure:
    """The 3x3 regions before and after ``torch.roll(x, (-s, -s))``, in both numberings.

    Top row: the numbering on the original map (:func:`swin_edu.analysis.original_region_map`, as the
    usual drawings of the nine regions number them). Bottom row: the official labels (:func:`swin_edu.region_map`,
    defined on the rolled map). Left: original map, with the shifted window grid. Right: rolled map, with
    the regular M x M grid: the same SW-MSA windows, dashed cyan on both. A region keeps its colour
    everywhere; the thick red outline follows the tokens of one window of the rolled map, by default the
    top-right one (original-map regions 5 and 3, the code's labels 1 and 2). Arguments and errors as
    :func:`swin_edu.analysis.region_views`.
    """
    M, s = window_size, shift
    views = region_views(H, W, M, s, window)
    fig, axes = plt.subplots(2, 2, figsize=(9, 10), layout="constrained")
    panels = [(views.original, views.code_back, "numbered on the original map", True),
              (views.original_rolled, views.code, "the same numbers, after the roll by (-s, -s)", False),
              (views.code_back, views.code_back, "official labels, rolled back onto the original map", True),
              (views.code, views.code, "official labels (region_map), rolled map", False)]
    handles = _draw_region_panels(axes.flatten(), views, panels, M, s)
    fig.suptitle(f"{H}x{W} map, window M={M}, shift s={s}: the same nine regions, two numberings\n"
                 "(colour = region, follows its tokens)", fontsize=11)
    fig.legend(handles=handles, loc="outside lower center", fontsize=9, frameon=False)
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


def _draw_mask_window(left, right, views: RegionViews, M: int) -> None:
    """Left: the window's tokens with their official label. Right: its [N, N] mask, 0 white, -100 grey."""
    code, N = views.code_in_window, M * M
    H, W = views.code.shape
    left.imshow(code.view(M, M).numpy(), cmap=ListedColormap(REGION_COLORS), vmin=-0.5, vmax=8.5)
    long = M <= 4  # small windows: token index and label; larger ones: the label only
    for t in range(N):
        text = f"#{t}\nlabel {code[t]}" if long else f"{code[t]}"
        left.text(t % M, t // M, text, ha="center", va="center", fontsize=9 if long else max(6, 12 - M))
    _cells(left, M, M)
    what = "token index (row-major) and region label" if long else "region label of each token (row-major)"
    left.set_title(f"{window_name(H, W, M, views.window)} of the rolled map:\n{what}", fontsize=10)
    right.imshow(views.mask.numpy(), cmap=ListedColormap(MASK_COLORS), vmin=-100, vmax=0, interpolation="nearest")
    _region_strip(right, code, "top")
    _region_strip(right, code, "left")
    step = max(1, N // 16)
    right.set_xticks(range(0, N, step))
    right.set_yticks(range(0, N, step))
    right.tick_params(labelsize=7, length=0, pad=16)
    right.set_xlabel("key token j")
    right.set_ylabel("query token i")
    right.set_title(f"its mask, mask[{views.window}] ({N}x{N}):\nwhite 0 = same region, grey -100 = masked",
                    fontsize=10, y=1.06)


def plot_mask_window(H: int = 8, W: int = 8, window_size: int = 4, shift: int = 2, window: int | None = None) -> Figure:
    """The M*M tokens of one rolled window and its [M*M, M*M] mask from :func:`swin_edu.shifted_window_mask`.

    ``window`` defaults to the top-right window (index W/M - 1), which holds the code's labels 1 and 2
    (on an 8x8 map with M=4, s=2: the original-map regions 5 and 3). Mask entries: 0 (white) when the
    query and key tokens are in the same region, -100 (grey, the series' colour for masked) when not;
    the colour strips give each token's region. Arguments and errors as :func:`swin_edu.analysis.region_views`.
    """
    M, s = window_size, shift
    views = region_views(H, W, M, s, window)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 5.2), gridspec_kw={"width_ratios": [1, 1.5]})
    _draw_mask_window(left, right, views, M)
    fig.suptitle(f"{H}x{W} map, M={M}, s={s}: {int((views.mask != 0).sum())} of {M ** 4} pairs masked in "
                 f"{window_name(H, W, M, views.window)}", fontsize=11)
    fig.tight_layout()
    return fig


def plot_shift_explorer(H: int = 8, W: int = 8, window_size: int = 4, shift: int = 2,
                        window: int | None = None) -> Figure:
    """The figure of notebook 04's shift explorer: :func:`plot_regions` and :func:`plot_mask_window` in one.

    Left: the official labels on the original map (top) and on the rolled map (below), the SW-MSA windows
    dashed cyan, the chosen window of the rolled map outlined in thick red on both. Right: that window's
    tokens and its [N, N] mask. Arguments and errors as :func:`swin_edu.analysis.region_views`.
    """
    M, s = window_size, shift
    views = region_views(H, W, M, s, window)
    nW, N = (H // M) * (W // M), M * M
    fig = plt.figure(figsize=(13, 8.5), layout="constrained")
    maps, masks = fig.subfigures(1, 2, width_ratios=(0.8, 1))
    handles = _draw_region_panels(maps.subplots(2, 1), views, _code_panels(views), M, s)
    maps.legend(handles=handles, loc="outside lower center", fontsize=9, frameon=False)
    _draw_mask_window(*masks.subplots(2, 1, height_ratios=(1, 1.4)), views, M)
    labels = ", ".join(map(str, views.code_in_window.unique().tolist()))
    name = window_name(H, W, M, views.window)
    fig.suptitle(f"{H}x{W} map, M={M}, s={s}: nW = {nW} windows of N = {N} tokens.\n{name[0].upper() + name[1:]} "
                 f"holds label(s) {labels}; {int((views.mask != 0).sum())} of {N * N} pairs masked", fontsize=12)
    return fig


def plot_window_weights(weights: torch.Tensor, labels: torch.Tensor) -> Figure:
    """Attention weights of one window and head after softmax, linear and log10 scale.

    Args:
        weights: [N, N] softmax output (rows sum to 1).
        labels: [N] region label of each token (official labels 0..8; the colour strips follow
            :data:`REGION_COLORS`).
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
        ax.set_ylabel("query token i", labelpad=16)  # clear of the colour strip on the left
        ax.set_title(title, fontsize=10, y=1.06)
    fig.tight_layout()
    return fig


def plot_reach(maps: torch.Tensor, titles: list[str], window_size: int, target: tuple[int, int]) -> Figure:
    """Which input tokens reach one output token: one panel per [H, W] boolean map.

    Args:
        maps: [K, H, W] bool, True where the output at ``target`` depends on the input token (e.g.
            :func:`swin_edu.analysis.reached_tokens`).
        titles: K panel titles.
        window_size: M, for the W-MSA window grid drawn on every panel (solid white, :func:`window_line_style`).
        target: (row, column) of the output token, marked with a star.
    """
    K, H, W = maps.shape
    fig, axes = plt.subplots(1, K, figsize=(4.2 * K, 4.4), squeeze=False)
    for ax, reach, title in zip(axes[0], maps, titles):
        ax.imshow(reach.float().numpy(), cmap=ListedColormap(["#b4b4b4", "#80b1d3"]), vmin=0, vmax=1)
        _cells(ax, H, W)
        _lines(ax, H, W, range(window_size, H, window_size), range(window_size, W, window_size),
               **window_line_style("W-MSA"))
        ax.plot(target[1], target[0], marker="*", markersize=16, color=_HIGHLIGHT)
        ax.set_title(f"{title}\n{int(reach.sum())} of {H * W} input tokens reach it (blue)",
                     fontsize=10)
    fig.tight_layout()
    return fig


#: figure file name -> function returning a matplotlib Figure
FIGURES: dict = {
    "region_maps.png": lambda: plot_region_maps(8, 8, 4, 2),
    "mask_window.png": lambda: plot_mask_window(8, 8, 4, 2),
}
