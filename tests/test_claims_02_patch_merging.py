"""Notebook 02's claims that hold beyond its example, checked over several geometries.

* ``swin_edu.merge_patches`` is ``torch.cat([x0, x1, x2, x3], -1)`` of the four interleaved sub-grids,
  and the einops pattern ``b (h h2) (w w2) c -> b h w (w2 h2 c)``: merged token (i, j) holds tokens
  (2i, 2j), (2i+1, 2j), (2i, 2j+1), (2i+1, 2j+1) in that order, for any even H and W (square or not).
* ``swin_edu.PatchMerging`` is LayerNorm(4C) and Linear(4C, 2C, no bias) on that concatenation, and
  equals timm's and torchvision's PatchMerging with the same state dict.
* The row-major order gives other outputs with the same weights (off by about the output's own size, for
  weights like the notebook's), and the very same outputs once the
  LayerNorm entries and weight columns of channel groups 1 and 2 are swapped: the order is a relabelling.
* ``PatchMerging.flops(H, W)`` = H*W*C (LayerNorm) + (H/2)(W/2)*4C*2C; ``FlopCounterMode`` sees twice
  the reduction's count; every merging has 8C^2 + 8C parameters.
* Through a whole model each merging divides the tokens by 4 and doubles the channels, so H*W*C^2 is the
  same in every stage.
* Odd sizes: ``swin_edu`` raises a ValueError; timm pads with zeros.
* The official layout's ``layers.i.downsample`` is ``layers.(i+1).downsample`` in swin_edu.
"""
import pytest
import timm.models.swin_transformer as timm_swin
import torch
import torchvision.models.swin_transformer as tv_swin
from einops import rearrange
from torch.utils.flop_counter import FlopCounterMode

import swin_edu

# (B, H, W, C)
MAPS = [(2, 4, 4, 96), (3, 6, 10, 8), (1, 2, 2, 1), (2, 8, 4, 5), (1, 14, 28, 16), (2, 56, 56, 96)]


def _x(B, H, W, C, seed=0):
    return torch.randn(B, H, W, C, generator=torch.Generator().manual_seed(seed))


def _merging(C, seed=0):
    torch.manual_seed(seed)
    merging = swin_edu.PatchMerging(C)
    with torch.no_grad():  # a LayerNorm whose scale and shift are not 1 and 0, as in a checkpoint
        merging.norm.weight.normal_(1.0, 0.1)
        merging.norm.bias.normal_(0.0, 0.1)
    return merging


def _cat(x, order=((0, 0), (1, 0), (0, 1), (1, 1))):
    return torch.cat([x[:, r::2, c::2] for r, c in order], dim=-1)


@pytest.mark.parametrize("B, H, W, C", MAPS)
def test_merge_patches_is_the_four_sub_grids_in_order(B, H, W, C):
    x = _x(B, H, W, C)
    merged = swin_edu.merge_patches(x)
    assert torch.equal(merged, _cat(x))
    assert torch.equal(merged, rearrange(x, "b (h h2) (w w2) c -> b h w (w2 h2 c)", h2=2, w2=2))
    numbered = torch.arange(H * W).view(1, H, W, 1)
    tokens = swin_edu.merge_patches(numbered)[0]  # [H/2, W/2, 4]
    for i in range(H // 2):
        for j in range(W // 2):
            top, bottom = 2 * i * W + 2 * j, (2 * i + 1) * W + 2 * j  # token numbers of the block's left column
            assert tokens[i, j].tolist() == [top, bottom, top + 1, bottom + 1]


@pytest.mark.parametrize("B, H, W, C", MAPS)
def test_patch_merging_is_layernorm_and_linear_and_equals_timm_and_torchvision(B, H, W, C):
    x, merging = _x(B, H, W, C), _merging(C)
    timm_merging, tv_merging = timm_swin.PatchMerging(C), tv_swin.PatchMerging(C)
    timm_merging.load_state_dict(merging.state_dict())
    tv_merging.load_state_dict(merging.state_dict())
    with torch.no_grad():
        lib = merging(x)
        torch.testing.assert_close(merging.reduction(merging.norm(_cat(x))), lib)
        torch.testing.assert_close(timm_merging(x), lib)
        torch.testing.assert_close(tv_merging(x), lib)
    assert lib.shape == (B, H // 2, W // 2, 2 * C)


@pytest.mark.parametrize("B, H, W, C", [m for m in MAPS if m[3] > 1])
def test_the_row_major_order_is_a_relabelling_of_the_channels(B, H, W, C):
    x, merging = _x(B, H, W, C), _merging(C)
    row_major = ((0, 0), (0, 1), (1, 0), (1, 1))
    swap = torch.cat([torch.arange(0, C), torch.arange(2 * C, 3 * C), torch.arange(C, 2 * C),
                      torch.arange(3 * C, 4 * C)])
    relabelled = swin_edu.PatchMerging(C)
    with torch.no_grad():
        relabelled.norm.weight.copy_(merging.norm.weight[swap])
        relabelled.norm.bias.copy_(merging.norm.bias[swap])
        relabelled.reduction.weight.copy_(merging.reduction.weight[:, swap])
        lib = merging(x)
        wrong = merging.reduction(merging.norm(_cat(x, row_major)))
        fixed = relabelled.reduction(relabelled.norm(_cat(x, row_major)))
    assert not torch.allclose(wrong, lib, atol=1e-4)
    # "off by about the output's size" (section 4): not a rounding error but another function
    ratio = (wrong - lib).abs().mean() / lib.abs().mean()
    assert 0.5 < ratio < 2, ratio
    torch.testing.assert_close(fixed, lib)


@pytest.mark.parametrize("H, W, C", [(56, 56, 96), (28, 28, 192), (6, 10, 8), (4, 2, 3)])
def test_costs_and_parameters_of_one_merging(H, W, C):
    merging = swin_edu.PatchMerging(C)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        merging(torch.randn(1, H, W, C))
    reduction = (H // 2) * (W // 2) * (4 * C) * (2 * C)
    assert counter.get_total_flops() == 2 * reduction
    assert merging.flops(H, W) == reduction + H * W * C
    assert sum(p.numel() for p in merging.parameters()) == 8 * C * C + 8 * C


@pytest.mark.parametrize("img_size, patch_size, embed_dim, depths, heads, window", [
    (224, 4, 96, (2, 2, 6, 2), (3, 6, 12, 24), 7),
    (32, 2, 16, (1, 1, 1), (1, 2, 4), 4),
    (128, 4, 8, (1, 1, 1, 1), (1, 1, 1, 1), 4),
])
def test_every_merging_quarters_the_tokens_doubles_the_channels_and_keeps_HWC2(img_size, patch_size, embed_dim,
                                                                                 depths, heads, window):
    model = swin_edu.SwinTransformer(img_size=img_size, patch_size=patch_size, embed_dim=embed_dim, depths=depths,
                                     num_heads=heads, window_size=window).eval()
    shapes = []
    with torch.no_grad():
        feat = model.patch_embed(torch.zeros(1, 3, img_size, img_size))
        for stage in model.layers:
            feat = stage(feat)
            shapes.append(tuple(feat.shape[1:]))
    for (h, w, c), (h2, w2, c2) in zip(shapes, shapes[1:]):
        assert (h2 * w2, c2) == (h * w // 4, 2 * c)
    assert len({h * w * c * c for h, w, c in shapes}) == 1
    merges = [name for name, m in model.named_modules() if isinstance(m, swin_edu.PatchMerging)]
    assert merges == [f"layers.{i}.downsample" for i in range(1, len(depths))]


@pytest.mark.parametrize("shape", [(1, 7, 7, 8), (2, 6, 5, 3), (1, 3, 4, 2), (1, 1, 1, 1)])
def test_odd_sizes_raise_a_value_error_while_timm_pads(shape):
    x = torch.randn(shape)
    with pytest.raises(ValueError, match="even H and W"):
        swin_edu.merge_patches(x)
    with pytest.raises(ValueError, match="even H and W"):
        swin_edu.PatchMerging(shape[-1])(x)
    with torch.no_grad():
        padded = timm_swin.PatchMerging(shape[-1])(x)
    assert padded.shape[1:3] == ((shape[1] + 1) // 2, (shape[2] + 1) // 2)


def test_official_downsample_keys_move_one_stage_up():
    import re

    ours = swin_edu.swin_t().state_dict()
    # the official layout: the merging that starts stage i+1 (swin_edu) ends stage i
    official = {re.sub(r"^layers\.(\d+)\.downsample\.", lambda m: f"layers.{int(m[1]) - 1}.downsample.", k): v
                for k, v in ours.items()}
    assert "layers.0.downsample.reduction.weight" in official and "layers.3.downsample.norm.bias" not in official
    converted, layout = swin_edu.convert_state_dict(official)
    assert layout == "official"
    for key, value in converted.items():
        assert ours[key] is value, key
    assert {k for k in ours if "downsample" in k} <= set(converted)
