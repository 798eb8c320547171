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


def _windows_per_image(mask: torch.Tensor | None) -> int:
    """nW of the shift mask [nW, N, N]; 1 without a mask (the bias is then the same for every window)."""
    return 1 if mask is None else mask.shape[0]


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

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """softmax(Q K^T / sqrt(d) + bias_h + mask) V in every window and head, heads joined and projected:
        windows [B*nW, N, C] (and mask [nW, N, N]) -> [B*nW, N, C]."""
        q, k, v = self._qkv(x, mask)  # each [B*nW, nH, N, d]
        bias, nW = self._bias(mask), _windows_per_image(mask)  # bias [nW*nH, N, N]
        if self.fused or (self.fused is None and x.is_cuda):
            # windows grouped by image, [B, nW*nH, N, d]: the one bias broadcasts over the B images
            q, k, v = (rearrange(t, "(b nw) h n d -> b (nw h) n d", nw=nW) for t in (q, k, v))
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias.to(q.dtype), scale=self.scale)
            out = rearrange(out, "b (nw h) n d -> (b nw) h n d", nw=nW)
        else:
            out = self._softmax(q, k, bias, nW) @ v  # [B*nW, nH, N, N] @ [B*nW, nH, N, d]
        return self.proj(rearrange(out, "bw h n d -> bw n (h d)"))  # heads side by side: [B*nW, N, C]

    def attention_weights(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """softmax(Q K^T / sqrt(d) + B + mask) for every window and head: [B*nW, nH, N, N]
        (the explicit path of :meth:`forward`, stopped before the weights multiply V)."""
        q, k, _ = self._qkv(x, mask)
        return self._softmax(q, k, self._bias(mask), _windows_per_image(mask))

    def _softmax(self, q: torch.Tensor, k: torch.Tensor, bias: torch.Tensor, nW: int) -> torch.Tensor:
        """softmax(q k^T * scale + bias), with the logits grouped by image as in the fused path (a view,
        no copy): [B*nW, nH, N, d] twice and [nW*nH, N, N] -> [B*nW, nH, N, N]."""
        logits = rearrange((q * self.scale) @ k.transpose(-2, -1), "(b nw) h i j -> b (nw h) i j", nw=nW)
        return rearrange((logits + bias).softmax(-1), "b (nw h) i j -> (b nw) h i j", nw=nW)

    def _qkv(self, x: torch.Tensor, mask: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """[B*nW, N, C] -> q, k, v, each [B*nW, nH, N, d]."""
        nW = _windows_per_image(mask)
        if x.dim() != 3 or x.shape[0] % nW or x.shape[2] != self.dim:
            raise ValueError(f"expected windows [B*nW, N, {self.dim}] with nW = {nW} windows per image (the "
                             f"mask's first axis), got {tuple(x.shape)}")
        qkv = rearrange(self.qkv(x), "bw n (three h d) -> three bw h n d", three=3, h=self.num_heads)
        return qkv.unbind(0)

    def _bias(self, mask: torch.Tensor | None) -> torch.Tensor:
        """What every image's logits get added: bias_h, plus the shift mask when there is one:
        [nH, N, N], or [nW, 1, N, N] + [nH, N, N] flattened to [nW*nH, N, N]."""
        bias = self.relative_position_bias()
        return bias if mask is None else (mask[:, None] + bias).flatten(0, 1)

    def flops(self, H: int, W: int) -> int:
        """Multiply-accumulates for one [H, W, C] map cut into M x M windows (:func:`wmsa_macs`):
        4HWC^2 (q, k, v and output projections) + 2 M^2 HWC (QK^T and attention x V)."""
        return wmsa_macs(H, W, self.dim, self.window_size)
