"""Notebook 01's claims that hold beyond its example, checked over several geometries.

* Cut + flatten ``(p1 p2 c)`` + a Linear whose weight is the conv weight flattened the same way equals
  ``Conv2d(kernel_size=P, stride=P)``, and with the LayerNorm equals ``swin_edu.PatchEmbed``, for any
  patch size, image size (square or not), input and output channels.
* Any flattening order works when the patches and the weight use the same one; mixed orders do not.
* Both versions cost the same: ``FlopCounterMode`` sees 2 * H * W * (P*P*c_in) * C FLOPs for each;
  ``PatchEmbed.flops`` counts the projection plus one multiply-accumulate per output value, and the
  layer has P*P*c_in*C + C + 2C parameters.
* ``rearrange`` copies the pixels (the patches are not a view of the image).
* After a fresh LayerNorm every token has mean 0 and length sqrt(C sigma^2 / (sigma^2 + eps)), sigma^2
  its variance over the C channels: just under sqrt(C) for tiny sigma^2.
* A strided convolution silently drops the last H mod P rows and W mod P columns; ``rearrange`` and
  ``swin_edu.SwinTransformer`` refuse such sizes.
* ``sample_image(S)`` is the top square of the photo, resized with antialiased bilinear interpolation.
"""
import matplotlib.image as mpimg
import pytest
import torch
import torch.nn.functional as F
from einops import EinopsError, rearrange
from matplotlib import cbook
from torch.utils.flop_counter import FlopCounterMode

import swin_edu
from swin_edu.analysis import sample_image

# (P, c_in, image height, image width, C)
GEOMETRIES = [
    (4, 3, 32, 32, 96),
    (2, 3, 12, 20, 8),
    (3, 2, 9, 15, 5),
    (8, 3, 16, 40, 24),
    (16, 3, 32, 16, 12),
    (1, 4, 5, 7, 6),
]


def _embed(P, c_in, C, seed=0):
    """A PatchEmbed with seeded weights and a LayerNorm whose scale and shift are not 1 and 0."""
    torch.manual_seed(seed)
    embed = swin_edu.PatchEmbed(patch_size=P, in_chans=c_in, embed_dim=C).double()
    with torch.no_grad():
        embed.norm.weight.normal_(1.0, 0.1)
        embed.norm.bias.normal_(0.0, 0.1)
    return embed


def _images(B, c_in, S_h, S_w, seed=0):
    return torch.rand(B, c_in, S_h, S_w, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


@pytest.mark.parametrize("P, c_in, S_h, S_w, C", GEOMETRIES)
def test_cut_flatten_linear_is_the_strided_convolution_and_patch_embed(P, c_in, S_h, S_w, C):
    embed, images = _embed(P, c_in, C), _images(2, c_in, S_h, S_w)
    patches = rearrange(images, "b c (h p1) (w p2) -> b h w (p1 p2 c)", p1=P, p2=P)  # [B, H, W, P*P*c_in]
    E = rearrange(embed.proj.weight, "C c p1 p2 -> C (p1 p2 c)")
    with torch.no_grad():
        tokens = patches @ E.T + embed.proj.bias
        conv = rearrange(embed.proj(images), "b C h w -> b h w C")
        torch.testing.assert_close(tokens, conv)
        torch.testing.assert_close(embed.norm(tokens), embed(images))
    assert tokens.shape == (2, S_h // P, S_w // P, C)


@pytest.mark.parametrize("P, c_in, S_h, S_w, C", [g for g in GEOMETRIES if g[0] > 1])
def test_any_flattening_order_works_when_patches_and_weight_agree(P, c_in, S_h, S_w, C):
    embed, images = _embed(P, c_in, C), _images(1, c_in, S_h, S_w)
    with torch.no_grad():
        conv = rearrange(embed.proj(images), "b C h w -> b h w C")
        weight = embed.proj.weight.flatten(1)  # (c p1 p2)
        same = rearrange(images, "b c (h p1) (w p2) -> b h w (c p1 p2)", p1=P, p2=P) @ weight.T + embed.proj.bias
        mixed = rearrange(images, "b c (h p1) (w p2) -> b h w (p1 p2 c)", p1=P, p2=P) @ weight.T + embed.proj.bias
    torch.testing.assert_close(same, conv)
    assert not torch.allclose(mixed, conv, atol=1e-4)


def _flops(fn) -> int:
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        fn()
    return counter.get_total_flops()


@pytest.mark.parametrize("P, c_in, S, C", [(4, 3, 224, 96), (4, 3, 224, 128), (2, 3, 32, 96), (16, 3, 224, 768),
                                            (3, 2, 21, 10)])
def test_costs_and_parameters(P, c_in, S, C):
    embed = swin_edu.PatchEmbed(patch_size=P, in_chans=c_in, embed_dim=C)
    image = torch.rand(1, c_in, S, S)
    H = W = S // P
    patches = rearrange(image, "b c (h p1) (w p2) -> b h w (p1 p2 c)", p1=P, p2=P)
    linear = torch.nn.Linear(P * P * c_in, C)
    expected = 2 * H * W * (P * P * c_in) * C
    assert _flops(lambda: linear(patches)) == _flops(lambda: embed.proj(image)) == expected
    assert embed.flops(S, S) == H * W * (P * P * c_in) * C + H * W * C
    assert sum(p.numel() for p in embed.parameters()) == P * P * c_in * C + C + 2 * C
    # rearrange cannot express the patch layout as a view: it writes a new tensor
    assert patches.untyped_storage().data_ptr() != image.untyped_storage().data_ptr()


@pytest.mark.parametrize("C, scale", [(96, 1.0), (96, 0.003), (8, 0.01), (24, 10.0)])
def test_fresh_layernorm_gives_every_token_mean_0_and_the_eps_shortened_length(C, scale):
    norm = torch.nn.LayerNorm(C)
    z = scale * torch.randn(500, C, generator=torch.Generator().manual_seed(C), dtype=torch.float64)
    z = z * torch.linspace(0.01, 1, 500, dtype=torch.float64)[:, None]  # tokens of very different sizes
    norm = norm.double()
    with torch.no_grad():
        out = norm(z)
    var = z.var(-1, unbiased=False)
    torch.testing.assert_close(out.mean(-1), torch.zeros(500, dtype=torch.float64))
    torch.testing.assert_close(out.norm(dim=-1), (C * var / (var + norm.eps)).sqrt())
    assert (out.norm(dim=-1) < C**0.5).all()


@pytest.mark.parametrize("P, S_h, S_w", [(4, 226, 226), (4, 227, 230), (2, 33, 32), (16, 40, 50), (3, 10, 11)])
def test_a_strided_convolution_drops_the_remainder_and_the_model_refuses_it(P, S_h, S_w):
    embed, images = _embed(P, 3, 8), _images(1, 3, S_h, S_w)
    with torch.no_grad():
        out = embed(images)
        cropped = embed(images[:, :, :S_h - S_h % P, :S_w - S_w % P])
    assert out.shape[1:3] == (S_h // P, S_w // P)
    assert torch.equal(out, cropped)
    with pytest.raises(EinopsError):
        rearrange(images, "b c (h p1) (w p2) -> b h w (p1 p2 c)", p1=P, p2=P)
    if S_h == S_w:
        with pytest.raises(ValueError, match="not divisible by patch_size"):
            swin_edu.SwinTransformer(img_size=S_h, patch_size=P)


@pytest.mark.parametrize("S", [224, 160, 64])
def test_sample_image_is_the_top_square_resized(S):
    with cbook.get_sample_data("grace_hopper.jpg") as f:
        pixels = torch.from_numpy(mpimg.imread(f, format="jpg").copy())
    side = min(pixels.shape[:2])
    square = rearrange(pixels[:side, :side], "h w c -> 1 c h w").float() / 255
    resized = F.interpolate(square, size=(S, S), mode="bilinear", antialias=True, align_corners=False)[0]
    assert torch.equal(sample_image(S), resized.clamp(0, 1))
    assert side == 512
