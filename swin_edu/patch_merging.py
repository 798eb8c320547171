"""Patch merging: the downsampling between Swin stages.

Every 2x2 neighbourhood of tokens becomes one token: the four interleaved sub-grids
x[0::2, 0::2], x[1::2, 0::2], x[0::2, 1::2], x[1::2, 1::2] are concatenated along channels
(in that order, which is what real checkpoints expect), normalised, and projected from 4C
to 2C. Resolution halves, channels double: [B, H, W, C] -> [B, H/2, W/2, 2C].
"""
from __future__ import annotations

import torch
from einops import rearrange
from torch import nn

__all__ = ["PatchMerging", "merge_patches"]


def merge_patches(x: torch.Tensor) -> torch.Tensor:
    """Concatenate each 2x2 neighbourhood: [B, H, W, C] -> [B, H/2, W/2, 4C].

    The channel order is (x[0::2, 0::2], x[1::2, 0::2], x[0::2, 1::2], x[1::2, 1::2]):
    the row offset h2 varies fastest, then the column offset w2.
    """
    _check_even(x)
    return rearrange(x, "b (h h2) (w w2) c -> b h w (w2 h2 c)", h2=2, w2=2)


def _check_even(x: torch.Tensor) -> None:
    if x.dim() != 4 or x.shape[1] % 2 or x.shape[2] % 2:
        raise ValueError(
            f"patch merging expects a [B, H, W, C] map with even H and W, got shape {tuple(x.shape)}; "
            "choose an image size for which every stage's resolution is even"
        )


class PatchMerging(nn.Module):
    """LayerNorm(4C) and Linear(4C -> 2C, no bias) over merged 2x2 neighbourhoods.

    Args:
        dim: C, channels of the input map.

    Shapes:
        input  [B, H, W, C]
        output [B, H/2, W/2, 2C]
    """

    def __init__(self, dim: int):
        super().__init__()
        self.dim = dim
        self.norm = nn.LayerNorm(4 * dim)
        self.reduction = nn.Linear(4 * dim, 2 * dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.reduction(self.norm(merge_patches(x)))

    def flops(self, H: int, W: int) -> int:
        """Multiply-accumulates for one [H, W, C] input map (LayerNorm + reduction)."""
        return H * W * self.dim + (H // 2) * (W // 2) * 4 * self.dim * 2 * self.dim
