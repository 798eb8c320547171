"""Windows: cutting a feature map into M x M windows, and the mask for shifted windows.

Notation as in the paper: a feature map [B, H, W, C], window side M, nW = (H/M)(W/M)
windows per image, N = M*M tokens per window, shift s = M // 2 in every second block.
"""
from __future__ import annotations

import torch
from einops import rearrange

__all__ = ["window_partition", "window_reverse", "region_map", "shifted_window_mask", "fit_window", "MASK_VALUE"]

#: Added to the attention logits of token pairs that come from different regions (the official value).
#: After softmax such a pair gets a weight of about exp(-100) ~ 4e-44: a subnormal float32, not exactly
#: 0, but 1e-44 of the weight of the token's own region (and exactly 0 in float16 / bfloat16).
MASK_VALUE = -100.0


def check_window_size(window_size: int) -> None:
    """Raise ValueError unless ``window_size`` >= 1 (the one place this is checked)."""
    if window_size < 1:
        raise ValueError(f"window_size must be >= 1, got {window_size}")


def fit_window(H: int, W: int, window_size: int, shift: int) -> tuple[int, int]:
    """The window and shift a block really uses on an [H, W] map: (M, s) as asked, or, when
    min(H, W) <= M, (min(H, W), 0) as in the official code: a window no longer fits twice along the
    shorter side, so there is nothing to shift (the whole map is one window if it is square)."""
    check_window_size(window_size)
    if min(H, W) <= window_size:
        return min(H, W), 0
    return window_size, shift


def check_window(H: int, W: int, window_size: int, shift: int = 0) -> None:
    """Raise ValueError unless an [H, W] map can be cut into windows of side ``window_size``
    shifted by ``shift``."""
    check_window_size(window_size)
    if H % window_size or W % window_size:
        raise ValueError(
            f"a {H}x{W} feature map cannot be cut into {window_size}x{window_size} windows: "
            f"H and W must be multiples of the window size (choose window_size dividing {H} and {W})"
        )
    if not 0 <= shift < window_size:
        raise ValueError(f"shift must be in [0, window_size) = [0, {window_size}), got {shift}")


def window_partition(x: torch.Tensor, window_size: int) -> torch.Tensor:
    """Cut a map into non-overlapping windows: [B, H, W, C] -> [B*nW, M, M, C].

    Windows are ordered batch first, then row-major over the window grid (as in the
    official code), so window k of image b is at index b*nW + k.
    """
    if x.dim() != 4:
        raise ValueError(f"window_partition expects [B, H, W, C], got shape {tuple(x.shape)}")
    check_window(x.shape[1], x.shape[2], window_size)
    M = window_size
    return rearrange(x, "b (nh m1) (nw m2) c -> (b nh nw) m1 m2 c", m1=M, m2=M)


def window_reverse(windows: torch.Tensor, window_size: int, H: int, W: int) -> torch.Tensor:
    """Put windows back in place, the inverse of :func:`window_partition`:
    [B*nW, M, M, C] -> [B, H, W, C]."""
    check_window(H, W, window_size)
    M = window_size
    if windows.dim() != 4 or windows.shape[1:3] != (M, M) or windows.shape[0] % ((H // M) * (W // M)):
        raise ValueError(
            f"window_reverse expects [B*nW, {M}, {M}, C] with nW = {(H // M) * (W // M)} windows per image, "
            f"got shape {tuple(windows.shape)}"
        )
    return rearrange(windows, "(b nh nw) m1 m2 c -> b (nh m1) (nw m2) c", nh=H // M, nw=W // M)


def region_map(H: int, W: int, window_size: int, shift: int) -> torch.Tensor:
    """Label the regions of the cyclically shifted map: [H, W] int64.

    After ``torch.roll(x, (-s, -s))`` the last windows mix tokens that were far apart on the
    original map. Each axis is cut by the slices [0, H-M), [H-M, H-s), [H-s, H): the 3x3 grid
    they form is labelled 0..8 row-major, as the official code does on the rolled map.
    With shift 0 every token is in region 0.
    """
    check_window(H, W, window_size, shift)
    regions = torch.zeros(H, W, dtype=torch.int64)
    if shift == 0:
        return regions
    M, s = window_size, shift
    label = 0
    for rows in (slice(0, -M), slice(-M, -s), slice(-s, None)):
        for cols in (slice(0, -M), slice(-M, -s), slice(-s, None)):
            regions[rows, cols] = label
            label += 1
    return regions


def shifted_window_mask(H: int, W: int, window_size: int, shift: int) -> torch.Tensor:
    """The SW-MSA attention mask: [nW, M*M, M*M] float32.

    Entry [w, i, j] is 0 when tokens i and j of window w come from the same region of
    :func:`region_map`, and -100 (:data:`MASK_VALUE`) when they do not, so that after
    softmax a token gives (almost exactly) zero weight to tokens of another region.
    """
    regions = region_map(H, W, window_size, shift)
    windows = window_partition(regions[None, :, :, None], window_size)  # [nW, M, M, 1]
    labels = windows.flatten(1)  # [nW, N]
    different = labels[:, None, :] != labels[:, :, None]  # [nW, N, N]
    return torch.zeros(different.shape).masked_fill(different, MASK_VALUE)

