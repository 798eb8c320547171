"""swin_edu gives the same numbers as timm and torchvision for the same weights (Swin-T; every checkpoint
layout, read from a file, is compared on a small model in test_claims_06_whole_swin.py)."""
import pytest
import torch
import timm
import torchvision
from timm.models import swin_transformer as timm_swin

import swin_edu as se

TOL = 1e-5


def _set_fused(model, fused):
    for module in model.modules():
        if isinstance(module, se.WindowAttention):
            module.fused = fused


def _perturb_(model):
    """Random init leaves LayerNorms at 1/0 and biases at 0; perturb all so no tensor is trivially equal."""
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.02 * torch.randn_like(p))


@pytest.fixture(scope="module")
def timm_tiny():
    torch.manual_seed(0)
    model = timm.create_model("swin_tiny_patch4_window7_224", pretrained=False).eval()
    _perturb_(model)
    return model


@pytest.fixture(scope="module")
def images():
    return torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(1))


def _max_logit_diff(checkpoint, expected_layout, reference, images, fused=None) -> float:
    """Load ``checkpoint`` into a fresh swin_t, check the detected layout, return max |logit - reference logit|."""
    model = se.swin_t().eval()
    assert se.load_weights(model, checkpoint) == expected_layout
    _set_fused(model, fused)
    with torch.no_grad():
        return (model(images) - reference(images)).abs().max().item()


@pytest.mark.parametrize("fused", [pytest.param(True, marks=pytest.mark.slow), False])
def test_logits_equal_timm(timm_tiny, images, fused):
    diff = _max_logit_diff(timm_tiny.state_dict(), "timm", timm_tiny, images, fused)
    assert diff <= TOL, diff


@pytest.mark.slow
@pytest.mark.parametrize("fused", [True, False])
def test_logits_equal_torchvision(images, fused):
    reference = torchvision.models.swin_t().eval()
    _perturb_(reference)
    diff = _max_logit_diff(reference.state_dict(), "torchvision", reference, images, fused)
    assert diff <= TOL, diff


def test_shifted_block_equals_timm():
    ref = timm_swin.SwinTransformerBlock(dim=96, input_resolution=(56, 56), num_heads=3, window_size=7,
                                         shift_size=3).eval()
    _perturb_(ref)
    block = se.SwinBlock(96, (56, 56), num_heads=3, window_size=7, shift_size=3).eval()
    block.load_state_dict(ref.state_dict(), strict=False)  # timm keeps its buffers; ours are rebuilt
    assert torch.equal(block.attn_mask, ref.attn_mask)
    x = torch.randn(2, 56, 56, 96)
    with torch.no_grad():
        torch.testing.assert_close(block(x), ref(x), atol=TOL, rtol=0)


def test_patch_merging_equals_timm():
    ref = timm_swin.PatchMerging(dim=96)
    _perturb_(ref)
    merge = se.PatchMerging(96)
    merge.load_state_dict(ref.state_dict())
    x = torch.randn(2, 56, 56, 96)
    with torch.no_grad():
        out = merge(x)
        assert out.shape == (2, 28, 28, 192)
        torch.testing.assert_close(out, ref(x), atol=TOL, rtol=0)


def test_merge_order_is_the_official_one():
    x = torch.randn(1, 4, 6, 3)
    pieces = [x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2]]
    assert torch.equal(se.merge_patches(x), torch.cat(pieces, dim=-1))


def test_fused_and_explicit_attention_agree():
    attn = se.WindowAttention(dim=32, num_heads=4, window_size=4)
    x = torch.randn(2 * 4, 16, 32)
    mask = se.shifted_window_mask(8, 8, 4, 2)
    for m in (None, mask):
        attn.fused = True
        fused = attn(x, m)
        attn.fused = False
        torch.testing.assert_close(fused, attn(x, m), atol=1e-6, rtol=0)
    weights = attn.attention_weights(x, mask)
    assert weights.shape == (8, 4, 16, 16)
    torch.testing.assert_close(weights.sum(-1), torch.ones(8, 4, 16))
