"""Plotting helpers for the whole model (notebooks 00 and 06).

* :func:`plot_vit_vs_swin`: ViT's single 1/16 map versus Swin's 1/4, 1/8, 1/16, 1/32 hierarchy.
* :func:`plot_pipeline`: the Swin pipeline with the shape after every step.
* :func:`plot_block_pair`: one W-MSA block and one SW-MSA block as boxes and arrows (pre-norm, residuals).
* :func:`plot_receptive_field`, :func:`plot_stage_receptive_field`: which input tokens one output token
  depends on, after 1, 2, 4 blocks and after every stage (computed by :mod:`swin_edu.analysis.footprints`).
"""
from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.colors import ListedColormap, LogNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch, Patch, Rectangle

from ..analysis.footprints import REACH_THRESHOLD, block_stack, gradient_footprint, reached_tokens, stage_footprints
from .masks import window_line_style

__all__ = ["plot_vit_vs_swin", "plot_pipeline", "plot_block_pair", "plot_receptive_field",
           "plot_stage_receptive_field"]

TOKEN_GRID = "#b0b0b0"
#: the windows of the hierarchy figure (notebook 00)
WINDOW = "#d62728"
#: the token whose footprint a figure shows: a hollow ring, so that its own colour stays visible
TOKEN_MARK = dict(marker="o", ms=14, mfc="none", mec="#00d000", mew=2.0, ls="none")


# ---------------------------------------------------------------------------- hierarchy
def _draw_token_grid(ax, side: int, window: int, label: str) -> None:
    """One feature map as a unit square: side x side tokens (grey), windows of window x window (red)."""
    cell = 1.0 / side
    lines = np.linspace(0, 1, side + 1)
    ax.vlines(lines, 0, 1, color=TOKEN_GRID, lw=0.4 if side > 20 else 0.8)
    ax.hlines(lines, 0, 1, color=TOKEN_GRID, lw=0.4 if side > 20 else 0.8)
    for k in range(0, side, window):
        for m in range(0, side, window):
            ax.add_patch(Rectangle((m * cell, 1 - (k + window) * cell), window * cell, window * cell,
                                   fill=False, ec=WINDOW, lw=1.8, zorder=3))
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_xlabel(label, fontsize=9)


def plot_vit_vs_swin(img_size: int = 224, patch_size: int = 4, embed_dim: int = 96, num_stages: int = 4,
                     window_size: int = 7, vit_patch: int = 16, vit_dim: int = 768, vit_depth: int = 12) -> Figure:
    """Swin's feature hierarchy (top row) next to ViT's single map (bottom row).

    Every panel stands for the same img_size x img_size area (grids only, no image). Grey lines are
    tokens; red squares are the windows of a W-MSA block in Swin (SW-MSA shifts them by M // 2) and
    the whole map in ViT, inside which every token attends to every other.
    Top: stage i has an (img/(P 2^i))^2 map with C 2^i channels (1/4, 1/8, 1/16, 1/32 for P = 4).
    Bottom: ViT keeps an (img/16)^2 map with ``vit_dim`` channels in all ``vit_depth`` layers.
    """
    fig, axes = plt.subplots(2, num_stages, figsize=(2.7 * num_stages, 6.8))
    for i, ax in enumerate(axes[0]):
        stride = patch_size * 2**i
        side = img_size // stride
        M = min(window_size, side)
        ax.set_title(f"stage {i + 1}: 1/{stride}\n{side}x{side} tokens x {embed_dim * 2**i} ch", fontsize=10)
        n = (side // M) ** 2
        _draw_token_grid(ax, side, M, f"{n} window{'s' * (n > 1)} of {M}x{M}" + (" = the whole map" * (n == 1)))
    side = img_size // vit_patch
    layers = np.linspace(1, vit_depth, num_stages).round().astype(int)
    for layer, ax in zip(layers, axes[1]):
        ax.set_title(f"layer {layer}: 1/{vit_patch}\n{side}x{side} tokens x {vit_dim} ch", fontsize=10)
        _draw_token_grid(ax, side, side, f"global: {side * side} x {side * side} scores")
    fig.text(0.01, 0.74, "Swin", rotation=90, fontsize=13, weight="bold", va="center")
    fig.text(0.01, 0.27, "ViT", rotation=90, fontsize=13, weight="bold", va="center")
    fig.suptitle("Swin builds a hierarchy with local windows; ViT keeps one 1/16 map with global attention",
                 fontsize=11)
    fig.tight_layout(rect=(0.03, 0, 1, 0.95), h_pad=2.5)
    return fig


# ----------------------------------------------------------------------------- pipeline
def plot_pipeline(img_size: int = 224, patch_size: int = 4, embed_dim: int = 96,
                  depths: Sequence[int] = (2, 2, 6, 2), num_classes: int = 1000) -> Figure:
    """The Swin pipeline as boxes whose height is proportional to the map's side, shapes written under them.

    image -> patch partition + linear embedding -> stage 1 -> (patch merging + stage i) ...
    -> LayerNorm + average pool -> linear head. Shapes are per image: the image channels first, [3, S, S],
    as it enters the model; every map after it channels last, [H, W, C].
    A box of side s is s / img_size times as tall as the image's box; the pooled vector and the
    logits have no spatial side and are drawn as flat bars (a 1 x 1 map).
    The side after patch embedding is img_size // patch_size, halved by each patch merging.
    """
    side = img_size // patch_size
    if img_size % patch_size or side % 2 ** (len(depths) - 1):
        raise ValueError(f"img_size {img_size} must be a multiple of patch_size {patch_size} "
                         f"times 2^{len(depths) - 1} (one halving per patch merging)")
    boxes = [("image", f"3x{img_size}x{img_size}", img_size, "#dddddd"),  # channels first, as it enters
             ("patch partition\n+ linear embed", f"{side}x{side}x{embed_dim}", side, "#c7dcef")]
    for i, depth in enumerate(depths):
        s, c = side // 2**i, embed_dim * 2**i
        name = f"stage {i + 1}\n{'' if i == 0 else 'patch merging +'}\n{depth} Swin blocks"
        boxes.append((name, f"{s}x{s}x{c}", s, "#fdd0a2"))
    c_last = embed_dim * 2 ** (len(depths) - 1)
    boxes += [("LayerNorm\n+ avg pool", f"{c_last} (vector)", 1, "#c7e9c0"),
              ("linear head", f"{num_classes} logits", 1, "#c7e9c0")]

    fig, ax = plt.subplots(figsize=(1.6 * len(boxes), 3.6))
    width, gap, tallest = 1.1, 0.5, 3.0  # the image's box is `tallest` units high
    for k, (name, shape, map_side, color) in enumerate(boxes):
        x0 = k * (width + gap)
        h = tallest * map_side / img_size  # proportional to the map's side
        ax.add_patch(Rectangle((x0, -h / 2), width, h, fc=color, ec="#444444", lw=1.0))
        ax.text(x0 + width / 2, tallest / 2 + 0.45, name, ha="center", va="center", fontsize=8.5)
        ax.text(x0 + width / 2, -tallest / 2 - 0.3, shape, ha="center", va="center", fontsize=9, family="monospace")
        if k:
            ax.add_patch(FancyArrowPatch((x0 - gap + 0.05, 0), (x0 - 0.05, 0), arrowstyle="-|>",
                                         mutation_scale=12, color="#444444"))
    ax.set_xlim(-0.2, len(boxes) * (width + gap) - gap + 0.2)
    ax.set_ylim(-tallest / 2 - 0.55, tallest / 2 + 0.9)
    ax.axis("off")
    ax.set_title(f"Swin pipeline for one {img_size}x{img_size} image: box height proportional to the map's side, "
                 f"shape under each step (the image channels first, then [H, W, C])", fontsize=11)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------- block pair
def plot_block_pair() -> Figure:
    """Two Swin blocks as boxes and arrows: LN -> W-MSA -> + -> LN -> MLP -> +, then the same with SW-MSA.

    Each row is one block; the line above the boxes is the residual path, which skips LayerNorm and
    attention (and LayerNorm and MLP) and is added back at the circles. Attention boxes use the series'
    window lines (:func:`swin_edu.plotting.window_line_style`): W-MSA white with a solid black edge, SW-MSA cyan
    with a dashed one.
    """
    fig, ax = plt.subplots(figsize=(11.5, 3.6))
    width, height, gap = 1.25, 0.62, 0.42
    grey, green = "#e6e6e6", "#c7e9c0"
    rows = [("block 1: W-MSA (windows M x M)", "W-MSA", "white", "-"),
            ("block 2: SW-MSA (windows shifted by s)", "SW-MSA", "#b3f5fa", "--")]
    for r, (label, attn, fill, style) in enumerate(rows):
        y = 1.7 - 2.1 * r
        steps = [("LN", grey, "#666666", "-"), (attn, fill, "black", style), ("+", None, None, None),
                 ("LN", grey, "#666666", "-"), ("MLP", green, "#4a8f3c", "-"), ("+", None, None, None)]
        x = 0.0
        ax.text(-0.35, y, r"$z^{l-1}$" if r == 0 else r"$z^{l}$", ha="right", va="center", fontsize=12)
        centres = []
        for name, fc, ec, ls in steps:
            if fc is None:  # the addition of the residual
                ax.add_patch(plt.Circle((x + 0.22, y), 0.22, fc="white", ec="#222222", lw=1.3, zorder=3))
                ax.text(x + 0.22, y, "+", ha="center", va="center", fontsize=13, zorder=4)
                centres.append((x, x + 0.44))
                x += 0.44 + gap
            else:
                ax.add_patch(Rectangle((x, y - height / 2), width, height, fc=fc, ec=ec, ls=ls,
                                       lw=2.0 if name == attn else 1.5, zorder=3))
                ax.text(x + width / 2, y, name, ha="center", va="center", fontsize=11, zorder=4)
                centres.append((x, x + width))
                x += width + gap
        for (_, right), (left, _) in zip([(-0.3, -0.3)] + centres[:-1], centres):
            ax.add_patch(FancyArrowPatch((right + 0.03, y), (left - 0.03, y), arrowstyle="-|>",
                                         mutation_scale=12, color="#444444", zorder=2))
        ax.add_patch(FancyArrowPatch((centres[-1][1] + 0.03, y), (centres[-1][1] + 0.6, y), arrowstyle="-|>",
                                     mutation_scale=12, color="#444444"))
        ax.text(centres[-1][1] + 0.7, y, r"$z^{l}$" if r == 0 else r"$z^{l+1}$", ha="left", va="center", fontsize=12)
        for start, plus in ((-0.15, centres[2]), (centres[2][1] + 0.1, centres[5])):  # residual paths
            top = y + 0.72
            ax.plot([start, start, plus[0] + 0.22, plus[0] + 0.22], [y, top, top, y + 0.27], color="#222222",
                    lw=1.3, zorder=1)
            ax.add_patch(FancyArrowPatch((plus[0] + 0.22, y + 0.45), (plus[0] + 0.22, y + 0.23), arrowstyle="-|>",
                                         mutation_scale=11, color="#222222", zorder=2))
        ax.text(-1.25, y + 0.72, label, ha="left", va="bottom", fontsize=10, weight="bold")
    ax.set_xlim(-1.3, x + 0.8)
    ax.set_ylim(-1.0, 2.75)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title("Two Swin blocks: LayerNorm before attention and MLP; the residual path (line above) is never "
                 "normalised", fontsize=10.5)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------- receptive field
#: colour of the tokens that are not reached (:func:`swin_edu.analysis.reached_tokens`), in the footprint figures
NOT_REACHED = "#b4b4b4"
#: the colour scale of the footprint figures: F / max F on a log scale from this value (darkest) to 1
#: (lightest), the same in every panel; smaller reached values get the darkest colour
COLOUR_FLOOR = 1e-8


def _footprint_cmap() -> ListedColormap:
    """magma (dark = small, light = large) without its blackest part, so that the window lines stay
    visible on the darkest colour; grey ("bad") for the tokens not reached."""
    return ListedColormap(plt.get_cmap("magma")(np.linspace(0.12, 1.0, 256))).with_extremes(bad=NOT_REACHED)


def _footprint_panel(ax, footprint: torch.Tensor, token, grids, title: str, box: int = 1):
    """Heat map of a footprint relative to its largest value, on a log scale from :data:`COLOUR_FLOOR`
    (darkest) to 1 (lightest; the largest value, usually the token itself through the residual path);
    tokens not reached (:func:`swin_edu.analysis.reached_tokens`) grey; window grids ``(step, offset, kind)``,
    kind "W-MSA" or "SW-MSA" (:func:`swin_edu.plotting.window_line_style`); the token inside a hollow green
    ring (and, if ``box`` > 1, the box x box input tokens under it outlined in green). Returns the image,
    for the colour bar."""
    reached = reached_tokens(footprint).numpy()
    f = (footprint / footprint.max()).numpy()
    image = ax.imshow(np.ma.masked_where(~reached, f), cmap=_footprint_cmap(),
                      norm=LogNorm(vmin=COLOUR_FLOOR, vmax=1.0, clip=True),
                      extent=(-0.5, f.shape[1] - 0.5, f.shape[0] - 0.5, -0.5))
    for step, offset, kind in grids:
        for p in np.arange(offset, f.shape[0] + 1, step):
            ax.axhline(p - 0.5, **window_line_style(kind, 1.2))
        for p in np.arange(offset, f.shape[1] + 1, step):
            ax.axvline(p - 0.5, **window_line_style(kind, 1.2))
    if box > 1:
        r0, c0 = token[0] // box * box, token[1] // box * box
        ax.add_patch(Rectangle((c0 - 0.5, r0 - 0.5), box, box, fill=False, edgecolor="#00d000", lw=1.5))
    ax.plot(token[1], token[0], **TOKEN_MARK)
    ax.set_title(title, fontsize=9.5)
    ax.set_xticks([])
    ax.set_yticks([])
    return image


def _footprint_colorbar(fig, axes, image) -> None:
    """One colour bar for all panels (they share the scale)."""
    bar = fig.colorbar(image, ax=list(np.atleast_1d(axes)), fraction=0.025, pad=0.02, extend="min")
    bar.ax.tick_params(labelsize=7.5)
    bar.set_label("footprint / its largest value (log): light = large", fontsize=8)


def _footprint_legend(fig, shifted: bool, mark: str) -> None:
    """One legend under the panels: what the lines, the ring and grey mean."""
    handles = [Line2D([], [], **window_line_style("W-MSA", 1.2), label="W-MSA windows")]
    if shifted:
        handles.append(Line2D([], [], **window_line_style("SW-MSA", 1.2),
                              label=r"SW-MSA windows (shifted by $s = \lfloor M/2 \rfloor$)"))
    handles += [Line2D([], [], **{**TOKEN_MARK, "ms": 11}, label=mark),
                Patch(facecolor=NOT_REACHED, edgecolor="#888888",
                      label=f"grey: not reached (footprint <= {REACH_THRESHOLD:.0e} of its largest value)")]
    fig.legend(handles=handles, loc="outside lower center", ncol=len(handles), fontsize=8.5, frameon=False)


def plot_receptive_field(size: int = 28, window_size: int = 7, depths: Sequence[int] = (1, 2, 4),
                         token: tuple[int, int] = (10, 10), dim: int = 16, num_heads: int = 2,
                         seed: int = 0) -> Figure:
    """Gradient footprint of one output token after 1, 2, 4, ... Swin blocks (one panel per depth).

    Uses :func:`swin_edu.analysis.block_stack` and :func:`swin_edu.analysis.gradient_footprint` on a random
    input (same ``seed``). Solid white lines: the W-MSA windows; dashed cyan: the SW-MSA windows (shifted by
    s = M // 2), both edged in black (:func:`swin_edu.plotting.window_line_style`); colour: footprint
    relative to its largest value, log scale from :data:`COLOUR_FLOOR` to 1, light = large, one colour bar
    for all panels; grey: not reached (:func:`swin_edu.analysis.reached_tokens`); hollow green ring: the
    output token, at its own position (input and output maps have the same size). The SW-MSA code rolls the map up-left by s;
    on the original map that is the window grid moved down-right by s, as drawn.
    """
    blocks = block_stack(size, window_size, max(depths), dim, num_heads, seed)
    x = torch.randn(1, size, size, dim, generator=torch.Generator().manual_seed(seed))
    M, s = window_size, window_size // 2
    fig, axes = plt.subplots(1, len(depths), figsize=(3.7 * len(depths) + 0.8, 4.4), layout="constrained")
    for ax, depth in zip(np.atleast_1d(axes), depths):
        f = gradient_footprint(blocks[:depth], x, token)
        kinds = " + ".join("SW-MSA" if b.shift_size else "W-MSA" for b in blocks[:depth])
        kinds = kinds if depth <= 2 else f"{depth // 2} x (W-MSA + SW-MSA)"
        title = (f"after {depth} block{'s' * (depth > 1)}: {kinds}\n"
                 f"{int(reached_tokens(f).sum())} of {size * size} tokens reached")
        image = _footprint_panel(ax, f, token, [(M, 0, "W-MSA"), (M, s, "SW-MSA")], title)
    _footprint_colorbar(fig, axes, image)
    fig.suptitle(f"Where output token {token} gets its information from ({size}x{size} map, M = {M}, s = {s})",
                 fontsize=11)
    _footprint_legend(fig, shifted=True, mark=f"output token {token} (row, column)")
    return fig


def plot_stage_receptive_field(img_size: int = 224, patch_size: int = 4, window_size: int = 7,
                               embed_dim: int = 8, depths: Sequence[int] = (2, 2, 2, 2),
                               position: tuple[int, int] = (24, 24), seed: int = 0,
                               num_heads: Sequence[int] | None = None) -> Figure:
    """Footprint on the patch grid of one token at the output of each stage
    (:func:`swin_edu.analysis.stage_footprints`).

    Solid white lines: the stage's W-MSA windows drawn on the patch grid (M * 2^(t-1) patches wide in
    stage t); dashed cyan: its SW-MSA windows (none where min(H, W) <= M switches the shift off); hollow
    green ring: patch ``position``; green square: the 2^(t-1) x 2^(t-1) patches under the stage's token;
    colour and grey as in :func:`plot_receptive_field`.
    """
    maps = stage_footprints(img_size, patch_size, window_size, embed_dim, depths, position, seed, num_heads)
    side = img_size // patch_size
    fig, axes = plt.subplots(1, len(maps), figsize=(3.6 * len(maps) + 0.8, 4.4), layout="constrained")
    any_shift = False
    for i, (ax, f) in enumerate(zip(np.atleast_1d(axes), maps)):
        s_i = side >> i
        M = min(window_size, s_i)
        shift = window_size // 2 if s_i > window_size and depths[i] > 1 else 0
        grids = [(M << i, 0, "W-MSA")] + ([(M << i, shift << i, "SW-MSA")] if shift else [])
        any_shift |= bool(shift)
        reached = reached_tokens(f)
        title = (f"stage {i + 1} output ({s_i}x{s_i}, M = {M}, s = {shift})\n"
                 f"token {(position[0] >> i, position[1] >> i)}: {int(reached.sum())} patches, "
                 f"{patch_size * int(reached.any(0).sum())} px wide")
        image = _footprint_panel(ax, f, position, grids, title, box=1 << i)
    _footprint_colorbar(fig, axes, image)
    heads = list(num_heads) if num_heads is not None else [2**i for i in range(len(depths))]
    fig.suptitle(f"Receptive field across stages, on the {side}x{side} patch grid ({patch_size}x{patch_size} px "
                 f"patches) of a small random Swin (C = {embed_dim}, depths {list(depths)}, heads {heads}, "
                 f"M = {window_size})", fontsize=11)
    _footprint_legend(fig, shifted=any_shift,
                      mark=f"patch {tuple(position)}; green square: the patches under the token")
    return fig


#: figure file name -> function returning a matplotlib Figure
FIGURES: dict = {
    "vit_vs_swin.png": plot_vit_vs_swin,
    "swin_pipeline.png": plot_pipeline,
    "receptive_field.png": plot_receptive_field,
    "stage_receptive_field.png": plot_stage_receptive_field,
}
