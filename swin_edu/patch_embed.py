"""Patch partition + linear embedding: the first step of Swin.

The image is cut into non-overlapping P x P patches (P = 4 in the paper), each patch is
flattened to P*P*3 = 48 numbers and projected linearly to C channels. A Conv2d whose kernel
and stride both equal P does exactly this in one call, so that is how it is implemented.
"""
from __future__ import annotations

import torch
from torch import nn

__all__ = ["PatchEmbed"]


class PatchEmbed(nn.Module):
    """Patch partition and linear embedding, followed by LayerNorm.

    Args:
        patch_size: side P of a square patch.
        in_chans: channels of the input image (3 for RGB).
        embed_dim: C, the channels of every patch token.

    Shapes:
        input  [B, in_chans, H, W]  (H and W divisible by P)
        output [B, H/P, W/P, C]     (channels last, as every later Swin layer expects)
    """

    def __init__(self, patch_size: int = 4, in_chans: int = 3, embed_dim: int = 96):
        super().__init__()
        self.patch_size = patch_size
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=patch_size, stride=patch_size)
        self.norm = nn.LayerNorm(embed_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.proj(x)  # [B, C, H/P, W/P]
        x = x.permute(0, 2, 3, 1)  # [B, H/P, W/P, C]
        return self.norm(x)

    def flops(self, H: int, W: int) -> int:
        """Multiply-accumulates for one [in_chans, H, W] image (projection + LayerNorm)."""
        n = (H // self.patch_size) * (W // self.patch_size)
        c_out, c_in = self.proj.out_channels, self.proj.in_channels
        return n * c_out * c_in * self.patch_size**2 + n * c_out
