"""The general claims of notebook 04 (shifted windows), proven over many geometries.

The notebook states them and shows them on its own example; here they are checked on square and
non-square maps, window sides 2 to 7 and shifts other than M // 2:

* the window-count rule of the naive shifted grid (bands of the cuts), for any side and shift;
* only the last row and column of rolled windows need a mask: H/M + W/M - 1 of the nW windows;
* inside a rolled window, each region is exactly one naive window;
* cyclic shift + mask (``SwinBlock.shifted_window_attention``) = attention in the naive shifted windows,
  relative position bias included, and -inf instead of -100 gives the same output;
* nothing leaks: the outputs of a naive window depend only on its own inputs (gradient exactly 0 with
  -inf, not reached with -100, forward bitwise unchanged);
* roll, partition, reverse, roll back is the identity on the package's path;
* only the cut at H - s (W - s) runs through windows: bands 0 and 1 of region_map never share a window;
* a row masked everywhere with -100 gets the softmax of its own logits (not uniform), with -inf NaN.
"""
import math

import pytest
import torch
from einops import rearrange

from swin_edu import SwinBlock, region_map, shifted_window_mask, window_partition, window_reverse
from swin_edu.analysis import reached_tokens

C, NH = 8, 2


# --- the naive shifted grid, written as in the notebook ------------------------------------------------

def shifted_cuts(L, M, s):
    return [0] + list(range(s, L, M)) + [L]


def naive_windows(H, W, M, s):
    rows, cols = shifted_cuts(H, M, s), shifted_cuts(W, M, s)
    return [(slice(r0, r1), slice(c0, c1)) for r0, r1 in zip(rows, rows[1:]) for c0, c1 in zip(cols, cols[1:])]


def attend_at(attn, tokens, pos):
    """Plain attention among ``tokens`` [n, C] with the bias of positions ``pos`` of an M x M window."""
    q, k, v = rearrange(attn.qkv(tokens), "n (three h d) -> three h n d", three=3, h=attn.num_heads)
    bias = attn.relative_position_bias()[:, pos][:, :, pos]
    weights = ((q * attn.scale) @ k.transpose(-2, -1) + bias).softmax(-1)
    return attn.proj(rearrange(weights @ v, "h n d -> n (h d)"))


def naive_sw_msa(attn, x, M, s):
    out = torch.empty_like(x)
    for rows, cols in naive_windows(x.shape[1], x.shape[2], M, s):
        h, w = rows.stop - rows.start, cols.stop - cols.start
        pos = (torch.arange(h)[:, None] * M + torch.arange(w)[None, :]).flatten()
        for b in range(x.shape[0]):
            out[b, rows, cols] = attend_at(attn, x[b, rows, cols].flatten(0, 1), pos).view(h, w, -1)
    return out


def sw_msa(block, x, mask):
    """The package's path (roll, windows, attention, reverse, roll back) with a mask of our choice."""
    H, W = block.input_resolution
    M, s = block.window_size, block.shift_size
    windows = window_partition(torch.roll(x, (-s, -s), (1, 2)), M).flatten(1, 2)
    return torch.roll(window_reverse(block.attn(windows, mask).unflatten(1, (M, M)), M, H, W), (s, s), (1, 2))


# --- the window-count rule -------------------------------------------------------------------------------

SIDES = [(L, M) for M in range(2, 8) for L in range(M + 1, 4 * M + 3)]


@pytest.mark.parametrize("L, M", SIDES)
def test_band_count_rule_for_every_shift(L, M):
    """1 + ceil((L - s) / M) bands; L/M + 1 when M divides L; else ceil(L/M) + [s < L mod M]."""
    for s in range(1, M):
        # counted independently: the shifted window index of each row is floor((r - s) / M)
        bands = len({(r - s) // M for r in range(L)})
        assert len(shifted_cuts(L, M, s)) - 1 == bands
        assert bands == 1 + math.ceil((L - s) / M)
        if L % M == 0:
            assert bands == L // M + 1
        else:
            assert bands == math.ceil(L / M) + (s < L % M)


@pytest.mark.parametrize("H, W, M, s", [(8, 8, 4, 2), (10, 14, 4, 2), (13, 9, 7, 3), (9, 20, 4, 1), (56, 56, 7, 3)])
def test_naive_windows_tile_the_map(H, W, M, s):
    """(bands along H) x (bands along W) windows, every token in exactly one of them."""
    windows = naive_windows(H, W, M, s)
    assert len(windows) == (1 + math.ceil((H - s) / M)) * (1 + math.ceil((W - s) / M))
    count = torch.zeros(H, W, dtype=torch.int64)
    for rows, cols in windows:
        count[rows, cols] += 1
    assert (count == 1).all()


GEOMETRIES = [(8, 8, 4, 2), (8, 16, 4, 3), (12, 12, 4, 2), (12, 8, 4, 1), (9, 6, 3, 1), (14, 21, 7, 3),
              (6, 10, 2, 1), (56, 56, 7, 3), (4, 8, 4, 1), (7, 14, 7, 3), (4, 4, 4, 2)]


@pytest.mark.parametrize("H, W, M, s", GEOMETRIES)
def test_only_the_last_row_and_column_of_windows_need_a_mask(H, W, M, s):
    masked = (shifted_window_mask(H, W, M, s) != 0).flatten(1).any(1).view(H // M, W // M)
    expected = torch.zeros(H // M, W // M, dtype=torch.bool)
    expected[-1, :] = expected[:, -1] = True
    assert torch.equal(masked, expected)
    assert int(masked.sum()) == H // M + W // M - 1


def region_parts(H, W, M, s):
    """The original token ids of each (rolled window, region) pair."""
    ids = torch.roll(torch.arange(H * W).view(H, W), (-s, -s), (0, 1))
    window_ids = window_partition(ids[None, :, :, None], M).flatten(1)
    window_labels = window_partition(region_map(H, W, M, s)[None, :, :, None], M).flatten(1)
    return {frozenset(i[l == label].tolist()) for i, l in zip(window_ids, window_labels) for label in l.unique()}


@pytest.mark.parametrize("H, W, M, s", GEOMETRIES)
def test_each_region_inside_a_rolled_window_is_one_naive_window(H, W, M, s):
    ids = torch.arange(H * W).view(H, W)
    naive = {frozenset(ids[rows, cols].flatten().tolist()) for rows, cols in naive_windows(H, W, M, s)}
    assert region_parts(H, W, M, s) == naive


# --- cyclic shift + mask = the naive shifted windows ---------------------------------------------------

SHIFTING = [g for g in GEOMETRIES if min(g[0], g[1]) > g[2]]  # blocks that really shift


def _block(H, W, M, s, seed=0):
    torch.manual_seed(seed)
    block = SwinBlock(C, (H, W), NH, window_size=M, shift_size=s)
    with torch.no_grad():  # a bias large enough to matter
        block.attn.relative_position_bias_table.normal_(0, 1.0)
    assert block.shift_size == s and block.window_size == M
    return block


@pytest.mark.parametrize("H, W, M, s", SHIFTING)
def test_cyclic_shift_and_mask_equal_the_naive_shifted_windows(H, W, M, s):
    block = _block(H, W, M, s)
    x = torch.randn(2, H, W, C, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        fast = block.shifted_window_attention(x)
        torch.testing.assert_close(fast, naive_sw_msa(block.attn, x, M, s))
        inf_mask = block.attn_mask.masked_fill(block.attn_mask != 0, float("-inf"))
        torch.testing.assert_close(sw_msa(block, x, inf_mask), fast)
        # without the mask the wrapped-around pieces would mix: the check above can fail
        assert not torch.allclose(sw_msa(block, x, None), fast, atol=1e-4)


@pytest.mark.parametrize("H, W, M, s", [g for g in SHIFTING if g[0] * g[1] < 1000])  # every naive window: small maps
def test_nothing_leaks_out_of_a_naive_window(H, W, M, s):
    block = _block(H, W, M, s)
    mask = block.attn_mask
    inf_mask = mask.masked_fill(mask != 0, float("-inf"))
    x = torch.randn(1, H, W, C, generator=torch.Generator().manual_seed(2))
    for rows, cols in naive_windows(H, W, M, s):
        own = torch.zeros(H, W, dtype=torch.bool)
        own[rows, cols] = True
        for m, exact in ((mask, False), (inf_mask, True)):
            xg = x.clone().requires_grad_()
            sw_msa(block, xg, m)[0, rows, cols].sum().backward()
            footprint = xg.grad[0].abs().sum(-1)
            assert torch.equal(reached_tokens(footprint), own)
            if exact:  # with -inf the gradient outside is exactly 0
                assert torch.equal(footprint > 0, own)
        with torch.no_grad():  # forward: scrambling every other token leaves these outputs bitwise unchanged
            scrambled = torch.where(own[None, :, :, None], x, 10 * torch.randn_like(x))
            assert torch.equal(sw_msa(block, x, mask)[0, rows, cols], sw_msa(block, scrambled, mask)[0, rows, cols])


# --- rolling back --------------------------------------------------------------------------------------

class _Identity(torch.nn.Module):
    def forward(self, windows, mask=None):
        return windows


@pytest.mark.parametrize("H, W, M, s", SHIFTING)
def test_the_whole_path_with_identity_attention_is_the_identity(H, W, M, s):
    block = _block(H, W, M, s)
    block.attn = _Identity()
    x = torch.randn(3, H, W, C)
    assert torch.equal(block.shifted_window_attention(x), x)
    # rolling "back" the wrong way is not
    windows = window_partition(torch.roll(x, (-s, -s), (1, 2)), M)
    assert not torch.equal(torch.roll(window_reverse(windows, M, H, W), (-s, -s), (1, 2)), x)


# --- the three bands: only the cut at H - s runs through windows --------------------------------------

@pytest.mark.parametrize("H, W, M, s", GEOMETRIES)
def test_bands_0_and_1_never_meet_inside_a_window(H, W, M, s):
    """The cut at H - M (W - M) lies on a window border; the cut at H - s (W - s) runs through windows."""
    labels = window_partition(region_map(H, W, M, s)[None, :, :, None], M).flatten(1)  # [nW, N]
    for axis_band in (labels // 3, labels % 3):  # row bands, column bands
        for window in axis_band:
            present = set(window.tolist())
            assert not {0, 1} <= present, "bands 0 and 1 share a window"
        if s > 0:  # the cut at L - s separates bands 1 and 2 inside the last row/column of windows
            assert any({1, 2} <= set(window.tolist()) for window in axis_band)


# --- -100 on a fully masked row ------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_a_fully_masked_row_gets_the_softmax_of_its_logits_with_minus_100_and_nan_with_minus_inf(dtype):
    """-100 on every entry of a row shifts it, which softmax ignores: the softmax of the row's own logits
    (not uniform in general). float16 and bfloat16 round each logit - 100 first, so there it is the softmax
    of those rounded logits. -inf on every entry gives 0/0 = NaN."""
    logits = (3 * torch.randn(64, 9, generator=torch.Generator().manual_seed(0))).to(dtype)
    masked = (logits - 100).softmax(-1)
    if dtype == torch.float32:
        torch.testing.assert_close(masked, logits.softmax(-1))
    else:
        rounded = (logits - 100).float() + 100  # the logits as the low-precision shift left them
        torch.testing.assert_close(masked.float(), rounded.softmax(-1), atol=1e-2, rtol=1e-2)
    assert not torch.allclose(masked.float(), torch.full((64, 9), 1 / 9), atol=1e-2)  # not uniform
    assert (logits + float("-inf")).softmax(-1).isnan().all()
