"""The Swin block: pre-norm window attention and MLP, each with a residual connection.

    z' = x + DropPath(W-MSA(LN(x)))        (SW-MSA in every second block: cyclic shift by s)
    z  = z' + DropPath(MLP(LN(z')))
"""
from __future__ import annotations

import torch
from torch import nn

from .attention import WindowAttention
from .windows import check_window, fit_window, shifted_window_mask, window_partition, window_reverse

__all__ = ["SwinBlock", "Mlp", "DropPath"]


class DropPath(nn.Module):
    """Stochastic depth: in training, drop the whole residual branch of a sample with
    probability ``p`` (and scale the kept ones by 1/(1-p)); identity in eval mode.

    Shapes: input and output [B, ...]."""

    def __init__(self, p: float = 0.0):
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.p == 0.0 or not self.training:
            return x
        keep = x.new_empty((x.shape[0],) + (1,) * (x.dim() - 1)).bernoulli_(1 - self.p)
        return x * keep.div_(1 - self.p)  # scale the [B, 1, ...] mask, not the whole tensor


class Mlp(nn.Module):
    """Two linear layers with GELU between: [..., C] -> [..., hidden] -> [..., C]."""

    def __init__(self, dim: int, hidden_dim: int):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden_dim)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden_dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class SwinBlock(nn.Module):
    """One Swin Transformer block on an [H, W] map.

    Args:
        dim: C.
        input_resolution: (H, W) of the map this block sees (fixed: masks are built once).
        num_heads: nH.
        window_size: M. Shrunk to min(H, W) when min(H, W) <= M (the whole map only if it is square:
            a 7x14 map with M = 7 keeps two 7x7 windows).
        shift_size: s, 0 for W-MSA, M // 2 for SW-MSA. Forced to 0 when min(H, W) <= M, as in the
            official code (on a square map one window then covers it all; timm and torchvision
            instead switch the shift off only along an axis no longer than the window).
        mlp_ratio: hidden width of the MLP relative to C.
        drop_path: stochastic depth probability of both residual branches.

    Shapes:
        input and output [B, H, W, C]
    """

    def __init__(self, dim: int, input_resolution: tuple[int, int], num_heads: int, window_size: int = 7,
                 shift_size: int = 0, mlp_ratio: float = 4.0, drop_path: float = 0.0):
        super().__init__()
        H, W = input_resolution
        window_size, shift_size = fit_window(H, W, window_size, shift_size)
        check_window(H, W, window_size, shift_size)
        self.input_resolution, self.window_size, self.shift_size = (H, W), window_size, shift_size
        self.norm1 = nn.LayerNorm(dim)
        self.attn = WindowAttention(dim, num_heads, window_size)
        self.drop_path1 = DropPath(drop_path)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))
        self.drop_path2 = DropPath(drop_path)
        mask = shifted_window_mask(H, W, window_size, shift_size) if shift_size else None
        self.register_buffer("attn_mask", mask, persistent=False)  # [nW, N, N] or None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.drop_path1(self.shifted_window_attention(self.norm1(x)))
        return x + self.drop_path2(self.mlp(self.norm2(x)))

    def shifted_window_attention(self, x: torch.Tensor) -> torch.Tensor:
        """W-MSA (s = 0) or SW-MSA on a map: [B, H, W, C] -> same."""
        return self.from_windows(self.attn(self.to_windows(x), self.attn_mask))

    def to_windows(self, x: torch.Tensor) -> torch.Tensor:
        """Roll by -s (SW-MSA) and cut into windows: [B, H, W, C] -> [B*nW, N, C], N = M*M."""
        if self.shift_size:
            x = torch.roll(x, shifts=(-self.shift_size, -self.shift_size), dims=(1, 2))
        return window_partition(x, self.window_size).flatten(1, 2)

    def from_windows(self, windows: torch.Tensor) -> torch.Tensor:
        """The inverse of :meth:`to_windows`: put windows back and roll by +s,
        [B*nW, N, c] -> [B, H, W, c] (any number of channels c)."""
        M, (H, W) = self.window_size, self.input_resolution
        x = window_reverse(windows.unflatten(1, (M, M)), M, H, W)
        if self.shift_size:
            x = torch.roll(x, shifts=(self.shift_size, self.shift_size), dims=(1, 2))
        return x

    def flops(self) -> int:
        """Multiply-accumulates for one image: two LayerNorms, W-MSA over all windows, MLP."""
        H, W = self.input_resolution
        C = self.attn.dim
        mlp = 2 * H * W * C * self.mlp.fc1.out_features
        return 2 * H * W * C + self.attn.flops(H, W) + mlp
