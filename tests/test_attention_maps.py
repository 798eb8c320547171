"""swin_edu.attention_maps: a query's attention lands where its (shifted) window really is on the image."""
import itertools

import pytest
import torch

from swin_edu import region_map, swin_cifar
from swin_edu.attention_maps import attention_map, block_input, relative_position_bias_image, token_of_pixel

# exp(-100) after the softmax is about 1e-44: a float32 denormal, not exactly 0. Anything a masked
# pair can receive is far below this threshold, anything a visible pair receives far above it.
VISIBLE = 1e-30


@pytest.fixture(scope="module")
def setup():
    torch.manual_seed(0)
    # patch 4: stage 0 on an 8x8 grid (W-MSA, then SW-MSA with M = 4, s = 2), stage 1 on 4x4 (one window)
    model = swin_cifar(embed_dim=32, depths=(2, 2), num_heads=(2, 4), patch_size=4).eval()
    with torch.no_grad():  # random relative position biases large enough to matter
        for blk in model.layers[0].blocks:
            blk.attn.relative_position_bias_table.normal_(0, 1)
    images = torch.randn(2, 3, 32, 32)
    return model, images


def shifted_window(p: int, size: int, M: int, s: int) -> int:
    """Index of the (shifted) window that holds position p along one axis, in image coordinates."""
    return ((p - s) % size) // M


def reference_map(model, images, stage, block, q):
    """Attention of token q computed on the un-rolled map by brute force: every token pair of the
    map, allowed iff both tokens share the shifted window and the region; bias by the true offset."""
    blk = model.layers[stage].blocks[block]
    attn = blk.attn
    with torch.no_grad():
        x = blk.norm1(block_input(model, images, stage, block))  # [B, H, W, C]
        B, H, W, C = x.shape
        M, s, nH = blk.window_size, blk.shift_size, attn.num_heads
        qkv = attn.qkv(x).view(B, H, W, 3, nH, C // nH)
        query, keys = qkv[:, q[0], q[1], 0], qkv[:, :, :, 1]  # [B, nH, d], [B, H, W, nH, d]
        logits = torch.einsum("bhd,byxhd->bhyx", query, keys) * attn.scale
        regions = region_map(H, W, M, s).roll((s, s), dims=(0, 1))  # region of each token, image coordinates
        ky, kx = torch.meshgrid(torch.arange(H), torch.arange(W), indexing="ij")
        allowed = ((shifted_window(ky, H, M, s) == shifted_window(q[0], H, M, s))
                   & (shifted_window(kx, W, M, s) == shifted_window(q[1], W, M, s))
                   & (regions == regions[q]))
        # relative positions query minus key; clamped where not allowed (those logits are masked anyway)
        dy, dx = (q[0] - ky).clamp(-(M - 1), M - 1), (q[1] - kx).clamp(-(M - 1), M - 1)
        bias = relative_position_bias_image(attn)[:, M - 1 + dy, M - 1 + dx]  # [nH, H, W]
        logits = (logits + bias).masked_fill(~allowed, float("-inf"))
        return logits.flatten(2).softmax(-1).view(B, nH, H, W), allowed


@pytest.mark.slow
@pytest.mark.parametrize("block", [0, 1], ids=["W-MSA", "SW-MSA"])
def test_map_matches_brute_force_everywhere(setup, block):
    model, images = setup
    for qy, qx in itertools.product(range(8), range(8)):
        pixel = (4 * qy + 1, 4 * qx + 3)  # any pixel of the 4x4 patch
        maps = attention_map(model, images, 0, block, pixel)
        assert maps.shape == (2, 2, 8, 8)
        expected, allowed = reference_map(model, images, 0, block, (qy, qx))
        torch.testing.assert_close(maps, expected, atol=1e-6, rtol=1e-5)
        torch.testing.assert_close(maps.sum((-2, -1)), torch.ones(2, 2))
        assert torch.equal(maps > VISIBLE, allowed.expand_as(maps))  # the support is exactly the allowed set


def test_wmsa_support_is_the_query_window(setup):
    model, images = setup
    maps = attention_map(model, images, 0, 0, (13, 22))  # token (3, 5): window rows 0-3, columns 4-7
    support = (maps > VISIBLE).any(0).any(0)
    expected = torch.zeros(8, 8, dtype=torch.bool)
    expected[0:4, 4:8] = True
    assert torch.equal(support, expected)


@pytest.mark.slow
def test_swmsa_support_inside_shifted_window_and_region(setup):
    model, images = setup
    M, s = 4, 2
    regions = region_map(8, 8, M, s).roll((s, s), dims=(0, 1))
    for qy, qx in itertools.product(range(8), range(8)):
        support = (attention_map(model, images, 0, 1, (4 * qy, 4 * qx)) > VISIBLE).any(0).any(0)
        ys, xs = support.nonzero(as_tuple=True)
        assert support[qy, qx]  # a token always sees itself
        assert all(shifted_window(y, 8, M, s) == shifted_window(qy, 8, M, s) for y in ys.tolist())
        assert all(shifted_window(x, 8, M, s) == shifted_window(qx, 8, M, s) for x in xs.tolist())
        assert (regions[ys, xs] == regions[qy, qx]).all()  # inside the query's region
    # a centre token: the shifted window rows 2-5, columns 2-5, one region, no wrap
    support = (attention_map(model, images, 0, 1, (15, 16)) > VISIBLE)[0, 0]
    expected = torch.zeros(8, 8, dtype=torch.bool)
    expected[2:6, 2:6] = True
    assert torch.equal(support, expected)
    # the bottom-right token: its shifted window wraps around; the mask keeps only the 2x2 corner
    support = (attention_map(model, images, 0, 1, (31, 31)) > VISIBLE)[0, 0]
    expected = torch.zeros(8, 8, dtype=torch.bool)
    expected[6:, 6:] = True
    assert torch.equal(support, expected)


def test_last_stage_one_window(setup):
    model, images = setup
    maps = attention_map(model, images, 1, 1, (0, 0))  # 4x4 map = one window: shift switched off
    assert maps.shape == (2, 4, 4, 4) and (maps > 0).all()
    assert token_of_pixel(model, 1, (31, 8)) == (3, 1)
    with pytest.raises(ValueError, match="outside"):
        attention_map(model, images, 0, 0, (40, 0))


def test_relative_position_bias_image(setup):
    """The image is indexed by Δ = query - key (the series' convention), for every token pair."""
    model, _ = setup
    attn = model.layers[0].blocks[0].attn
    img = relative_position_bias_image(attn)  # [nH, 7, 7]
    assert img.shape == (2, 7, 7)
    bias = attn.relative_position_bias().detach()  # [nH, N, N], query i, key j
    M = 4
    for i, j in itertools.product(range(M * M), repeat=2):
        dy = i // M - j // M  # query minus key
        dx = i % M - j % M
        torch.testing.assert_close(img[:, M - 1 + dy, M - 1 + dx], bias[:, i, j])
    # a key one row above the query (Δy = +1) is the pixel one row below the centre
    i, j = 1 * M + 1, 0 * M + 1  # query (1, 1), key (0, 1)
    torch.testing.assert_close(img[:, M, M - 1], bias[:, i, j])
    img[:] = 0  # a copy: drawing on it leaves the model alone
    assert attn.relative_position_bias_table.abs().sum() > 0


@pytest.mark.parametrize("stage, block, message", [
    (2, 0, r"stage must be in 0\.\.1 \(0-based, 2 stages\), got 2"),
    (-1, 0, r"stage must be in 0\.\.1"),
    (0, 2, r"block must be in 0\.\.1: stage 0 \(0-based\) has 2 blocks, got 2"),
    (1, -1, r"block must be in 0\.\.1"),
])
def test_stage_and_block_out_of_range(setup, stage, block, message):
    model, images = setup
    with pytest.raises(ValueError, match=message):
        attention_map(model, images, stage, block, (0, 0))
    with pytest.raises(ValueError, match=message):
        block_input(model, images, stage, block)


def test_block_input_wants_normalised_float_images(setup):
    model, images = setup
    with pytest.raises(ValueError, match=r"normalised float images \[B, 3, S, S\]"):
        block_input(model, (images * 50).to(torch.uint8), 0, 0)
    with pytest.raises(ValueError, match="normalised float images"):
        attention_map(model, images[0], 0, 0, (0, 0))


@pytest.mark.parametrize("img_size, patch, M", [(32, 4, 4), (24, 4, 3), (40, 4, 5)], ids=["M4s2", "M3s1", "M5s2"])
def test_corner_query_region_and_where_it_lands_without_the_roll_back(img_size, patch, M):
    """The bottom-right query attends to its region, the last M - s rows and columns (H-M+s .. H-1);
    without the roll by +s its map would sit s tokens up-left, on rows and columns H-M .. H-s-1.
    (Tokens 4-5 of an 8x8 map only for M = 4, s = 2; M = 3 and 5 make M - s differ from s.)"""
    torch.manual_seed(0)
    model = swin_cifar(img_size=img_size, embed_dim=16, depths=(2,), num_heads=(2,), patch_size=patch,
                       window_size=M).eval()
    blk = model.layers[0].blocks[1]
    H, s = img_size // patch, blk.shift_size
    assert s == M // 2 and s > 0
    images = torch.randn(1, 3, img_size, img_size)
    maps = attention_map(model, images, 0, 1, (img_size - 1, img_size - 1))[0]  # [nH, H, W]
    support = (maps > VISIBLE).any(0)
    expected = torch.zeros(H, H, dtype=torch.bool)
    expected[H - M + s:, H - M + s:] = True
    assert torch.equal(support, expected)
    forgot = torch.roll(support, (-s, -s), dims=(0, 1))  # the map without the final roll by +s
    ys, xs = forgot.nonzero(as_tuple=True)
    assert (ys.min(), ys.max(), xs.min(), xs.max()) == (H - M, H - s - 1, H - M, H - s - 1)
