"""Window multi-head self-attention (W-MSA / SW-MSA) with relative position bias.

Inside each window of N = M*M tokens, every head h computes

    Attention(Q, K, V) = softmax(Q K^T / sqrt(d) + bias_h + mask) V

where bias_h is the head's relative position bias ([N, N], from a (2M-1)^2 table) and mask is
0 / -100 for shifted windows (see :mod:`swin_edu.windows`). Two paths compute it:
``attention_weights`` + a matmul (explicit, returns the weights the notebooks draw) and
``torch.nn.functional.scaled_dot_product_attention`` (fused). By default the fused path runs on
CUDA and the explicit one on the CPU, where it is faster for such small windows.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn

from .relative_position import relative_position_bias, relative_position_index

__all__ = ["WindowAttention", "msa_macs", "wmsa_macs"]


def msa_macs(H: int, W: int, C: int) -> int:
    """Multiply-accumulates of global multi-head self-attention on an [H, W, C] map:
    4HWC^2 (q, k, v, output projections) + 2(HW)^2 C (Q K^T and weights x V)."""
    return 4 * H * W * C**2 + 2 * (H * W) ** 2 * C


def wmsa_macs(H: int, W: int, C: int, M: int) -> int:
    """Multiply-accumulates of window attention (windows M x M) on an [H, W, C] map:
    4HWC^2 + 2M^2 HWC (softmax, bias and mask not counted)."""
    return 4 * H * W * C**2 + 2 * M**2 * H * W * C


class WindowAttention(nn.Module):
    """Multi-head self-attention inside windows, with relative position bias.

    Args:
        dim: C, channels of every token.
        num_heads: nH; C must be divisible by nH (head dim d = C / nH).
        window_size: M.
        qkv_bias: learn a bias in the q, k, v projection (True in Swin).
        fused: compute attention with ``F.scaled_dot_product_attention`` (True) or with the
            explicit softmax(QK^T/sqrt(d) + B + mask) V (False); None (default) picks the faster
            one for the device: fused on CUDA, explicit on the CPU (where, for windows of 16-49
            tokens, SDPA's kernel is slower than three plain ops). Same numbers up to rounding.

    Shapes:
        x     [B*nW, N, C]   windows of N = M*M tokens, windows of one image contiguous
        mask  [nW, N, N]     0 / -100 shift mask, or None for unshifted windows
        out   [B*nW, N, C]
    """

    def __init__(self, dim: int, num_heads: int, window_size: int, qkv_bias: bool = True,
                 fused: bool | None = None):
        super().__init__()
        if dim % num_heads:
            raise ValueError(f"dim ({dim}) must be divisible by num_heads ({num_heads})")
        self.dim, self.num_heads, self.window_size, self.fused = dim, num_heads, window_size, fused
        self.scale = (dim // num_heads) ** -0.5
        self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * window_size - 1) ** 2, num_heads))
        self.register_buffer("relative_position_index", relative_position_index(window_size), persistent=False)
        self.qkv = nn.Linear(dim, 3 * dim, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)
        nn.init.trunc_normal_(self.relative_position_bias_table, std=0.02)

    def relative_position_bias(self) -> torch.Tensor:
        """The bias added to every window's logits: [nH, N, N]."""
        return relative_position_bias(self.relative_position_bias_table, self.relative_position_index)

    def _qkv(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """[B*nW, N, C] -> q, k, v, each [B*nW, nH, N, d]."""
        qkv = rearrange(self.qkv(x), "bw n (three h d) -> three bw h n d", three=3, h=self.num_heads)
        return qkv.unbind(0)

    def _logit_bias(self, mask: torch.Tensor | None) -> torch.Tensor:
        """Relative position bias plus shift mask: [nH, N, N] or [nW, nH, N, N]."""
        bias = self.relative_position_bias()
        return bias if mask is None else mask[:, None] + bias  # [nW, 1, N, N] + [nH, N, N]

    def attention_weights(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """softmax(Q K^T / sqrt(d) + B + mask) for every window and head: [B*nW, nH, N, N]."""
        q, k, _ = self._qkv(x)
        return self._weights(q, k, mask)

    def _weights(self, q: torch.Tensor, k: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        logits = (q * self.scale) @ k.transpose(-2, -1)  # [B*nW, nH, N, N]
        bias = self._logit_bias(mask)
        if mask is not None:  # group the windows by image so the mask broadcasts over B
            logits = rearrange(logits, "(b nw) h i j -> b nw h i j", nw=mask.shape[0])
            return rearrange((logits + bias).softmax(-1), "b nw h i j -> (b nw) h i j")
        return (logits + bias).softmax(-1)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        q, k, v = self._qkv(x)
        if self.fused or (self.fused is None and x.is_cuda):
            out = self._fused(q, k, v, mask)
        else:
            out = self._weights(q, k, mask) @ v  # [B*nW, nH, N, d]
        return self.proj(rearrange(out, "bw h n d -> bw n (h d)"))

    def _fused(self, q, k, v, mask: torch.Tensor | None) -> torch.Tensor:
        """scaled_dot_product_attention with bias (and mask) broadcast over the batch.

        The windows of all images share one [nW, nH, N, N] additive term, so instead of
        copying it B times we view q, k, v as [B, nW*nH, N, d] and pass a [nW*nH, N, N] term
        that broadcasts over B."""
        bias = self._logit_bias(mask).to(q.dtype)
        if mask is None:
            return F.scaled_dot_product_attention(q, k, v, attn_mask=bias, scale=self.scale)
        nW = mask.shape[0]
        q, k, v = (rearrange(t, "(b nw) h n d -> b (nw h) n d", nw=nW) for t in (q, k, v))
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias.flatten(0, 1), scale=self.scale)
        return rearrange(out, "b (nw h) n d -> (b nw) h n d", nw=nW)

    def flops(self, num_windows: int) -> int:
        """Multiply-accumulates for ``num_windows`` windows: with N = M*M tokens each and hw = nW*N,
        4hwC^2 (q, k, v and output projections) + 2 M^2 hwC (QK^T and attention x V)."""
        return wmsa_macs(num_windows * self.window_size**2, 1, self.dim, self.window_size)
