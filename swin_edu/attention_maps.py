"""Where does a token look? Attention maps of a trained Swin, placed back on the image.

Inside block j of stage i the attention runs on windows of the *rolled* map (for SW-MSA the
map is rolled by -s first, see :meth:`swin_edu.SwinBlock.shifted_window_attention`). To draw
what one query token attends to, we

1. run the model up to that block and apply its ``norm1`` (the input of ``block.attn``);
2. roll by -s and cut into windows with the block's own :meth:`swin_edu.SwinBlock.to_windows`;
3. take the softmax weights of :meth:`swin_edu.WindowAttention.attention_weights`
   ([B*nW, nH, N, N]) for the query's row;
4. write that row into an otherwise empty map at its window's place, undo the partition with
   :meth:`swin_edu.SwinBlock.from_windows` (window reverse, roll by +s): the map is then in image order.

For a W-MSA block the non-zero part is the query's M x M window; for an SW-MSA block it is the
shifted window that holds the query, cut down to the query's region by the -100 mask (the mask multiplies
a key of another region's term of the softmax by e^-100 ~ 4e-44: its weight is tiny, a float32 denormal or
exactly 0; "receives attention" therefore means a weight above a threshold such as 1e-30). A fixed threshold is
enough because attention weights are probabilities, already relative to their row's total of 1
(notebook 06's footprints have no fixed scale, so "reached" there is relative: F > 1e-20 * max F).

Forgetting step 4's roll by +s moves the map s tokens up and to the left (cyclically). E.g. the
bottom-right query of an H x W map attends to its region, rows H-M+s .. H-1 and columns W-M+s .. W-1
(M - s of each); without the roll back its map lands on rows H-M .. H-s-1 and columns W-M .. W-s-1.
"""
from __future__ import annotations

import torch
from einops import rearrange

from .model import SwinTransformer

__all__ = ["block_input", "check_stage_block", "token_of_pixel", "attention_map", "relative_position_bias_image"]


def check_stage_block(model: SwinTransformer, stage: int, block: int) -> None:
    """Raise ValueError unless 0 <= stage < number of stages and 0 <= block < that stage's depth
    (both 0-based, as in ``model.layers[stage].blocks[block]``)."""
    stages = len(model.layers)
    if not 0 <= stage < stages:
        raise ValueError(f"stage must be in 0..{stages - 1} (0-based, {stages} stages), got {stage}")
    depth = len(model.layers[stage].blocks)
    if not 0 <= block < depth:
        raise ValueError(f"block must be in 0..{depth - 1}: stage {stage} (0-based) has {depth} blocks, got {block}")


@torch.no_grad()
def block_input(model: SwinTransformer, images: torch.Tensor, stage: int, block: int) -> torch.Tensor:
    """The map that enters ``model.layers[stage].blocks[block]``: [B, 3, S, S] -> [B, H, W, C]."""
    check_stage_block(model, stage, block)
    if images.ndim != 4 or images.shape[1] != model.in_chans or not images.is_floating_point():
        raise ValueError(f"expected normalised float images [B, {model.in_chans}, S, S], got "
                         f"{images.dtype} {list(images.shape)}")
    x = model.patch_embed(images)
    for layer in model.layers[:stage]:
        x = layer(x)
    layer = model.layers[stage]
    x = layer.downsample(x)
    for blk in layer.blocks[:block]:
        x = blk(x)
    return x


def token_of_pixel(model: SwinTransformer, stage: int, pixel: tuple[int, int]) -> tuple[int, int]:
    """The token (row, column) of stage ``stage``'s grid that covers image pixel (y, x)."""
    stride = model.patch_embed.patch_size * 2**stage
    return pixel[0] // stride, pixel[1] // stride


@torch.no_grad()
def attention_map(model: SwinTransformer, images: torch.Tensor, stage: int, block: int,
                  pixel: tuple[int, int]) -> torch.Tensor:
    """Attention of the token under image pixel ``pixel`` = (y, x), per head, in image order.

    Args:
        model: a :class:`swin_edu.SwinTransformer` (put in eval mode by the caller).
        images: [B, 3, S, S] normalised images.
        stage, block: which block (0-based), e.g. (0, 0) for W-MSA and (0, 1) for SW-MSA; a
            ValueError names the valid range (block < that stage's depth).
        pixel: query position in image pixels; its token is ``pixel // (patch_size * 2**stage)``.

    Returns:
        [B, nH, H, W] on the stage's token grid, un-rolled: entry [b, h, y, x] is the weight
        head h of the query gives to the token at (y, x). Each [b, h] map sums to 1 and is exactly
        zero outside the query's (shifted) window; inside it, keys of another region get a tiny weight
        (their softmax term times e^-100; often exactly 0).
    """
    check_stage_block(model, stage, block)
    blk = model.layers[stage].blocks[block]
    x = blk.norm1(block_input(model, images, stage, block))  # [B, H, W, C]
    B, H, W, _ = x.shape
    M, s = blk.window_size, blk.shift_size
    qy, qx = token_of_pixel(model, stage, pixel)
    if not (0 <= qy < H and 0 <= qx < W):
        raise ValueError(f"pixel {pixel} is outside the {H}x{W} token grid of stage {stage}")

    weights = blk.attn.attention_weights(blk.to_windows(x), blk.attn_mask)  # [B*nW, nH, N, N]
    # where the query sits after the roll: its window k and its index i inside the window
    ry, rx = (qy - s) % H, (qx - s) % W
    k = (ry // M) * (W // M) + rx // M
    i = (ry % M) * M + rx % M
    nW = (H // M) * (W // M)
    weights = rearrange(weights, "(b nw) h i j -> b nw h i j", nw=nW)

    windows = torch.zeros(B, nW, M * M, weights.shape[2], dtype=weights.dtype, device=weights.device)
    windows[:, k] = rearrange(weights[:, k, :, i], "b h j -> b j h")  # only the query's window is non-zero
    maps = blk.from_windows(windows.flatten(0, 1))  # [B, H, W, nH], windows put back and the roll undone
    return rearrange(maps, "b y x h -> b h y x")


def relative_position_bias_image(attn) -> torch.Tensor:
    """A head's learned relative position bias as an image: [(2M-1)^2, nH] table -> [nH, 2M-1, 2M-1].

    Entry [h, M-1 + dy, M-1 + dx] is the bias head h adds to the logit of a key at relative position
    (dy, dx) = query - key (rows, columns), the convention of the table itself (notebook 05): the centre
    [M-1, M-1] is the query itself, and dy = +1 is a key one row *above* the query. The image stays on
    the table's device (call ``.cpu()`` before numpy or plotting).
    """
    M = attn.window_size
    table = attn.relative_position_bias_table.detach()  # row (dy + M-1) * (2M-1) + (dx + M-1)
    return rearrange(table, "(dy dx) h -> h dy dx", dy=2 * M - 1).clone()
