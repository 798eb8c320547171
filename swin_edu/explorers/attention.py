"""Explorer for notebook 07: what one query pixel attends to, per head, in a trained Swin."""
from __future__ import annotations

from functools import partial

import ipywidgets as widgets
import torch
from matplotlib.figure import Figure

from ..analysis.attention import query_attention
from ..model import SwinTransformer
from ..plotting.training import plot_attention_maps
from ._widget import Explorer, slider

__all__ = ["explore_attention", "draw_attention", "follow_depth"]


def draw_attention(model: SwinTransformer, images: torch.Tensor, index: int, stage: int, block: int,
                   row: int, col: int) -> Figure:
    """The explorer's figure: image ``index`` and each head's attention map of the query pixel
    (row, col) in block ``block`` of stage ``stage`` (0-based), computed by
    :func:`swin_edu.analysis.query_attention` and drawn by :func:`swin_edu.plotting.plot_attention_maps`."""
    maps = query_attention(model, images, index, stage, block, (row, col))
    blk = model.layers[stage].blocks[block]
    kind = "SW-MSA" if blk.shift_size else "W-MSA"
    title = (f"image {index}, stage {stage + 1}, block {block + 1} (code: stage={stage}, block={block}; {kind}, "
             f"M = {blk.window_size}, s = {blk.shift_size}), query pixel ({row}, {col})")
    return plot_attention_maps(images[index], maps.cpu(), (row, col), title)


def follow_depth(model: SwinTransformer, controls: dict[str, widgets.ValueWidget]) -> None:
    """Keep the block slider inside the chosen stage's depth: 0..len(model.layers[stage].blocks) - 1
    (a smaller depth lowers the block with the bound)."""
    controls["block"].max = len(model.layers[controls["stage"].value].blocks) - 1


def explore_attention(model: SwinTransformer, images: torch.Tensor, index: int = 0, stage: int = 0,
                      block: int = 1, pixel: tuple[int, int] = (14, 14)) -> Explorer:
    """Sliders for the image (``index`` into ``images``, uint8 [N, 3, S, S]), the stage and block
    (0-based; the block's range follows the stage's depth) and the query pixel (row, col): redraws
    each head's attention map of that query, the cyclic shift undone (:func:`draw_attention`)."""
    query_attention(model, images, index, stage, block, pixel)  # a bad start value fails here, clearly
    S = images.shape[-1]
    controls = {
        "index": slider("image", index, 0, len(images) - 1),
        "stage": slider("stage (0-based)", stage, 0, len(model.layers) - 1),
        "block": slider("block (0-based)", block, 0, len(model.layers[stage].blocks) - 1),
        "row": slider("query row (px)", pixel[0], 0, S - 1),
        "col": slider("query col (px)", pixel[1], 0, S - 1),
    }
    return Explorer(partial(draw_attention, model, images), controls,
                    "attention of one query pixel, per head (shift undone)", link=partial(follow_depth, model))
