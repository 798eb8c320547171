"""Notebook 06's claims that hold beyond its example, checked over several geometries.

* A stack of blocks reaches (``reached_tokens`` of the gradient footprint) exactly the windows that
  interval arithmetic on the two window grids predicts: one window after one W-MSA block; n windows per
  axis after n alternating blocks away from the border; after W-MSA + SW-MSA two windows per axis where
  the token's shifted window lies inside the map and one where it wraps around the border (4 / 2 / 1
  windows for interior / edge / corner tokens); never more than the own window without the shift, or
  when a side is no larger than M (the shift is switched off).
* The light and dark areas of the 2-block footprint figure (random blocks of ``block_stack``): the tokens
  one attention away from the output token (its own window, through block 1 and block 2's residual path;
  its shifted window, through block 2) have clearly larger footprints than those two attentions away.
* The checkpoint layouts of timm, torchvision and the official code are renamings of one another:
  converting keeps the very tensors, every layout yields exactly the model's parameters, and a
  hand-built official layout loads back to the same logits, for model sizes other than Swin-T; a
  checkpoint saved to a file loads from its path just as well, in every layout.

(tests/test_receptive_field.py checks the 4 / 2 / 1 rule on a 14x21 map with M = 7 and the float64
corner leak; tests/test_parity.py the logits of Swin-T in the three layouts.)
"""
import re

import pytest
import timm
import torch
import torchvision
from torch import nn

import swin_edu as se
from swin_edu.analysis import block_stack, gradient_footprint, reached_tokens

# ---------------------------------------------------------------------------------------------
# Receptive field: which windows one output token reaches
# ---------------------------------------------------------------------------------------------


def _stack(H, W, M, shifts, dim=8, seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(*[se.SwinBlock(dim, (H, W), 2, M, s) for s in shifts]).eval()


def _x(H, W, dim=8, seed=0):
    return torch.randn(1, H, W, dim, generator=torch.Generator().manual_seed(seed))


def _windows_after_w_then_sw(r: int, side: int, M: int, s: int) -> list[int]:
    """W-MSA window indices along one axis that position r reaches after W-MSA + SW-MSA: the two that
    its shifted window (s + M k ... s + M k + M - 1) straddles, or only its own when that shifted window
    wraps around the border (the mask keeps the two parts apart)."""
    if s <= r < side - M + s:
        return [(r - s) // M, (r - s) // M + 1]
    return [r // M]


def _all_footprints(blocks, x):
    """The footprint of every output token at once: [H, W, H, W], entry [r, c] = gradient_footprint(blocks,
    x, (r, c)). One backward pass through H * W copies of the input, copy b answering for token b."""
    _, H, W, C = x.shape
    xs = x.detach().expand(H * W, H, W, C).clone().requires_grad_(True)
    out = blocks(xs)  # [H*W, H, W, C]
    b = torch.arange(H * W)
    out[b, b // W, b % W].sum().backward()
    return xs.grad.abs().sum(-1).view(H, W, H, W)


def _box(H, W, rows, cols):
    out = torch.zeros(H, W, dtype=torch.bool)
    out[rows[0]:rows[1], cols[0]:cols[1]] = True
    return out


# (H, W, M): square and not, odd and even M (s = M // 2), two to four windows per side
GEOMETRIES = [(8, 12, 4), (12, 12, 6), (15, 10, 5), (9, 12, 3), (16, 8, 4)]


@pytest.mark.parametrize("H, W, M", GEOMETRIES)
def test_interior_edge_corner_tokens_reach_four_two_one_windows(H, W, M):
    s = M // 2
    blocks, x = _stack(H, W, M, (0, s)), _x(H, W)
    footprints = _all_footprints(blocks, x)
    for token in [(0, 0), (H // 2, W - 1), (H // 2, W // 2)]:  # the batched footprints are the package's
        assert torch.equal(reached_tokens(footprints[token]), reached_tokens(gradient_footprint(blocks, x, token)))
    counts = {}
    for r in range(H):
        for c in range(W):
            rows, cols = _windows_after_w_then_sw(r, H, M, s), _windows_after_w_then_sw(c, W, M, s)
            expected = torch.zeros(H, W, dtype=torch.bool)
            for a in rows:
                for b in cols:
                    expected[a * M:(a + 1) * M, b * M:(b + 1) * M] = True
            assert torch.equal(reached_tokens(footprints[r, c]), expected), (r, c)
            n = len(rows) * len(cols)
            counts[n] = counts.get(n, 0) + 1
    # interior: both shifted windows inside; corner: both wrap; edge: one of each
    inside = lambda side: side - M  # noqa: E731  positions s ... side - M + s - 1
    wrap = lambda side: M           # noqa: E731
    assert counts == {k: v for k, v in {4: inside(H) * inside(W), 2: inside(H) * wrap(W) + wrap(H) * inside(W),
                                        1: wrap(H) * wrap(W)}.items() if v}


@pytest.mark.parametrize("H, W, M", GEOMETRIES)
def test_one_wmsa_block_reaches_exactly_the_own_window_with_exact_zeros(H, W, M):
    blocks, x = _stack(H, W, M, (0,)), _x(H, W)
    for r, c in [(0, 0), (H - 1, W - 1), (H // 2, W // 3), (M, M - 1)]:
        f = gradient_footprint(blocks, x, (r, c))
        own = _box(H, W, (r // M * M, r // M * M + M), (c // M * M, c // M * M + M))
        assert torch.equal(reached_tokens(f), own), (r, c)
        assert f[~own].max() == 0  # no path at all: exact zeros, not merely below the threshold


@pytest.mark.parametrize("H, W, M", [(12, 16, 4), (15, 15, 5), (7, 14, 7), (5, 15, 5)])
def test_without_a_shift_the_footprint_never_leaves_the_window(H, W, M):
    """Four W-MSA blocks; and SW-MSA blocks on a map whose short side is no larger than M, whose shift is
    switched off (the window then covers the short side only: 7x14 keeps two 7x7 windows)."""
    for shifts in ((0, 0, 0, 0), (0, M // 2, 0, M // 2)):
        blocks, x = _stack(H, W, M, shifts), _x(H, W)
        if min(H, W) > M and any(shifts):
            continue  # a real shift: covered by the other tests
        assert all(b.shift_size == 0 for b in blocks)
        Mb = blocks[0].window_size
        for r, c in [(0, 0), (H - 1, W - 1), (H // 2, W // 2)]:
            own = _box(H, W, (r // Mb * Mb, r // Mb * Mb + Mb), (c // Mb * Mb, c // Mb * Mb + Mb))
            assert torch.equal(reached_tokens(gradient_footprint(blocks, x, (r, c))), own), (shifts, r, c)


def _predicted_span(r: int, offsets: list[int], M: int) -> tuple[int, int]:
    """[lo, hi) of the input positions that position r of the last block's output depends on, along one
    axis, by interval arithmetic on the window grids (block k's windows start at offsets[k] + M j), as
    long as no window wraps around the border."""
    o = offsets[-1]
    lo = o + (r - o) // M * M
    hi = lo + M
    for o in reversed(offsets[:-1]):
        lo, hi = o + (lo - o) // M * M, o - ((o - hi) // M) * M  # floor to the grid, ceil to the grid
    return lo, hi


@pytest.mark.parametrize("size, M", [(32, 4), (36, 6), (35, 5)])
def test_away_from_the_border_n_blocks_reach_n_windows_per_axis(size, M):
    s, depth = M // 2, 5
    blocks, x = _stack(size, size, M, [0 if k % 2 == 0 else s for k in range(depth)]), _x(size, size)
    centre = size // 2
    tokens = [(centre, centre), (centre - 1, centre + M // 2)]
    xs = x.detach().expand(len(tokens), -1, -1, -1)
    for n in range(1, depth + 1):
        xn = xs.clone().requires_grad_(True)
        out = blocks[:n](xn)
        sum(out[k, r, c].sum() for k, (r, c) in enumerate(tokens)).backward()
        offsets = [0 if k % 2 == 0 else s for k in range(n)]
        for k, token in enumerate(tokens):
            rows, cols = (_predicted_span(p, offsets, M) for p in token)
            assert rows[1] - rows[0] == n * M and cols[1] - cols[0] == n * M  # n windows per axis
            assert 0 <= rows[0] and rows[1] <= size and 0 <= cols[0] and cols[1] <= size  # away from the border
            got = reached_tokens(xn.grad[k].abs().sum(-1))
            assert torch.equal(got, _box(size, size, rows, cols)), (token, n)
    # the batched footprints are the package's
    f = gradient_footprint(blocks, x, tokens[1])
    assert torch.equal(reached_tokens(f), reached_tokens(xn.grad[1].abs().sum(-1)))


@pytest.mark.parametrize("size, M, token", [(28, 7, (10, 10)), (16, 4, (5, 13)), (24, 6, (8, 15)), (28, 7, (20, 3))])
def test_one_attention_away_is_lighter_than_two_attentions_away(size, M, token):
    """Notebook 06, section 5: after W-MSA + SW-MSA, the tokens that reach the output token through one
    attention (those block 1 alone or block 2 alone reaches) have a median footprint several times that
    of the tokens that need two (the rest of the reached ones)."""
    blocks, x = block_stack(size, M, depth=2, dim=16, num_heads=2, seed=0), _x(size, size, 16)
    f = gradient_footprint(blocks, x, token)
    one = reached_tokens(gradient_footprint(blocks[:1], x, token)) | \
        reached_tokens(gradient_footprint(blocks[1:], x, token))
    one[token] = False  # the token itself: the peak, through both residual paths
    two = reached_tokens(f) & ~one
    two[token] = False
    assert one.any() and two.any()
    assert f[one].median() > 3 * f[two].median()


# ---------------------------------------------------------------------------------------------
# Checkpoint layouts: renamings of one another
# ---------------------------------------------------------------------------------------------

SMALL = dict(embed_dim=16, depths=(2, 2, 4), num_heads=(1, 2, 4), window_size=4, num_classes=10)


def _timm_small():
    torch.manual_seed(0)
    model = timm.models.swin_transformer.SwinTransformer(img_size=64, patch_size=4, **SMALL).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.02 * torch.randn_like(p))  # no LayerNorm left at 1/0: every tensor differs
    return model


def _torchvision_small():
    torch.manual_seed(1)
    model = torchvision.models.swin_transformer.SwinTransformer(
        patch_size=[4, 4], embed_dim=SMALL["embed_dim"], depths=list(SMALL["depths"]),
        num_heads=list(SMALL["num_heads"]), window_size=[4, 4], num_classes=SMALL["num_classes"]).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.02 * torch.randn_like(p))
    return model


def _ours():
    return se.SwinTransformer(img_size=64, patch_size=4, **SMALL).eval()


def _official_from(state_dict, model):
    """timm -> official, by hand: merging at the end of the previous stage, a plain head, and the
    buffers official files carry (relative_position_index everywhere, attn_mask in shifted blocks)."""
    out = {}
    for key, value in state_dict.items():
        key = re.sub(r"^layers\.(\d+)\.downsample\.", lambda m: f"layers.{int(m[1]) - 1}.downsample.", key)
        out[re.sub(r"^head\.fc\.", "head.", key)] = value
    for i, stage in enumerate(model.layers):
        for j, block in enumerate(stage.blocks):
            out[f"layers.{i}.blocks.{j}.attn.relative_position_index"] = block.attn.relative_position_index
            if block.attn_mask is not None:
                out[f"layers.{i}.blocks.{j}.attn_mask"] = block.attn_mask
    return {"model": out}


@pytest.fixture(scope="module")
def images():
    return torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(2))


@pytest.mark.parametrize("layout", ["timm", "official", "torchvision", "swin_edu"])
def test_every_layout_converts_to_exactly_the_models_parameters_keeping_the_tensors(layout):
    ours = _ours()
    state_dict = {"timm": lambda: _timm_small().state_dict(),
                  "official": lambda: _official_from(_timm_small().state_dict(), ours)["model"],
                  "torchvision": lambda: _torchvision_small().state_dict(),
                  "swin_edu": lambda: ours.state_dict()}[layout]()
    converted, detected = se.convert_state_dict(state_dict)
    assert detected == layout
    assert {k: tuple(v.shape) for k, v in converted.items()} == \
        {k: tuple(v.shape) for k, v in ours.named_parameters()}
    originals = {id(v) for v in state_dict.values()}
    assert all(id(v) in originals for v in converted.values())  # only renamed: the same tensor objects
    buffers = [k for k in state_dict if k.endswith(("relative_position_index", "attn_mask"))]
    assert len(state_dict) == len(converted) + len(buffers)


def test_official_round_trip_gives_back_the_timm_names():
    timm_sd = _timm_small().state_dict()
    official = _official_from(timm_sd, _ours())["model"]
    back, layout = se.convert_state_dict(official)
    assert layout == "official"
    assert back.keys() == {re.sub(r"^head\.fc\.", "head.", k) for k in timm_sd}
    assert all(back[re.sub(r"^head\.fc\.", "head.", k)] is v for k, v in timm_sd.items())
    # the masks official files carry: one per shifted block of a stage whose map is larger than M
    masks = sorted(k for k in official if k.endswith("attn_mask"))
    assert masks == ["layers.0.blocks.1.attn_mask", "layers.1.blocks.1.attn_mask"]  # 16x16, 8x8; 4x4 = M: none


@pytest.mark.parametrize("layout", ["timm", "official", "torchvision"])
def test_load_weights_reads_a_checkpoint_file_in_every_layout(layout, images, tmp_path):
    timm_model, tv_model = _timm_small(), _torchvision_small()
    checkpoint, reference = {"timm": (timm_model.state_dict(), timm_model),
                             "official": (_official_from(timm_model.state_dict(), _ours()), timm_model),
                             "torchvision": (tv_model.state_dict(), tv_model)}[layout]
    path = tmp_path / f"{layout}.pth"
    torch.save(checkpoint, path)
    model = _ours()
    assert se.load_weights(model, path) == layout
    assert se.load_weights(model, str(path)) == layout
    with torch.no_grad():
        torch.testing.assert_close(model(images), reference(images), atol=1e-5, rtol=0)


def test_torchvision_stores_the_index_as_a_buffer_but_computes_the_mask_in_forward():
    """Going deeper, "Loading published weights": official files carry relative_position_index and attn_mask,
    torchvision's state dict only relative_position_index (flattened); timm and swin_edu store neither."""
    keys = torchvision.models.swin_t().state_dict().keys()
    assert any(k.endswith("relative_position_index") for k in keys)
    assert not any("attn_mask" in k for k in keys)
    for model in (se.swin_t(), timm.create_model("swin_tiny_patch4_window7_224", pretrained=False)):
        assert not any(k.endswith(("relative_position_index", "attn_mask")) for k in model.state_dict())


def test_drop_path_draws_the_two_branches_of_a_block_independently():
    """Going deeper, "Drop path": drop_path1 (attention) and drop_path2 (MLP) each draw, per sample."""
    block = se.SwinBlock(8, (8, 8), 2, 4, shift_size=2, drop_path=0.5).train()
    dropped = {}
    for name in ("drop_path1", "drop_path2"):
        getattr(block, name).register_forward_hook(
            lambda module, args, out, name=name: dropped.__setitem__(name, (out == 0).flatten(1).all(1)))
    torch.manual_seed(0)
    with torch.no_grad():
        block(torch.randn(256, 8, 8, 8))
    first, second = dropped["drop_path1"], dropped["drop_path2"]
    assert 0 < first.sum() < 256 and 0 < second.sum() < 256
    assert (first & ~second).any() and (~first & second).any()  # one branch dropped, the other kept
