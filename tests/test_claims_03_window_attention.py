"""Notebook 03's claims for every map, window and token, not only the notebook's example:
W-MSA is global attention restricted to windows, a token changes only the outputs of its own window,
the cost formulas are what PyTorch's FLOP counter records (so the W-MSA cost is linear in HW), and the
untrained weights of section 4 stay of the order of 1/N, mostly in vertical stripes."""
import pytest
import torch
from einops import rearrange
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

import swin_edu as se
from swin_edu.attention import msa_macs, wmsa_macs

# (B, H, W, C, nH, M): square and non-square maps, one window or many, 1 to 5 heads
GEOMETRIES = [(1, 8, 8, 16, 2, 4), (2, 8, 12, 24, 3, 4), (2, 14, 21, 12, 2, 7), (1, 6, 6, 8, 4, 3),
              (3, 4, 4, 8, 1, 4), (1, 10, 15, 20, 5, 5)]


def w_msa(attn, x, M):
    """[B, H, W, C] -> [B, H, W, C]: partition, attention inside every window, reverse (as in the notebook)."""
    B, H, W, C = x.shape
    out = attn(se.window_partition(x, M).flatten(1, 2))
    return se.window_reverse(out.view(-1, M, M, C), M, H, W)


def attention_restricted_to_windows(attn, x, M):
    """Global attention over all HW tokens of each image, where a token may attend only to the tokens of
    its own window (logits of other pairs -inf), with bias_h[query position, key position] inside the window."""
    B, H, W, C = x.shape
    i, j = torch.meshgrid(torch.arange(H), torch.arange(W), indexing="ij")
    window = ((i // M) * (W // M) + j // M).flatten()          # [HW] window id of every token
    inside = ((i % M) * M + j % M).flatten()                    # [HW] position inside its window
    bias = attn.relative_position_bias()[:, inside][:, :, inside]   # [nH, HW, HW]
    same_window = window[:, None] == window[None, :]           # [HW, HW]
    q, k, v = rearrange(attn.qkv(x.flatten(1, 2)), "b n (three h d) -> three b h n d", three=3, h=attn.num_heads)
    logits = (q @ k.transpose(-2, -1)) * q.shape[-1] ** -0.5 + bias
    weights = logits.masked_fill(~same_window, float("-inf")).softmax(-1)
    return attn.proj(rearrange(weights @ v, "b h n d -> b n (h d)")).view(B, H, W, C)


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("B, H, W, C, nH, M", GEOMETRIES)
def test_w_msa_is_global_attention_restricted_to_windows(B, H, W, C, nH, M, fused):
    attn = se.WindowAttention(C, nH, M, fused=fused).double()
    with torch.no_grad():
        attn.relative_position_bias_table.normal_()             # a bias large enough to matter
        x = torch.randn(B, H, W, C, dtype=torch.float64)
        torch.testing.assert_close(w_msa(attn, x, M), attention_restricted_to_windows(attn, x, M))


@pytest.mark.parametrize("B, H, W, C, nH, M", GEOMETRIES)
def test_a_token_changes_exactly_the_outputs_of_its_own_window(B, H, W, C, nH, M):
    attn = se.WindowAttention(C, nH, M)
    x = torch.randn(B, H, W, C)
    g = torch.Generator().manual_seed(B * H * W)
    tokens = {(0, 0, 0), (B - 1, H - 1, W - 1), (B - 1, 0, W - 1)}
    tokens |= {(int(torch.randint(B, (), generator=g)), int(torch.randint(H, (), generator=g)),
                int(torch.randint(W, (), generator=g))) for _ in range(4)}
    with torch.no_grad():
        before = w_msa(attn, x, M)
        for b, i, j in sorted(tokens):
            poked = x.clone()
            poked[b, i, j] += 1.0
            changed = (w_msa(attn, poked, M) != before).any(dim=-1)   # [B, H, W]
            expected = torch.zeros(B, H, W, dtype=torch.bool)
            expected[b, i // M * M:(i // M + 1) * M, j // M * M:(j // M + 1) * M] = True
            assert torch.equal(changed, expected), (b, i, j)


class MSA(nn.Module):
    """Global multi-head self-attention over all HW tokens (ViT-style, no windows, no bias)."""

    def __init__(self, dim, num_heads):
        super().__init__()
        self.num_heads = num_heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        q, k, v = rearrange(self.qkv(x), "b n (three h d) -> three b h n d", three=3, h=self.num_heads)
        weights = (q @ k.transpose(-2, -1) * q.shape[-1] ** -0.5).softmax(dim=-1)
        return self.proj(rearrange(weights @ v, "b h n d -> b n (h d)"))


def count(module, x):
    """FLOPs (2 per multiply-accumulate) of module(x): linear layers (addmm), attention products (bmm), total."""
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        module(x)
    counts = counter.get_flop_counts()["Global"]
    assert set(counts) == {torch.ops.aten.addmm, torch.ops.aten.bmm}, counts  # on the CPU, SDPA runs as bmm
    return counts[torch.ops.aten.addmm], counts[torch.ops.aten.bmm], counter.get_total_flops()


# (H, W, C, nH, M): the stage-1 resolutions of 56, 112 and 224-pixel images, non-square maps, other C and M
COSTS = [(14, 14, 96, 3, 7), (28, 28, 96, 3, 7), (56, 56, 96, 3, 7), (8, 12, 32, 4, 4), (12, 6, 48, 2, 3),
         (16, 16, 64, 8, 8)]


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("H, W, C, nH, M", COSTS)
def test_cost_formulas_equal_the_flop_counter(H, W, C, nH, M, fused):
    x = torch.randn(1, H, W, C)
    linear, attention, total = count(MSA(C, nH), x.flatten(1, 2))
    assert (linear, attention, total) == (2 * 4 * H * W * C**2, 2 * 2 * (H * W) ** 2 * C, 2 * msa_macs(H, W, C))

    attn = se.WindowAttention(C, nH, M, fused=fused)
    linear, attention, total = count(attn, se.window_partition(x, M).flatten(1, 2))
    assert (linear, attention) == (2 * 4 * H * W * C**2, 2 * 2 * M**2 * H * W * C)
    assert total == 2 * wmsa_macs(H, W, C, M) == 2 * attn.flops(H, W)


@pytest.mark.parametrize("H, W, C, nH, M", [(7, 7, 96, 3, 7), (8, 12, 32, 4, 4)])
def test_counted_wmsa_cost_is_linear_in_the_number_of_tokens(H, W, C, nH, M):
    attn, msa = se.WindowAttention(C, nH, M), MSA(C, nH)

    def counted(k):  # (MSA, W-MSA) FLOPs on a map k times larger along each side
        x = torch.randn(1, k * H, k * W, C)
        return count(msa, x.flatten(1, 2))[2], count(attn, se.window_partition(x, M).flatten(1, 2))[2]

    msa_1, wmsa_1 = counted(1)
    for k in (2, 3):
        msa_k, wmsa_k = counted(k)
        assert wmsa_k == k**2 * wmsa_1                          # k^2 times the tokens, k^2 times the cost
        assert k**2 * msa_1 < msa_k < k**4 * msa_1              # MSA: between linear and quadratic growth


# (H, W, C, M, nH): the notebook's two examples, non-square maps, other C, M and heads
UNTRAINED = [(56, 56, 96, 7, 3), (12, 12, 96, 4, 2), (28, 28, 96, 7, 3), (16, 24, 48, 4, 4), (14, 14, 32, 7, 2),
             (8, 8, 16, 4, 1)]


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("H, W, C, M, nH", UNTRAINED)
def test_untrained_weights_stay_near_uniform_in_vertical_stripes(H, W, C, M, nH, seed):
    """Section 4 on the photo's tokens: untrained, every weight is of the order of 1/N (within a factor 4),
    and the pattern is usually vertical stripes: in most windows and heads, most of the variance of the
    weights is in the keys' column means (a key weighed more or less by almost every query)."""
    from swin_edu.analysis import sample_image

    torch.manual_seed(seed)
    N = M * M
    img = sample_image(4 * max(H, W))[:, :4 * H, :4 * W]
    embed, attn = se.PatchEmbed(patch_size=4, in_chans=3, embed_dim=C), se.WindowAttention(C, nH, M)
    with torch.no_grad():
        weights = attn.attention_weights(se.window_partition(embed(img[None]), M).flatten(1, 2))  # [nW, nH, N, N]
    assert 1 / (4 * N) < weights.min() and weights.max() < 4 / N
    column_share = weights.mean(dim=-2).var(dim=-1) / weights.flatten(-2).var(dim=-1)  # [nW, nH]
    assert column_share.median() > 0.5, column_share
