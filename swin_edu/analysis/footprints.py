"""Which input tokens one output token depends on (notebooks 04 and 06): gradient footprints.

The footprint of output token (r, c) is the size of the gradient of that token's output with respect to
every input token. It is exactly 0 where no path joins the two (they never share a window); a pair kept
apart only by the -100 mask still has a path of weight ~e^-100, so :func:`reached_tokens` compares with a
relative threshold rather than with 0.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..block import SwinBlock
from ..model import SwinTransformer

__all__ = ["REACH_THRESHOLD", "block_stack", "gradient_footprint", "reached_tokens", "stage_footprints"]

#: an input token *reaches* an output token when its footprint exceeds this fraction of the footprint's
#: largest value. Exactly 0 means no path at all; a pair masked with -100 still leaks about
#: e^-100 ~ 4e-44 (relative) in float32, far below this; real paths in the notebook's examples stay above
#: 1e-13 of the largest value.
REACH_THRESHOLD = 1e-20


def block_stack(size: int = 28, window_size: int = 7, depth: int = 4, dim: int = 16, num_heads: int = 2,
                seed: int = 0) -> nn.Sequential:
    """``depth`` Swin blocks on a size x size map, alternating W-MSA (shift 0) and SW-MSA
    (shift s = M // 2), randomly initialised with ``seed``, in eval mode. Input/output [B, size, size, dim].

    Raises ValueError for a depth below 1 (and, from :class:`swin_edu.SwinBlock`, for a map that the
    window does not divide or a ``dim`` that ``num_heads`` does not divide).
    """
    if depth < 1:
        raise ValueError(f"expected a depth of at least 1 block, got {depth}")
    torch.manual_seed(seed)
    blocks = [SwinBlock(dim, (size, size), num_heads, window_size, 0 if i % 2 == 0 else window_size // 2)
              for i in range(depth)]
    return nn.Sequential(*blocks).eval()


def gradient_footprint(layers: nn.Module, x: torch.Tensor, token: tuple[int, int]) -> torch.Tensor:
    """Which input tokens one output token depends on: [H, W].

    Entry [i, j] is sum_k |d out[0, r, c, :].sum() / d x[0, i, j, k]| (k runs over the C input
    channels) for token (r, c) = ``token`` (row, column) of the output of ``layers`` (any module mapping
    [1, H, W, C] to [1, h, w, C']). It is exactly 0 when input token
    (i, j) has no path to the output token (e.g. the two never share a window). A pair kept apart only
    by the -100 mask still has a path of weight ~e^-100, so its entry can be tiny but nonzero: use
    :func:`reached_tokens` rather than ``> 0`` to say which tokens the output token depends on.
    """
    if x.ndim != 4 or x.shape[0] != 1:
        raise ValueError(f"expected x of shape [1, H, W, C], got {list(x.shape)}")
    x = x.detach().clone().requires_grad_(True)
    out = layers(x)
    if not (0 <= token[0] < out.shape[1] and 0 <= token[1] < out.shape[2]):
        raise ValueError(f"token {token} is outside the {out.shape[1]}x{out.shape[2]} output map")
    out[0, token[0], token[1]].sum().backward()
    return x.grad[0].abs().sum(-1)


def reached_tokens(footprint: torch.Tensor, threshold: float = REACH_THRESHOLD) -> torch.Tensor:
    """The input tokens an output token depends on: [H, W] footprint -> [H, W] bool.

    True where ``footprint > threshold * footprint.max()`` (``threshold`` relative, default
    :data:`REACH_THRESHOLD` = 1e-20): exact zeros (no path) and the ~e^-100 leaks of masked pairs
    are both False.
    """
    if footprint.ndim != 2:
        raise ValueError(f"expected a footprint of shape [H, W], got {list(footprint.shape)}")
    if not 0 < threshold < 1:
        raise ValueError(f"threshold is relative to the largest value: expected 0 < threshold < 1, got {threshold}")
    return footprint > threshold * footprint.max()


def stage_footprints(img_size: int = 224, patch_size: int = 4, window_size: int = 7, embed_dim: int = 8,
                     depths: Sequence[int] = (2, 2, 2, 2), position: tuple[int, int] = (24, 24),
                     seed: int = 0, num_heads: Sequence[int] | None = None) -> list[torch.Tensor]:
    """Gradient footprints on the patch grid of one token at the output of every stage: one [S, S] per stage.

    A small random Swin in eval mode: ``embed_dim`` channels in stage 1 (doubled by every merging),
    ``depths`` blocks per stage, ``num_heads`` heads per stage (default 1, 2, 4, ...: head dimension
    d = C / nH = ``embed_dim`` in every stage), window ``window_size``. ``position`` = (row, column) of a
    patch on the S x S patch grid, S = img_size / patch_size. The token of stage t (1-based) is the one whose
    2^(t-1) x 2^(t-1) block of patches contains that patch: (row // 2^(t-1), column // 2^(t-1)) of the
    stage's map. Returns one [S, S] map per stage, measured against the patch embedding's output
    (the input of stage 1).
    """
    side = img_size // patch_size
    if not (0 <= position[0] < side and 0 <= position[1] < side):
        raise ValueError(f"position {position} is outside the {side}x{side} patch grid")
    if num_heads is None:
        num_heads = [2**i for i in range(len(depths))]
    if len(num_heads) != len(depths):
        raise ValueError(f"expected one head count per stage ({len(depths)}), got num_heads={list(num_heads)}")
    torch.manual_seed(seed)
    model = SwinTransformer(img_size, patch_size, embed_dim=embed_dim, depths=depths,
                            num_heads=list(num_heads), window_size=window_size).eval()
    z = torch.randn(1, side, side, embed_dim, generator=torch.Generator().manual_seed(seed))
    r, c = position
    return [gradient_footprint(model.layers[:i + 1], z, (r >> i, c >> i)) for i in range(len(depths))]
