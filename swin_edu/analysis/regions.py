"""The nine regions of the shifted windows (notebook 04), in both numberings, and one window's mask.

The main line of notebook 04 uses one numbering of the regions, the official code's
(:func:`swin_edu.region_map`): on the ROLLED map each axis is cut by [0, H-M), [H-M, H-s), [H-s, H)
and the 3x3 grid is labelled 0..8 row-major.

Its "Going deeper" part shows a second numbering side by side (:func:`original_region_map`): the same
nine regions numbered 0..8 row-major on the ORIGINAL map, cut by the shifted window grid (rows
[0, s), [s, H-M+s), [H-M+s, H), the same for columns), as the usual drawings of the nine regions do.
Rolling by (-s, -s) moves those bands (0, 1, 2) to the code's bands (2, 0, 1), so a token with code
label 3i + j is in original-map region 3((i+1) % 3) + (j+1) % 3: on an 8x8 map with M=4, s=2 the
top-right window holds the original-map regions 5 and 3, which the code labels 1 and 2.
"""
from __future__ import annotations

from typing import NamedTuple

import torch
from einops import rearrange

from ..windows import check_window, region_map, shifted_window_mask, window_partition

__all__ = ["check_regions", "original_region_map", "RegionViews", "region_views"]


def check_regions(H: int, W: int, window_size: int, shift: int) -> None:
    """ValueError unless the [H, W] map is cut into M x M windows (M = ``window_size``) and 1 <= s < M
    (s = ``shift``): a real shift, hence nine regions."""
    check_window(H, W, window_size, shift)
    if shift < 1:
        raise ValueError(f"the regions need a shift 1 <= s < M = {window_size}, got s = {shift} "
                         "(with s = 0 there is no roll and a single region)")


def original_region_map(H: int, W: int, window_size: int, shift: int) -> torch.Tensor:
    """The regions numbered on the original (un-rolled) map: [H, W] int64.

    Each axis is cut at s and H-M+s (the shifted window grid, first and last bands
    shortened) and the 3x3 grid is numbered 0..8 row-major, as the usual drawings of the nine
    regions do. The same regions as :func:`swin_edu.region_map`, other names: equal to
    ``torch.roll(code, (s, s))`` with code labels mapped by 3i + j -> 3((i+1) % 3) + (j+1) % 3.
    H and W must be multiples of M = ``window_size`` and 1 <= s < M (else ValueError).
    """
    check_regions(H, W, window_size, shift)
    M, s = window_size, shift
    bands = (slice(0, s), slice(s, H - M + s), slice(H - M + s, None))
    cols = (slice(0, s), slice(s, W - M + s), slice(W - M + s, None))
    regions = torch.zeros(H, W, dtype=torch.int64)
    for i, rows in enumerate(bands):
        for j, c in enumerate(cols):
            regions[rows, c] = 3 * i + j
    return regions


class RegionViews(NamedTuple):
    """The regions of one geometry seen four ways, and one window of the rolled map (:func:`region_views`).

    Maps are [H, W] int64 (``inside`` is bool); the window's tensors are row-major over its N = M*M tokens.
    """

    code: torch.Tensor  #: [H, W] the official labels on the rolled map (:func:`swin_edu.region_map`)
    code_back: torch.Tensor  #: [H, W] the official labels rolled back by (+s, +s) onto the original map
    original: torch.Tensor  #: [H, W] the numbering on the original map (:func:`original_region_map`)
    original_rolled: torch.Tensor  #: [H, W] the same numbers after the roll by (-s, -s): they travel with their tokens
    window: int  #: index of the chosen window of the rolled map (row-major over the window grid)
    inside: torch.Tensor  #: [H, W] bool, True on the tokens of that window (on the rolled map)
    code_in_window: torch.Tensor  #: [N] the official label of each token of the window
    original_in_window: torch.Tensor  #: [N] the original-map region of each token of the window
    mask: torch.Tensor  #: [N, N] that window's mask, ``shifted_window_mask(H, W, M, s)[window]``


def region_views(H: int, W: int, window_size: int, shift: int, window: int | None = None) -> RegionViews:
    """Everything the region figures and the shift explorer show, for an [H, W] map, window M, shift s.

    Args:
        H, W: map size, multiples of M = ``window_size``.
        window_size: M >= 2.
        shift: s, with 1 <= s < M (any s, not only M // 2).
        window: a window of the rolled map, 0 <= window < nW = (H/M)(W/M); default: the top-right
            one, W/M - 1.

    Returns:
        :class:`RegionViews`: the region maps in both numberings (before and after the roll), the
        chosen window's tokens, their [N] labels and its [N, N] mask.

    Raises:
        ValueError: if M does not divide H and W, s is not in [1, M), or the window does not exist.
    """
    M, s = window_size, shift
    check_regions(H, W, M, s)
    nW = (H // M) * (W // M)
    window = W // M - 1 if window is None else window
    if not 0 <= window < nW:
        raise ValueError(f"a {H}x{W} map with M={M} has nW = {nW} windows (0..{nW - 1}), got window {window}")
    original = original_region_map(H, W, M, s)
    original_rolled = torch.roll(original, (-s, -s), (0, 1))
    code = region_map(H, W, M, s)
    row, col = divmod(window, W // M)
    inside = torch.zeros(H, W, dtype=torch.bool)
    inside[row * M:(row + 1) * M, col * M:(col + 1) * M] = True

    def in_window(labels: torch.Tensor) -> torch.Tensor:  # [H, W] -> [N], the chosen window row-major
        return rearrange(window_partition(labels[None, :, :, None], M)[window], "m1 m2 one -> (m1 m2 one)")

    return RegionViews(code=code, code_back=torch.roll(code, (s, s), (0, 1)), original=original,
                       original_rolled=original_rolled, window=window, inside=inside,
                       code_in_window=in_window(code), original_in_window=in_window(original_rolled),
                       mask=shifted_window_mask(H, W, M, s)[window])
