"""What one query pixel of a test image attends to in a trained Swin (notebook 07 and its explorer).

A thin layer over :func:`swin_edu.attention_maps.attention_map`: it takes the uint8 test images as the
data set stores them, normalises one the way the test loader does, and refuses a model in training
mode (stochastic depth would make the maps random).
"""
from __future__ import annotations

import torch

from ..attention_maps import attention_map
from ..data import normalize
from ..model import SwinTransformer

__all__ = ["query_attention"]


def _check_images(model: SwinTransformer, images: torch.Tensor, index: int) -> None:
    """ValueError unless ``images`` is uint8 [N, C_in, S, S] at the model's size and ``index`` < N."""
    if images.dtype != torch.uint8 or images.ndim != 4 or images.shape[1] != model.in_chans:
        raise ValueError(f"expected uint8 images [N, {model.in_chans}, S, S], got {images.dtype} {list(images.shape)}")
    if images.shape[-1] != model.img_size or images.shape[-2] != model.img_size:
        raise ValueError(f"the model takes {model.img_size}x{model.img_size} images, got "
                         f"{images.shape[-2]}x{images.shape[-1]}")
    if not 0 <= index < len(images):
        raise ValueError(f"index must be in 0..{len(images) - 1} ({len(images)} images), got {index}")


def query_attention(model: SwinTransformer, images: torch.Tensor, index: int, stage: int, block: int,
                    pixel: tuple[int, int]) -> torch.Tensor:
    """Per-head attention map of the token under ``pixel`` = (row, col) of image ``index``.

    Args:
        model: a :class:`swin_edu.SwinTransformer` in eval mode (in training mode stochastic depth
            would make the map random).
        images: uint8 [N, 3, S, S], e.g. the test images; image ``index`` is normalised with the
            CIFAR-10 statistics (as the test loader does) and moved to the model's device.
        stage, block: 0-based, block < that stage's depth.
        pixel: (row, col) in image pixels.

    Returns:
        [nH, H, W] on the stage's token grid, in image order (the shift undone): each head's map sums
        to 1 over the query's (shifted) window (:func:`swin_edu.attention_maps.attention_map`).
    """
    if model.training:
        raise ValueError("put the model in eval mode first (model.eval()): in training mode stochastic depth "
                         "makes the attention maps random")
    _check_images(model, images, index)
    device = next(model.parameters()).device
    x = normalize(images[index:index + 1].to(device))  # [1, 3, S, S], as the test loader makes it
    return attention_map(model, x, stage, block, tuple(pixel))[0]
