"""Claims of notebook 00 (Swin at a glance) that hold beyond its example, over many configurations:
the parameter and MAC formulas, the cost of a block, the shapes through the model, the shift rule, how
``model.flops()`` differs from the official code's ``flops()`` (the final LayerNorm only), and what swin_edu,
timm and torchvision do on a map whose side is no larger than a window (Going deeper, "More pitfalls")."""
from functools import lru_cache

import pytest
import torch

import swin_edu as se
from swin_edu.recipes import RECIPES

SWIN_T = dict(embed_dim=96, depths=(2, 2, 6, 2), num_heads=(3, 6, 12, 24))
CIFAR = dict(img_size=32, patch_size=2, num_classes=10, embed_dim=96, depths=(2, 6, 2), num_heads=(3, 6, 12),
             window_size=4)
# full SwinTransformer configurations (anything left out takes the class default: 224, patch 4, M = 7, ...)
CONFIGS = {
    "swin_t": SWIN_T,
    "swin_s": dict(embed_dim=96, depths=(2, 2, 18, 2), num_heads=(3, 6, 12, 24)),
    "swin_b": dict(embed_dim=128, depths=(2, 2, 18, 2), num_heads=(4, 8, 16, 32)),
    "swin_l": dict(embed_dim=192, depths=(2, 2, 18, 2), num_heads=(6, 12, 24, 48)),
    "swin_t_256_M8": {**SWIN_T, "img_size": 256, "window_size": 8},
    "swin_t_192_M6": {**SWIN_T, "img_size": 192, "window_size": 6},
    "swin_t_448_10_classes": {**SWIN_T, "img_size": 448, "num_classes": 10},
    "swin_cifar": CIFAR,
    "cifar_cpu_recipe": {**CIFAR, **RECIPES["cpu"].model},
    "one_stage_gray": dict(img_size=28, patch_size=2, in_chans=1, embed_dim=16, depths=(2,), num_heads=(2,),
                           window_size=7),
}
SMALL = ["swin_t", "swin_t_256_M8", "swin_t_192_M6", "swin_cifar", "cifar_cpu_recipe", "one_stage_gray"]


def _get(config, key):
    return config.get(key, {"img_size": 224, "patch_size": 4, "in_chans": 3, "num_classes": 1000,
                            "window_size": 7}[key])


@lru_cache(maxsize=None)
def _model(name):
    return se.SwinTransformer(**CONFIGS[name]).eval()


def _shapes_only(name):
    """The model on the meta device: its parameters' shapes and flops() without allocating or initialising them."""
    with torch.device("meta"):
        return se.SwinTransformer(**CONFIGS[name])  # not _model: its cache must keep the CPU models


def count_parameters(config):
    """Notebook 00's formula: parameters from the configuration alone."""
    C, depths, heads, M = config["embed_dim"], config["depths"], config["num_heads"], _get(config, "window_size")
    P, classes, side = _get(config, "patch_size"), _get(config, "num_classes"), _get(config, "img_size")
    side //= P
    total = P * P * _get(config, "in_chans") * C + C + 2 * C
    for i, (depth, nH) in enumerate(zip(depths, heads)):
        c = C * 2**i
        if i > 0:
            total += 8 * (c // 2) ** 2 + 8 * (c // 2)
            side //= 2
        m = min(M, side)
        total += depth * (12 * c * c + 13 * c + (2 * m - 1) ** 2 * nH)
    return total + 2 * c + c * classes + classes


def count_macs(config):
    """Multiply-accumulates for one image from the configuration alone, term by term as notebook 00's Going
    deeper ("Where the MACs go") adds them up: patch embedding, merging, blocks, final LayerNorm, head."""
    C, depths, M = config["embed_dim"], config["depths"], _get(config, "window_size")
    P, classes = _get(config, "patch_size"), _get(config, "num_classes")
    side = _get(config, "img_size") // P
    total = side * side * P * P * _get(config, "in_chans") * C + side * side * C
    for i, depth in enumerate(depths):
        c = C * 2**i
        if i > 0:
            total += (side // 2) ** 2 * 2 * c * c + side * side * (c // 2)
            side //= 2
        m = min(M, side)
        total += depth * (12 * side * side * c * c + 2 * m * m * side * side * c + 2 * side * side * c)
    return total + side * side * c + c * classes


@pytest.mark.parametrize("name", CONFIGS)
def test_parameter_formula_equals_the_built_model(name):
    assert count_parameters(CONFIGS[name]) == sum(p.numel() for p in _shapes_only(name).parameters())


@pytest.mark.parametrize("name", CONFIGS)
def test_mac_formula_equals_model_flops(name):
    assert count_macs(CONFIGS[name]) == _shapes_only(name).flops()


@pytest.mark.parametrize("name", CONFIGS)
def test_every_block_costs_12HWC2_plus_2M2HWC_plus_2HWC(name):
    # W-MSA and SW-MSA blocks cost the same: the roll and the mask are not counted
    for layer in _shapes_only(name).layers:
        for block in layer.blocks:
            (H, W), M, C = block.input_resolution, block.window_size, block.attn.dim
            assert block.flops() == 12 * H * W * C**2 + 2 * M * M * H * W * C + 2 * H * W * C


@pytest.mark.slow
@pytest.mark.parametrize("name", CONFIGS)
def test_windowed_attention_pairs_are_linear_in_the_tokens(name):
    for layer in _model(name).layers:
        block = layer.blocks[0]
        (H, W), M = block.input_resolution, block.window_size
        assert H % M == 0 and W % M == 0                     # the windows tile every map
        num_windows = (H // M) * (W // M)
        assert num_windows * (M * M) ** 2 == H * W * M * M   # each token scores the M^2 tokens of its window


@pytest.mark.slow
@pytest.mark.parametrize("name", SMALL)
def test_shapes_shift_rule_and_logits_by_hand(name):
    config, model = CONFIGS[name], _model(name)
    S, P, C = _get(config, "img_size"), _get(config, "patch_size"), config["embed_dim"]
    x = torch.randn(2, _get(config, "in_chans"), S, S)
    with torch.no_grad():
        z = model.patch_embed(x)
        assert z.shape == (2, S // P, S // P, C)             # channels last from here on
        for i, layer in enumerate(model.layers):
            z = layer(z)
            side = S // P // 2**i
            assert z.shape == (2, side, side, C * 2**i)
            M = _get(config, "window_size")
            shifts = [block.shift_size for block in layer.blocks]
            if side <= M:                                    # one window covers the map: no shift
                assert [block.window_size for block in layer.blocks] == [side] * len(shifts)
                assert shifts == [0] * len(shifts)
            else:
                assert shifts == [0, M // 2] * (len(shifts) // 2)
        by_hand = model.head(model.norm(z).mean(dim=(1, 2)))
        assert torch.equal(by_hand, model(x))


# What flops() of the official code (microsoft/Swin-Transformer, models/swin_transformer.py, commit 055c506)
# returns for these configurations, measured by running it. Its final-LayerNorm term is
# num_features * patches_resolution[0] * patches_resolution[1] // 2 ** num_layers.
OFFICIAL_FLOPS = {"swin_t": 4_494_405_120, "swin_s": 8_746_520_064, "swin_b": 15_438_473_216,
                  "swin_l": 34_487_049_216, "swin_cifar": 297_520_896}


@pytest.mark.parametrize("name", OFFICIAL_FLOPS)
def test_flops_differ_from_the_official_code_only_in_the_final_layernorm(name):
    model, config = (_model(name) if name in SMALL else _shapes_only(name)), CONFIGS[name]
    first = _get(config, "img_size") // _get(config, "patch_size")
    last = model.layers[-1].blocks[0].input_resolution[0]
    ours = last * last * model.num_features                                  # one MAC per value of the last map
    official = model.num_features * first * first // 2 ** len(model.layers)
    assert model.flops() - ours + official == OFFICIAL_FLOPS[name]
    assert official == 2 ** (len(model.layers) - 2) * ours                   # 4x for four stages, 2x for three
    if name in SMALL:                                                        # the values the final norm outputs
        S = _get(config, "img_size")
        with torch.no_grad():
            assert model.forward_features(torch.randn(1, _get(config, "in_chans"), S, S)).numel() == ours


@pytest.mark.parametrize("H, W, M", [(7, 14, 7), (5, 10, 7), (4, 12, 4)])
def test_a_side_no_larger_than_the_window_swin_edu_timm_and_torchvision(H, W, M):
    """swin_edu (like the official code) sets the window to min(H, W) and the shift to 0 for the whole block;
    timm shrinks the window and drops the shift per axis; torchvision keeps the window M, pads the map to a
    multiple of M and drops the shift only along an axis whose padded side is no larger than M."""
    from timm.models.swin_transformer import SwinTransformerBlock as TimmBlock
    from torchvision.models.swin_transformer import SwinTransformerBlock as TorchvisionBlock

    s = M // 2
    ours = se.SwinBlock(16, (H, W), 2, window_size=M, shift_size=s).eval()
    assert (ours.window_size, ours.shift_size) == (min(H, W), 0)
    x = torch.randn(1, H, W, 16)
    changed = x.clone()
    changed[:, :, min(H, W):] += 1.0                         # change everything right of the first window
    with torch.no_grad():                                    # the first window never hears of it
        assert torch.equal(ours(x)[:, :, :min(H, W)], ours(changed)[:, :, :min(H, W)])

    timm_block = TimmBlock(16, (H, W), num_heads=2, window_size=M, shift_size=s)
    assert tuple(timm_block.window_size) == (min(H, M), min(W, M))
    assert tuple(timm_block.shift_size) == (0 if H <= M else s, 0 if W <= M else s)

    torch.manual_seed(0)
    tv = TorchvisionBlock(16, 2, [M, M], [s, s]).eval()
    tv_no_row_shift = TorchvisionBlock(16, 2, [M, M], [0, s]).eval()
    tv_no_row_shift.load_state_dict(tv.state_dict())
    tv_no_shift = TorchvisionBlock(16, 2, [M, M], [0, 0]).eval()
    tv_no_shift.load_state_dict(tv.state_dict())
    assert tv.attn.relative_position_bias_table.shape[0] == (2 * M - 1) ** 2   # the window stays M
    with torch.no_grad():
        out = tv(x)                                          # H not a multiple of M: padded, not refused
        assert out.shape == x.shape
        assert torch.equal(out, tv_no_row_shift(x))          # padded H <= M: no shift along the rows
        assert not torch.allclose(out, tv_no_shift(x))       # padded W > M: the columns still shift
