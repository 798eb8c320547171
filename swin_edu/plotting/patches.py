"""Figures for notebooks 01 (patch partition and embedding) and 02 (patch merging).

The photograph is :func:`swin_edu.analysis.sample_image`, Grace Hopper's portrait, which ships with
matplotlib: no download is needed.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import torch
from einops import rearrange
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

from ..analysis.patches import sample_image, zoom_box

__all__ = ["plot_embedding_idea", "plot_patch_grid", "plot_merging_idea",
           "plot_patch_merging", "plot_hierarchy", "SUBGRID_COLORS"]

#: one colour per 2x2 sub-grid, in the concatenation order of patch merging:
#: x[0::2, 0::2], x[1::2, 0::2], x[0::2, 1::2], x[1::2, 1::2]
SUBGRID_COLORS = ("#4C72B0", "#DD8452", "#55A868", "#C44E52")
_SUBGRID_OFFSETS = ((0, 0), (1, 0), (0, 1), (1, 1))  # (row, column) offset of each piece
#: the 2x2 blocks of plot_merging_idea, in a chequerboard: greys, so that no colour means a piece there
_BLOCK_GREYS = ("#cfcfcf", "#ebebeb")


def _show(ax, img: torch.Tensor, extent=None) -> None:
    """Draw a [3, H, W] image on ``ax`` without ticks."""
    ax.imshow(rearrange(img, "c h w -> h w c").numpy(), extent=extent, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])


def _grid(ax, top: int, left: int, rows: int, cols: int, step: int, **style) -> None:
    """Grid lines every ``step`` pixels over a block whose upper-left pixel corner is (top, left)."""
    for r in range(rows + 1):
        ax.plot([left - 0.5, left + cols * step - 0.5], [top + r * step - 0.5] * 2, **style)
    for c in range(cols + 1):
        ax.plot([left + c * step - 0.5] * 2, [top - 0.5, top + rows * step - 0.5], **style)


def plot_embedding_idea(image: torch.Tensor, patch_size: int = 4, embed_dim: int = 96,
                        token: tuple[int, int] = (20, 23)) -> Figure:
    """Notebook 01 at a glance: every P x P patch of the image becomes one token of C numbers.

    Args:
        image: [3, S_h, S_w] in [0, 1] (e.g. :func:`swin_edu.analysis.sample_image`), sides multiples of ``patch_size``.
        patch_size: P, side of a patch in pixels.
        embed_dim: C, the numbers of every token.
        token: (row, column) of the patch followed on the right, in patch units.

    Left: the image with its grid of P x P patches, ``token``'s patch outlined in yellow. Right: that
    patch, its P*P*3 numbers in (p1 p2 rgb) order (each drawn in its own colour channel), and the token
    of C numbers that one Linear(P*P*3, C), shared by all patches, makes of them (drawn empty: the
    figure shows shapes, not values).
    """
    if image.dim() != 3 or image.shape[0] != 3:
        raise ValueError(f"expected an RGB image of shape [3, H, W], got {tuple(image.shape)}")
    P = patch_size
    _, S_h, S_w = image.shape
    zoom_box(S_h, S_w, P, token, 1)  # ValueError for a size that P does not divide or a token off the grid
    H, W, D = S_h // P, S_w // P, 3 * P * P
    pr, pc = token
    fig, (ax_img, ax_flow) = plt.subplots(1, 2, figsize=(11, 4.2), gridspec_kw={"width_ratios": (1, 1.55)})

    _show(ax_img, image)
    _grid(ax_img, 0, 0, H, W, P, color="white", lw=0.25, alpha=0.6)
    ax_img.add_patch(Rectangle((pc * P - 0.5, pr * P - 0.5), P, P, fill=False, ec="yellow", lw=2))
    ax_img.annotate(f"patch ({pr}, {pc})", xy=(pc * P + P / 2, pr * P + P / 2), xytext=(0.03, 0.97),
                    textcoords="axes fraction", ha="left", va="top", fontsize=9,
                    bbox=dict(fc="white", ec="yellow", lw=1.5),
                    arrowprops=dict(arrowstyle="->", color="yellow", lw=1.5))
    ax_img.set_title(f"{S_h}x{S_w} image: {H}x{W} = {H * W} patches of {P}x{P} pixels", fontsize=10)

    patch = image[:, pr * P:(pr + 1) * P, pc * P:(pc + 1) * P]                  # [3, P, P]
    values = rearrange(patch, "rgb p1 p2 -> (p1 p2 rgb)")                       # [3*P*P]
    column = torch.zeros(D, 3)
    column[torch.arange(D), torch.arange(D) % 3] = values                       # value v of channel c -> colour
    ax_flow.set_xlim(0, 10.5)
    ax_flow.set_ylim(-0.6, 4)
    ax_flow.set_aspect("equal")
    ax_flow.axis("off")
    ax_flow.imshow(rearrange(patch, "c h w -> h w c").numpy(), extent=(0, 2, 0.5, 2.5), interpolation="nearest")
    ax_flow.add_patch(Rectangle((0, 0.5), 2, 2, fill=False, ec="yellow", lw=2))
    ax_flow.text(1, 0.3, f"one patch:\n{P}x{P} pixels x 3 colours", ha="center", va="top", fontsize=9)
    ax_flow.imshow(column[:, None, :].numpy(), extent=(3.6, 4.1, 0, 3.5), aspect="auto", interpolation="nearest")
    ax_flow.add_patch(Rectangle((3.6, 0), 0.5, 3.5, fill=False, ec="black", lw=1))
    ax_flow.text(3.85, -0.15, f"{D} numbers", ha="center", va="top", fontsize=9)
    ax_flow.add_patch(Rectangle((7.2, 0), 0.5, 3.5, fc="#e8e8e8", ec="black", lw=1))
    if embed_dim <= 128:
        for k in range(1, embed_dim):
            y = 3.5 * k / embed_dim
            ax_flow.plot([7.2, 7.7], [y, y], color="grey", lw=0.3)
    ax_flow.text(7.45, -0.15, f"one token:\nC = {embed_dim} numbers", ha="center", va="top", fontsize=9)
    arrow = dict(arrowstyle="-|>", color="black", lw=1.5)
    ax_flow.annotate("", xy=(3.5, 1.5), xytext=(2.1, 1.5), arrowprops=arrow)
    ax_flow.text(2.8, 1.65, "flatten", ha="center", va="bottom", fontsize=9)
    ax_flow.annotate("", xy=(7.1, 1.75), xytext=(4.2, 1.75), arrowprops=arrow)
    ax_flow.text(5.65, 1.9, f"Linear({D}, {embed_dim})", ha="center", va="bottom", fontsize=9)
    ax_flow.text(5.65, 1.6, "the same weights\nfor every patch", ha="center", va="top", fontsize=8, color="dimgrey")
    ax_flow.annotate("", xy=(9.0, 1.75), xytext=(7.8, 1.75), arrowprops=arrow)
    ax_flow.text(9.1, 1.75, f"all patches:\na [{H}, {W}, {embed_dim}]\nmap of tokens", ha="left", va="center",
                 fontsize=9)
    ax_flow.set_title("each patch becomes one token", fontsize=10)
    fig.tight_layout()
    return fig


def plot_patch_grid(image: torch.Tensor, patch_size: int = 4, token: tuple[int, int] = (20, 23),
                    zoom_patches: int = 8) -> Figure:
    """The patch partition of an image, from the whole photo down to the 48 numbers of one patch.

    Args:
        image: [3, H, W] in [0, 1] (e.g. :func:`swin_edu.analysis.sample_image`), H and W multiples of ``patch_size``.
        patch_size: P, side of a patch in pixels.
        token: (row, column) of the highlighted patch, in patch units.
        zoom_patches: side of the zoomed block of patches around it (chosen by :func:`swin_edu.analysis.zoom_box`).

    Panels: the image with its P x P grid; a zoom on ``zoom_patches`` x ``zoom_patches`` patches
    (its title and tick labels give its pixel rows and columns); the highlighted patch as P x P
    pixels; its P*P*3 values in the order of ``rearrange(img, 'rgb (h p1) (w p2) -> h w (p1 p2 rgb)')``.
    """
    if image.dim() != 3 or image.shape[0] != 3:
        raise ValueError(f"expected an RGB image of shape [3, H, W], got {tuple(image.shape)}")
    P = patch_size
    _, H, W = image.shape
    pr, pc = token
    top, left, side = zoom_box(H, W, P, token, zoom_patches)
    n = side // P
    fig = plt.figure(figsize=(13, 4.8))
    grid = fig.add_gridspec(2, 3, height_ratios=(5, 1.6), width_ratios=(1, 1, 0.8))
    ax_full, ax_zoom, ax_patch = (fig.add_subplot(grid[0, i]) for i in range(3))
    ax_vals = fig.add_subplot(grid[1, :])

    _show(ax_full, image)
    _grid(ax_full, 0, 0, H // P, W // P, P, color="white", lw=0.25, alpha=0.6)
    ax_full.add_patch(Rectangle((left - 0.5, top - 0.5), side, side, fill=False, ec="yellow", lw=1.5))
    ax_full.set_title(f"{H}x{W} image, {P}x{P} patches: {H // P}x{W // P} = {(H // P) * (W // P)} tokens\n"
                      f"(yellow: the zoomed block)", fontsize=10)

    _show(ax_zoom, image[:, top:top + side, left:left + side],
          extent=(left - 0.5, left + side - 0.5, top + side - 0.5, top - 0.5))
    _grid(ax_zoom, top, left, n, n, P, color="white", lw=1)
    ax_zoom.add_patch(Rectangle((pc * P - 0.5, pr * P - 0.5), P, P, fill=False, ec="yellow", lw=3))
    ax_zoom.set_xticks([left, left + side - 1])
    ax_zoom.set_yticks([top, top + side - 1])
    ax_zoom.tick_params(labelsize=8)
    ax_zoom.set_title(f"zoom: {n}x{n} patches, pixel rows {top}..{top + side - 1},\n"
                      f"columns {left}..{left + side - 1} (yellow: token ({pr}, {pc}))", fontsize=10)

    patch = image[:, pr * P:(pr + 1) * P, pc * P:(pc + 1) * P]  # [3, P, P]
    _show(ax_patch, patch)
    for i in range(P):
        for j in range(P):
            ax_patch.text(j, i, str(i * P + j), ha="center", va="center", color="yellow", fontsize=11)
    ax_patch.set_title(f"token ({pr}, {pc}): rows {pr * P}..{pr * P + P - 1}, columns {pc * P}..{pc * P + P - 1}\n"
                       f"{P}x{P} pixels x 3 colours, numbered row by row", fontsize=10)

    values = rearrange(patch, "rgb p1 p2 -> (p1 p2 rgb)")  # [P*P*3]
    rgb = ("#d62728", "#2ca02c", "#1f77b4")
    bars = ax_vals.bar(range(3 * P * P), values.numpy(), color=list(rgb) * (P * P), width=0.8)
    for k in range(1, P * P):
        ax_vals.axvline(3 * k - 0.5, color="grey", lw=0.5)
    ax_vals.set_xlim(-0.5, 3 * P * P - 0.5)
    ax_vals.set_ylim(0, 1)
    ax_vals.set_xticks(range(1, 3 * P * P, 3), [f"pixel {k}" for k in range(P * P)], fontsize=7)
    ax_vals.set_ylabel("value (0..1)")
    ax_vals.legend(bars[:3], ("red", "green", "blue"), ncol=3, fontsize=8, loc="upper right")
    ax_vals.set_title(f"the token's {3 * P * P} values, ordered (p1 p2 rgb): pixel 0 R G B, pixel 1 R G B, ...",
                      fontsize=10)
    fig.tight_layout()
    return fig


def _token_grid(ax, H: int, W: int, pieces: bool) -> None:
    """An H x W grid of numbered tokens, coloured by 2x2 sub-grid when ``pieces``."""
    for i in range(H):
        for j in range(W):
            color = SUBGRID_COLORS[_SUBGRID_OFFSETS.index((i % 2, j % 2))] if pieces else "lightgrey"
            ax.add_patch(Rectangle((j, i), 1, 1, fc=color, ec="white", lw=2))
            ax.text(j + 0.5, i + 0.5, str(i * W + j), ha="center", va="center", color="white", fontsize=11)
    for k in range(0, H + 1, 2):  # thick lines around each 2x2 neighbourhood
        ax.plot([0, W], [k, k], color="black", lw=2)
    for k in range(0, W + 1, 2):
        ax.plot([k, k], [0, H], color="black", lw=2)
    ax.set_xlim(0, W)
    ax.set_ylim(H, 0)
    ax.set_aspect("equal")
    ax.axis("off")


def plot_merging_idea(H: int = 4, W: int = 4) -> Figure:
    """Notebook 02 at a glance: every 2x2 block of tokens becomes one token.

    Left: a numbered [H, W] map of tokens, the 2x2 blocks outlined and shaded in two greys like a
    chequerboard (no hues: in :func:`plot_patch_merging` colours name the four pieces x0..x3). Right:
    the merged [H/2, W/2] map drawn over the same area, each merged token listing the four tokens of its
    block where they sat: the figure shows WHICH tokens merge, not the order of their channels (that is
    x0, x1, x2, x3); its channels are 4C after the concatenation and 2C after LayerNorm and Linear(4C, 2C).
    """
    if H < 2 or W < 2 or H % 2 or W % 2:
        raise ValueError(f"patch merging needs even H and W, got {H}x{W}")
    tokens = torch.arange(H * W).view(H, W)
    block_color = lambda i, j: _BLOCK_GREYS[(i + j) % 2]  # noqa: E731  block (i, j): a chequerboard of greys
    fig, (ax_in, ax_mid, ax_out) = plt.subplots(1, 3, figsize=(11, 4.2), gridspec_kw={"width_ratios": (1, 0.5, 1)})
    small = H > 6 or W > 8
    for i in range(H):
        for j in range(W):
            ax_in.add_patch(Rectangle((j, i), 1, 1, fc=block_color(i // 2, j // 2), ec="white", lw=1.5))
            ax_in.text(j + 0.5, i + 0.5, str(int(tokens[i, j])), ha="center", va="center", fontsize=8 if small else 11)
    for i in range(H // 2):
        for j in range(W // 2):
            ax_in.add_patch(Rectangle((2 * j, 2 * i), 2, 2, fill=False, ec="black", lw=2))
            ax_out.add_patch(Rectangle((2 * j, 2 * i), 2, 2, fc=block_color(i, j), ec="black", lw=2))
            block = tokens[2 * i:2 * i + 2, 2 * j:2 * j + 2]
            ax_out.text(2 * j + 1, 2 * i + 1, f"{block[0, 0]} {block[0, 1]}\n{block[1, 0]} {block[1, 1]}",
                        ha="center", va="center", fontsize=7 if small else 10, linespacing=1.6)
    for ax in (ax_in, ax_out):
        ax.set_xlim(0, W)
        ax.set_ylim(H, 0)
        ax.set_aspect("equal")
        ax.axis("off")
    ax_in.set_title(f"[H, W, C] = [{H}, {W}, C]\n{H * W} tokens, C channels each", fontsize=10)
    ax_out.set_title(f"[H/2, W/2, 2C] = [{H // 2}, {W // 2}, 2C]\n{H * W // 4} tokens, one per 2x2 block\n"
                     "(which tokens merge, not their channel order)", fontsize=10)
    ax_mid.axis("off")
    ax_mid.annotate("", xy=(1, 0.5), xytext=(0, 0.5), xycoords="axes fraction",
                    arrowprops=dict(arrowstyle="-|>", color="black", lw=1.5))
    ax_mid.text(0.5, 0.56, "concatenate the\n4 tokens of a block:\n4C channels", ha="center", va="bottom",
                fontsize=9, transform=ax_mid.transAxes)
    ax_mid.text(0.5, 0.44, "LayerNorm(4C)\nLinear(4C, 2C)", ha="center", va="top", fontsize=9,
                transform=ax_mid.transAxes)
    fig.tight_layout()
    return fig


def plot_patch_merging(H: int = 4, W: int = 4) -> Figure:
    """Patch merging on a small numbered [H, W] map (H, W even).

    Left: the tokens, one colour per interleaved sub-grid, 2x2 neighbourhoods outlined.
    Middle: the four pieces x[0::2, 0::2], x[1::2, 0::2], x[0::2, 1::2], x[1::2, 1::2] in
    concatenation order. Right: the concatenated [H/2, W/2, 4C] map (before LayerNorm and the
    Linear(4C, 2C) that follow), each token four groups of C channels. A legend under the figure
    names the colours x0..x3.
    """
    if H % 2 or W % 2:
        raise ValueError(f"patch merging needs even H and W, got {H}x{W}")
    tokens = torch.arange(H * W).view(H, W)
    fig = plt.figure(figsize=(13, 4.8))
    outer = fig.add_gridspec(1, 3, width_ratios=(1, 1.3, 0.9), wspace=0.15)
    ax_map = fig.add_subplot(outer[0])
    _token_grid(ax_map, H, W, pieces=True)
    ax_map.set_title(f"[H, W, C] = [{H}, {W}, C]")

    inner = outer[1].subgridspec(2, 2, hspace=0.35, wspace=0.1)
    labels = ("x[0::2, 0::2]", "x[1::2, 0::2]", "x[0::2, 1::2]", "x[1::2, 1::2]")
    for k, ((dr, dc), label) in enumerate(zip(_SUBGRID_OFFSETS, labels)):
        ax = fig.add_subplot(inner[k // 2, k % 2])
        piece = tokens[dr::2, dc::2]
        for i in range(H // 2):
            for j in range(W // 2):
                ax.add_patch(Rectangle((j, i), 1, 1, fc=SUBGRID_COLORS[k], ec="white", lw=2))
                ax.text(j + 0.5, i + 0.5, str(int(piece[i, j])), ha="center", va="center", color="white")
        ax.set_xlim(0, W // 2)
        ax.set_ylim(H // 2, 0)
        ax.set_aspect("equal")
        ax.axis("off")
        ax.set_title(f"x{k}: {label}", fontsize=10)

    ax_cat = fig.add_subplot(outer[2])
    for i in range(H // 2):
        for j in range(W // 2):
            for k, (dr, dc) in enumerate(_SUBGRID_OFFSETS):  # each merged token: 4 blocks of C channels
                ax_cat.add_patch(Rectangle((j + k / 4, i), 1 / 4, 1, fc=SUBGRID_COLORS[k], ec="white", lw=1))
                ax_cat.text(j + k / 4 + 1 / 8, i + 0.5, str(int(tokens[2 * i + dr, 2 * j + dc])),
                            ha="center", va="center", color="white", fontsize=9 if W <= 4 else 6)
            ax_cat.add_patch(Rectangle((j, i), 1, 1, fill=False, ec="black", lw=2))
    ax_cat.set_xlim(0, W // 2)
    ax_cat.set_ylim(H // 2, 0)
    ax_cat.set_aspect("equal")
    ax_cat.axis("off")
    ax_cat.set_title(f"torch.cat([x0, x1, x2, x3], -1):\n[{H // 2}, {W // 2}, 4C], C channels per colour",
                     fontsize=10)
    corners = ("top left", "bottom left", "top right", "bottom right")
    handles = [Patch(fc=color, label=f"x{k}: {corner}, offset ({dr}, {dc})")
               for k, (color, corner, (dr, dc)) in enumerate(zip(SUBGRID_COLORS, corners, _SUBGRID_OFFSETS))]
    fig.legend(handles=handles, loc="lower center", ncol=4, fontsize=9, frameon=False,
               title="the four pieces: position in each 2x2 block, offset = (row offset, column offset)",
               title_fontsize=9)
    fig.subplots_adjust(bottom=0.18)
    return fig


def plot_hierarchy(image: torch.Tensor, patch_size: int = 4, embed_dim: int = 96, num_stages: int = 4) -> Figure:
    """The token grid of every Swin stage drawn over the image: the map halves, the channels double.

    Args:
        image: [3, S, S] in [0, 1] (e.g. :func:`swin_edu.analysis.sample_image`).
        patch_size: P; stage i's tokens cover P * 2^i pixels.
        embed_dim: C of stage 1.
        num_stages: number of stages.
    """
    if image.dim() != 3 or image.shape[0] != 3 or image.shape[1] != image.shape[2]:
        raise ValueError(f"expected a square RGB image of shape [3, S, S], got {tuple(image.shape)}")
    _, S, _ = image.shape
    fig, axes = plt.subplots(1, num_stages, figsize=(2.7 * num_stages, 3.1))
    for i, ax in enumerate(axes):
        step = patch_size * 2**i
        side = S // step
        _show(ax, image)
        _grid(ax, 0, 0, side, side, step, color="white", lw=0.3 if side > 30 else 0.8, alpha=0.7)
        ax.set_title(f"stage {i + 1}: [{side}, {side}, {embed_dim * 2**i}]\none token = {step}x{step} pixels",
                     fontsize=10)
    fig.tight_layout()
    return fig


#: figure file name -> function returning a matplotlib Figure
FIGURES: dict = {
    "patch_grid.png": lambda: plot_patch_grid(sample_image()),
    "patch_merging.png": lambda: plot_patch_merging(4, 4),
    "stage_hierarchy.png": lambda: plot_hierarchy(sample_image()),
}
