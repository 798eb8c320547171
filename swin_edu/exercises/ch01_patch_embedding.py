"""Exercises for notebook 01 (patch embedding): patch partition, the embedding by hand, its cost.

``patch_partition`` is checked on images whose values are their own flat index
(b*C*H*W + c*H*W + h*W + w), so that a failure report can draw where every pixel of image 0 went:
into which token, and to which position inside that token's vector, expected beside got.
``patch_embed`` is checked against the package's :class:`~swin_edu.PatchEmbed` itself (with a
non-trivial LayerNorm, as a trained checkpoint has).
"""
from __future__ import annotations

import torch
from einops import rearrange

from ..patch_embed import PatchEmbed
from ._core import Case, Exercise, Mistake, Question, Result, grid_side_by_side

__all__ = ["check_patch_partition", "check_patch_embed", "check_patch_embed_macs"]

NOTEBOOK = "01_patch_embedding"
PARTITION = "2. Patch partition: one vector of P x P x 3 numbers per patch"
LINEAR = "3. Linear embedding = a strided convolution"
NORM = "4. LayerNorm, and the check against swin_edu"
# sub-sections of the notebook's "Going deeper" part (### headings, collapsed in JupyterLab)
ORDER = "The flattening order must match the weights"
COST = "What PatchEmbed costs"
GOING_DEEPER = (ORDER, COST)


def _ref(section: str) -> str:
    where = ", under Going deeper" if section in GOING_DEEPER else ""
    return f"(notebook 01, section {section}{where})"


# ---------------------------------------------------------------------------------------------
# Exercise 1: patch_partition
# ---------------------------------------------------------------------------------------------

def patch_partition(images: torch.Tensor, P: int) -> torch.Tensor:
    """The reference: [B, C_in, H, W] -> [B, H/P, W/P, P*P*C_in], each patch flattened as (p1 p2 c).

    This is the layout for which a Linear whose weight is the conv weight flattened as
    ``"C c p1 p2 -> C (p1 p2 c)"`` equals :class:`~swin_edu.PatchEmbed`'s ``Conv2d`` (notebook 01,
    section 3; tests/test_exercises_ch01.py checks it).
    """
    return rearrange(images, "b c (h p1) (w p2) -> b h w (p1 p2 c)", p1=P, p2=P)


def _images(B: int, C: int, H: int, W: int, dtype=torch.float32) -> torch.Tensor:
    """[B, C, H, W] images whose every value is its own flat index b*C*H*W + c*H*W + h*W + w."""
    return torch.arange(B * C * H * W, dtype=dtype).view(B, C, H, W)


def _partition_cases() -> list[Case]:
    return [
        Case("4x4 image, 3 channels, P = 2, batch 1", (_images(1, 3, 4, 4), 2)),
        Case("4x8 image (non-square), 3 channels, P = 2, batch 1", (_images(1, 3, 4, 8), 2)),
        Case("8x8 image, 3 channels, P = 4, batch 2", (_images(2, 3, 8, 8), 4)),
        Case("6x9 image (non-square), 2 channels, P = 3, batch 2", (_images(2, 2, 6, 9), 3)),
        Case("12x8 image (non-square, taller than wide), 3 channels, P = 4, batch 2, float64",
             (_images(2, 3, 12, 8, torch.float64), 4)),
        Case("16x16 image, 3 channels, P = 16 (one patch, ViT's patch size), batch 1", (_images(1, 3, 16, 16), 16)),
    ]


def _where_pixels_go(tokens: torch.Tensor, H: int, W: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Two [H, W] maps for channel 0 of image 0: the token (row-major over the patch grid) each pixel
    lands in, and its position inside that token's vector (-1: nowhere)."""
    token_of = torch.full((H * W,), -1, dtype=torch.int64)
    slot_of = torch.full((H * W,), -1, dtype=torch.int64)
    flat = tokens[0].detach().reshape(-1, tokens.shape[-1]).double()  # [tokens, D]
    ids = flat.round()
    found = (ids == flat) & (ids >= 0) & (ids < H * W)  # channel 0 of image 0 holds 0 .. H*W-1
    for t, k in found.nonzero().tolist():
        token_of[int(ids[t, k])] = t
        slot_of[int(ids[t, k])] = k
    return token_of.view(H, W), slot_of.view(H, W)


def _explain_partition(case: Case, expected: torch.Tensor, got: torch.Tensor) -> str:
    images, _ = case.args
    H, W = images.shape[2], images.shape[3]
    if H > 16 or W > 16 or not isinstance(got, torch.Tensor) or got.shape != expected.shape:
        return ""
    exp_token, exp_slot = _where_pixels_go(expected, H, W)
    got_token, got_slot = _where_pixels_go(got, H, W)
    pictures = [
        grid_side_by_side(exp_token, got_token, "  token (row-major over the patch grid) that every pixel of "
                          "image 0 lands in:"),
        grid_side_by_side(exp_slot, got_slot, "  position of every pixel's channel 0 inside its token's vector "
                          "(image 0):"),
    ]
    return "\n".join(p for p in pictures if p)


PARTITION_MISTAKES = (
    Mistake(
        "flattened-c-p1-p2",
        lambda images, P: rearrange(images, "b c (h p1) (w p2) -> b h w (c p1 p2)", p1=P, p2=P),
        "your tokens hold the right pixels, but each patch is flattened as (c p1 p2), channel by channel "
        "(what F.unfold or a reshape of the channels-first image gives). Swin's order is (p1 p2 c): pixel by "
        "pixel, the C_in values of one pixel next to each other, the order that matches the conv weight "
        "flattened as 'C c p1 p2 -> C (p1 p2 c)' " + _ref(PARTITION) + ".",
    ),
    Mistake(
        "patch-transposed",
        lambda images, P: rearrange(images, "b c (h p1) (w p2) -> b h w (p2 p1 c)", p1=P, p2=P),
        "your tokens hold the right pixels, but each patch is read column by column, (p2 p1 c): the "
        "patch is transposed. Read it row by row, (p1 p2 c), with p1 the row inside the patch (from H) "
        "and p2 the column (from W) " + _ref(PARTITION) + ".",
    ),
    Mistake(
        "reshape-without-permute",
        lambda images, P: images.permute(0, 2, 3, 1).reshape(
            images.shape[0], images.shape[2] // P, images.shape[3] // P, -1),
        "you reshaped the channels-last image without moving the axes: each of your 'patches' is P*P "
        "consecutive pixels of the image read row by row (a strip), not a P x P square. Split H into (H/P, P) "
        "and W into (W/P, P), bring the two patch-grid axes first, then flatten (p1 p2 c) "
        + _ref(PARTITION) + ".",
    ),
    Mistake(
        "reshape-channels-first",
        lambda images, P: images.reshape(images.shape[0], images.shape[2] // P, images.shape[3] // P, -1),
        "you reshaped the [B, C_in, H, W] image straight to [B, H/P, W/P, P*P*C_in] without moving any axis: "
        "each of your 'patches' is P*P*C_in consecutive numbers of the channels-first tensor (part of one "
        "channel's rows), not a P x P square with its C_in values per pixel. Split H into (H/P, P) and W into "
        "(W/P, P), move the patch-grid axes first and the channels last, then flatten (p1 p2 c) "
        + _ref(PARTITION) + ".",
    ),
    Mistake(
        "strided-patches",
        lambda images, P: rearrange(images, "b c (p1 h) (p2 w) -> b h w (p1 p2 c)", p1=P, p2=P),
        "your patches are not P x P squares of neighbours: you split H as (P, H/P) instead of (H/P, P), so a "
        "patch takes every (H/P)-th row and every (W/P)-th column, pixels spread over the whole image. The "
        "patch-grid index comes first, the pixel inside the patch second: (h p1) (w p2) " + _ref(PARTITION) + ".",
    ),
    Mistake(
        "grid-transposed",
        lambda images, P: rearrange(images, "b c (h p1) (w p2) -> b w h (p1 p2 c)", p1=P, p2=P),
        "your patch grid is transposed: the output must be [B, H/P, W/P, P*P*C_in], the patch row first "
        "(from H) and the patch column second (from W); yours puts the columns first "
        + _ref(PARTITION) + ".",
    ),
    Mistake(
        "channels-first",
        lambda images, P: rearrange(images, "b c (h p1) (w p2) -> b (p1 p2 c) h w", p1=P, p2=P),
        "your patch vectors are right but laid out channels first, [B, P*P*C_in, H/P, W/P]: Swin's tokens "
        "are channels last, [B, H/P, W/P, P*P*C_in], so that a Linear can act on the last axis "
        + _ref(PARTITION) + ".",
    ),
)

PATCH_PARTITION = Exercise(
    name="patch_partition",
    notebook=NOTEBOOK,
    section=PARTITION,
    reference=patch_partition,
    cases=_partition_cases,
    mistakes=PARTITION_MISTAKES,
    explain=_explain_partition,
    summary="cut [B, C_in, H, W] images into [B, H/P, W/P, P*P*C_in] patch vectors, flattened (p1 p2 c)",
    params=("images", "P"),
    gradients=True,  # part of the model: the gradient must reach the images as through the reference
)


def check_patch_partition(fn) -> Result:
    """Check a learner's ``patch_partition(images, P)``: [B, C_in, H, W] -> [B, H/P, W/P, P*P*C_in].

    Each patch is flattened as (p1 p2 c): row inside the patch, column inside the patch, channel.
    Cases: square and non-square images (wider and taller), 2 or 3 channels, P = 2, 3, 4 and 16
    (one patch), batch 1 and 2, float32 and float64. Recognised mistakes: patches flattened
    (c p1 p2), patches transposed (p2 p1 c), a reshape without moving the axes (of the channels-last
    or of the channels-first image), strided patches ((p1 h) instead of (h p1)), the patch grid
    transposed, the result channels first.
    """
    return PATCH_PARTITION.check(fn)


# ---------------------------------------------------------------------------------------------
# Exercise 2: patch_embed (cut, flatten, Linear, LayerNorm) from a PatchEmbed's parameters
# ---------------------------------------------------------------------------------------------

def patch_embed(images: torch.Tensor, embed: PatchEmbed) -> torch.Tensor:
    """The reference: what ``embed`` (a :class:`~swin_edu.PatchEmbed`) returns,
    [B, C_in, H, W] -> [B, H/P, W/P, C]."""
    return embed(images)


def _embed(P: int, c_in: int, C: int, seed: int, dtype=torch.float32) -> PatchEmbed:
    """A PatchEmbed with seeded weights, as a trained one might have: projections of spread ~1 on
    [0, 1] images (so LayerNorm's eps, 1e-5 or 1e-6, does not matter), a non-trivial LayerNorm
    (scale ~1 +- 0.1, shift ~0 +- 0.1)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        embed = PatchEmbed(patch_size=P, in_chans=c_in, embed_dim=C)
        with torch.no_grad():
            embed.proj.weight.normal_(0.0, (3 / (c_in * P * P)) ** 0.5)
            embed.proj.bias.normal_(0.0, 0.5)
            embed.norm.weight.normal_(1.0, 0.1)
            embed.norm.bias.normal_(0.0, 0.1)
    return embed.to(dtype)


def _rand_images(B: int, c_in: int, H: int, W: int, seed: int, dtype=torch.float32) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(B, c_in, H, W, generator=g, dtype=dtype)


def _embed_cases() -> list[Case]:
    return [
        Case("4x4 image, 3 channels, P = 2, C = 8, batch 1", (_rand_images(1, 3, 4, 4, 0), _embed(2, 3, 8, 0))),
        Case("4x8 image (non-square), 3 channels, P = 2, C = 8, batch 1",
             (_rand_images(1, 3, 4, 8, 1), _embed(2, 3, 8, 1))),
        Case("8x8 image, 3 channels, P = 4, C = 16, batch 2", (_rand_images(2, 3, 8, 8, 2), _embed(4, 3, 16, 2))),
        Case("6x9 image (non-square), 2 channels, P = 3, C = 6, batch 2",
             (_rand_images(2, 2, 6, 9, 3), _embed(3, 2, 6, 3))),
        Case("12x8 image (non-square), 3 channels, P = 4, C = 12, batch 2, float64",
             (_rand_images(2, 3, 12, 8, 4, torch.float64), _embed(4, 3, 12, 4, torch.float64))),
        Case("32x32 image, 3 channels, P = 4, C = 96 (Swin-T), batch 1",
             (_rand_images(1, 3, 32, 32, 5), _embed(4, 3, 96, 5))),
    ]


def _tokens(images, embed, weight_order: str = "C c p1 p2 -> C (p1 p2 c)",
            patch_order: str = "b c (h p1) (w p2) -> b h w (p1 p2 c)", bias: bool = True):
    """Cut, flatten and project with the given orders (for the catalogue of mistakes)."""
    P = embed.patch_size
    patches = rearrange(images, patch_order, p1=P, p2=P)
    weight = rearrange(embed.proj.weight, weight_order)
    z = patches @ weight.T
    return z + embed.proj.bias if bias else z


def _layer_norm_unbiased(z, norm):
    mean = z.mean(-1, keepdim=True)
    var = z.var(-1, keepdim=True)  # unbiased: divides by C - 1
    return (z - mean) / torch.sqrt(var + norm.eps) * norm.weight + norm.bias


EMBED_MISTAKES = (
    Mistake(
        "weight-flattened-c-p1-p2",
        lambda images, embed: embed.norm(_tokens(images, embed, weight_order="C c p1 p2 -> C (c p1 p2)")),
        "your patches are flattened (p1 p2 c) but the conv weight as (c p1 p2) (what weight.flatten(1) or "
        "weight.reshape(C, -1) gives): the same numbers in another order, so each output is a sum of "
        "mismatched products. Flatten the weight in the patches' order, rearrange(weight, "
        "'C c p1 p2 -> C (p1 p2 c)') " + _ref(ORDER) + ".",
    ),
    Mistake(
        "patches-c-p1-p2",
        lambda images, embed: embed.norm(_tokens(images, embed, patch_order="b c (h p1) (w p2) -> b h w (c p1 p2)")),
        "your patches are flattened (c p1 p2) (what F.unfold gives) but the conv weight as (p1 p2 c): the "
        "two orders must be the same. Either flatten the weight as (c p1 p2) too (weight.flatten(1)) or "
        "the patches as (p1 p2 c) " + _ref(ORDER) + ".",
    ),
    Mistake(
        "kernel-transposed",
        lambda images, embed: embed.norm(_tokens(images, embed, weight_order="C c p1 p2 -> C (p2 p1 c)")),
        "the patches and the weight disagree on rows and columns: one is flattened (p1 p2 c), the other "
        "(p2 p1 c), so every patch meets a transposed kernel. Flatten both with p1 (the row, from H) "
        "before p2 " + _ref(LINEAR) + ".",
    ),
    Mistake(
        "no-bias",
        lambda images, embed: embed.norm(_tokens(images, embed, bias=False)),
        "you forgot the projection's bias: the linear embedding is z = W x + b, with b = embed.proj.bias "
        "(the LayerNorm does not cancel it: b is not the same for every channel) " + _ref(LINEAR) + ".",
    ),
    Mistake(
        "no-layernorm",
        lambda images, embed: _tokens(images, embed),
        "your tokens are the projection's output, before the LayerNorm: PatchEmbed ends with "
        "LayerNorm(C) over the channels of every token, embed.norm " + _ref(NORM) + ".",
    ),
    Mistake(
        "layernorm-without-affine",
        lambda images, embed: torch.nn.functional.layer_norm(_tokens(images, embed), (embed.norm.normalized_shape),
                                                             eps=embed.norm.eps),
        "you normalised every token but left out the LayerNorm's learned scale and shift: use embed.norm(z), "
        "or F.layer_norm(z, (C,), embed.norm.weight, embed.norm.bias, embed.norm.eps) " + _ref(NORM) + ".",
    ),
    Mistake(
        "channels-first",
        lambda images, embed: embed(images).permute(0, 3, 1, 2),
        "your tokens are right but laid out channels first, [B, C, H/P, W/P] (the convolution's layout): "
        "Swin's tokens are channels last, [B, H/P, W/P, C], one C-vector per patch, which is also the axis "
        "the LayerNorm normalises " + _ref(LINEAR) + ".",
    ),
    Mistake(
        "layernorm-unbiased",
        lambda images, embed: _layer_norm_unbiased(_tokens(images, embed), embed.norm),
        "your LayerNorm divides by the unbiased standard deviation (torch.var / torch.std divide by C - 1 "
        "by default): LayerNorm uses the biased one, var(unbiased=False), dividing by C " + _ref(NORM) + ".",
    ),
)

PATCH_EMBED = Exercise(
    name="patch_embed",
    notebook=NOTEBOOK,
    section=LINEAR,
    reference=patch_embed,
    cases=_embed_cases,
    mistakes=EMBED_MISTAKES,
    atol=1e-4,
    summary="PatchEmbed by hand: cut, flatten, Linear from the conv weight, LayerNorm",
    forbidden=lambda images, embed: [(embed, "embed(images)"), (embed.proj, "embed.proj(...)"),
                                     (torch.conv2d, "a convolution (F.conv2d or nn.Conv2d)")],
    gradients=True,  # the layer is trained: the gradient must reach embed's weights as through embed(images)
)


def check_patch_embed(fn) -> Result:
    """Check a learner's ``patch_embed(images, embed)``: [B, C_in, H, W] -> [B, H/P, W/P, C].

    ``embed`` is a :class:`swin_edu.PatchEmbed`; the answer must equal ``embed(images)``, computed
    as cut + flatten + a matmul with ``embed.proj``'s weight and bias + ``embed.norm``.
    Cases: square and non-square images, 2 or 3 channels, P = 2, 3, 4, C = 6 to 96, batch 1 and 2,
    float32 and float64, LayerNorms with non-trivial scale and shift. Recognised mistakes: weight
    flattened (c p1 p2) against (p1 p2 c) patches, patches (c p1 p2) against a (p1 p2 c) weight, a
    transposed kernel, the bias forgotten, the LayerNorm forgotten, the LayerNorm without its scale
    and shift, a LayerNorm with the unbiased variance, the result channels first.
    """
    return PATCH_EMBED.check(fn)


# ---------------------------------------------------------------------------------------------
# Question: the multiply-accumulates of Swin-B's patch embedding
# ---------------------------------------------------------------------------------------------

def _macs_question() -> Question:
    with torch.device("meta"):
        swin_b = PatchEmbed(patch_size=4, in_chans=3, embed_dim=128)
        swin_t = PatchEmbed(patch_size=4, in_chans=3, embed_dim=96)
    side = 224 // swin_b.patch_size
    n, c_out, c_in, P = side * side, swin_b.proj.out_channels, swin_b.proj.in_channels, swin_b.patch_size
    projection, norm = n * c_out * c_in * P * P, n * c_out
    answer = swin_b.flops(224, 224)
    assert answer == projection + norm  # the decomposition the diagnoses below rely on
    return Question(
        name="patch_embed_macs",
        notebook=NOTEBOOK,
        section=COST,
        answer=answer,
        mistakes=(
            Mistake("projection-only", projection,
                    "that is the projection alone (56*56 tokens x 48 x 128): PatchEmbed.flops also counts the "
                    "LayerNorm, one multiply-accumulate per output value, 56*56*128 " + _ref(COST) + "."),
            Mistake("flop-counter", 2 * projection,
                    "that is what FlopCounterMode reports: FLOPs (2 per multiply-accumulate) of the projection "
                    "only. PatchEmbed.flops counts multiply-accumulates, projection + LayerNorm "
                    + _ref(COST) + "."),
            Mistake("doubled", 2 * answer,
                    "you counted 2 FLOPs per multiply-accumulate: PatchEmbed.flops counts multiply-accumulates "
                    "(one per product) " + _ref(COST) + "."),
            Mistake("no-colours", n * c_out * P * P + norm,
                    "each patch has 4*4*3 = 48 numbers, not 16: the 3 colour channels are part of every patch "
                    "vector " + _ref(PARTITION) + "."),
            Mistake("flops-projection", 2 * projection + norm,
                    "you counted the projection in FLOPs (2 per multiply-accumulate, a multiply and an add): "
                    "PatchEmbed.flops counts multiply-accumulates, one per product " + _ref(COST) + "."),
            Mistake("two-per-output", projection + 2 * norm,
                    "you counted 2 operations per output value besides the projection (the bias addition, or the "
                    "LayerNorm's scale and shift separately): PatchEmbed.flops counts the projection's products "
                    "and one multiply-accumulate per output value for the LayerNorm, nothing for the bias "
                    + _ref(COST) + "."),
            Mistake("pixels-as-tokens", 224 * 224 * (c_out * c_in * P * P + c_out),
                    "you took every pixel as a token (224*224): the projection runs once per PATCH, "
                    "(224/4) x (224/4) = 56*56 tokens " + _ref(PARTITION) + "."),
            Mistake("swin-t", swin_t.flops(224, 224),
                    "that is Swin-T's patch embedding (C = 96): Swin-B embeds into C = 128 channels "
                    + _ref(COST) + "."),
        ),
        summary="multiply-accumulates of Swin-B's PatchEmbed at 224x224, as PatchEmbed.flops counts them",
    )


PATCH_EMBED_MACS = _macs_question()


def check_patch_embed_macs(fn) -> Result:
    """Check ``patch_embed_macs()``: a function of no arguments returning the number of
    multiply-accumulates of Swin-B's patch embedding (P = 4, 3 -> 128 channels) on one 224x224 image,
    as ``PatchEmbed.flops`` counts them (projection + LayerNorm).

    Recognised wrong values: the projection only, FlopCounterMode's FLOPs of the projection, the
    total doubled (FLOPs), the projection in FLOPs, 2 per output value besides the projection (bias, or
    scale and shift), every pixel as a token, patches of 16 numbers (colours forgotten), Swin-T's count
    (C = 96).
    """
    return PATCH_EMBED_MACS.check(fn)


#: Every exercise and question of this notebook, in the order the exercise notebook asks them.
EXERCISES: list = [PATCH_PARTITION, PATCH_EMBED, PATCH_EMBED_MACS]


# ---------------------------------------------------------------------------------------------
# Transfer exercise: overlapping patches (kernel K > stride S, zero padding), as a conv stem cuts them
# ---------------------------------------------------------------------------------------------

def _overlapping_patches(images: torch.Tensor, K: int, S: int, padding: int) -> torch.Tensor:
    """The reference: [B, C_in, H, W] -> [B, H', W', K*K*C_in], H' = (H + 2*padding - K) // S + 1 (W'
    alike); the K x K patch of token (i, j) starts at row i*S, column j*S of the zero-padded image and is
    flattened as (p1 p2 c). A Linear on these vectors equals Conv2d(C_in, C, K, stride=S, padding=padding)
    with its weight flattened as 'C c p1 p2 -> C (p1 p2 c)' (tests/test_exercises_ch01.py checks it)."""
    x = torch.nn.functional.pad(images, (padding, padding, padding, padding))
    patches = x.unfold(2, K, S).unfold(3, K, S)  # [B, C_in, H', W', K, K]
    return rearrange(patches, "b c h w p1 p2 -> b h w (p1 p2 c)")


def _coded_images(B: int, C: int, H: int, W: int, dtype=torch.float32) -> torch.Tensor:
    """[B, C, H, W] images whose every value is its flat index + 1 (channel 0 of image 0: h*W + w + 1),
    so that 0 can only be padding."""
    return torch.arange(1, B * C * H * W + 1, dtype=dtype).view(B, C, H, W)


def _overlap_cases() -> list[Case]:
    return [
        Case("4x4 image, 1 channel, K = 3, S = 2, padding 1, batch 1", (_coded_images(1, 1, 4, 4), 3, 2, 1)),
        Case("4x6 image (non-square), 2 channels, K = 3, S = 2, padding 1, batch 1",
             (_coded_images(1, 2, 4, 6), 3, 2, 1)),
        Case("6x4 image (non-square), 3 channels, K = 3, S = 1 (stride 1), padding 1, batch 2",
             (_coded_images(2, 3, 6, 4), 3, 1, 1)),
        Case("11x8 image (non-square), 2 channels, K = 5, S = 3, padding 0, batch 1",
             (_coded_images(1, 2, 11, 8), 5, 3, 0)),
        Case("8x8 image, 3 channels, K = 4, S = 4, padding 0 (non-overlapping: notebook 01's patches), batch 2, "
             "float64", (_coded_images(2, 3, 8, 8, torch.float64), 4, 4, 0)),
        Case("16x12 image (non-square), 3 channels, K = 7, S = 4, padding 3 (a conv stem), batch 2",
             (_coded_images(2, 3, 16, 12), 7, 4, 3)),
    ]


def _patch_of_token(tokens: torch.Tensor, i: int, j: int, K: int, C: int) -> torch.Tensor:
    """Channel 0 of the patch of token (i, j) of image 0, read as (p1 p2 c): [K, K] pixel codes."""
    return tokens[0, i, j].detach().double().round().long().view(K, K, C)[..., 0]


def _explain_overlap(case: Case, expected: torch.Tensor, got) -> str:
    images, K, _, _ = case.args
    C = images.shape[1]
    if K > 8 or not isinstance(got, torch.Tensor) or got.dim() != 4 or got.shape[-1] != expected.shape[-1]:
        return ""
    for i in range(min(got.shape[1], expected.shape[1])):
        for j in range(min(got.shape[2], expected.shape[2])):
            exp, g = _patch_of_token(expected, i, j, K, C), _patch_of_token(got, i, j, K, C)
            if not torch.equal(exp, g):
                return grid_side_by_side(exp, g, f"  patch of token ({i}, {j}), channel 0 of image 0, read as "
                                         "(p1 p2 c): pixel codes h*W + w + 1, 0 = padding:")
    return ""


def _overlap_by(images, K, S, padding, order="b h w (p1 p2 c)", pad=None):
    """A wrong variant of the reference: another flattening order, or another padding."""
    x = torch.nn.functional.pad(images, pad if pad is not None else (padding,) * 4)
    return rearrange(x.unfold(2, K, S).unfold(3, K, S), "b c h w p1 p2 -> " + order)


def _last_row_dropped(images, K, S, padding):
    out = _overlapping_patches(images, K, S, padding)
    return out[:, :-1, :-1]  # range((H + 2p - K) // S): one patch row and column short


OVERLAP_MISTAKES = (
    Mistake(
        "flattened-c-p1-p2",
        lambda images, K, S, p: _overlap_by(images, K, S, p, "b h w (c p1 p2)"),
        "your tokens hold the right pixels, but each patch is flattened as (c p1 p2), channel by channel: "
        "the order F.unfold gives ([B, C_in*K*K, L]). The task asks (p1 p2 c), as in notebook 01, so that "
        "a Linear with the conv weight flattened as 'C c p1 p2 -> C (p1 p2 c)' gives the convolution: "
        "view F.unfold's output as [B, C_in, K*K, L] and move C_in last " + _ref(ORDER) + ".",
    ),
    Mistake(
        "patch-transposed",
        lambda images, K, S, p: _overlap_by(images, K, S, p, "b h w (p2 p1 c)"),
        "your patches are read column by column, (p2 p1 c): each patch is transposed. Read it row by row, "
        "(p1 p2 c), p1 the row inside the patch and p2 the column " + _ref(PARTITION) + ".",
    ),
    Mistake(
        "no-padding",
        lambda images, K, S, p: _overlap_by(images, K, S, p, pad=(0, 0, 0, 0)),
        "you did not pad: without the `padding` zeros around the image the first patch starts at pixel "
        "(0, 0) instead of (-padding, -padding) and the grid is too small. Pad all four sides with "
        "F.pad(images, (p, p, p, p)) first; then H' = (H + 2p - K) // S + 1 " + _ref(LINEAR) + ".",
    ),
    Mistake(
        "width-only-padding",
        lambda images, K, S, p: _overlap_by(images, K, S, p, pad=(p, p)),
        "you padded the columns only: F.pad(images, (p, p)) pads the last axis (W) and leaves H alone. "
        "Give F.pad a pair per axis, last axis first: F.pad(images, (p, p, p, p)) " + _ref(LINEAR) + ".",
    ),
    Mistake(
        "padding-one-side",
        lambda images, K, S, p: _overlap_by(images, K, S, p, pad=(0, 2 * p, 0, 2 * p)),
        "you put all the padding at the bottom and right, F.pad(images, (0, 2p, 0, 2p)): the first patch then "
        "starts on the image's first pixel instead of `padding` zeros before it. Pad p on each of the four "
        "sides, F.pad(images, (p, p, p, p)) (left, right, top, bottom) " + _ref(LINEAR) + ".",
    ),
    Mistake(
        "grid-transposed",
        lambda images, K, S, p: _overlap_by(images, K, S, p, "b w h (p1 p2 c)"),
        "your patch grid is transposed: the output must be [B, H', W', K*K*C_in], the patch row first (from H) "
        "and the patch column second (from W); yours puts the columns first " + _ref(PARTITION) + ".",
    ),
    Mistake(
        "stride-K",
        lambda images, K, S, p: _overlap_by(images, K, K, p),
        "your patches do not overlap: they start every K pixels (stride K, as in notebook 01), not every "
        "S pixels. Token (i, j) starts at row i*S, column j*S of the padded image, so neighbouring "
        "patches share K - S rows or columns " + _ref(LINEAR) + ".",
    ),
    Mistake(
        "last-patch-dropped",
        _last_row_dropped,
        "your grid lacks its last patch row and column: the number of patches along an axis is "
        "(H + 2p - K) // S + 1 (the first patch at 0, the last at S*((H + 2p - K) // S)); without the + 1 "
        "the last one is lost " + _ref(LINEAR) + ".",
    ),
)

OVERLAPPING_PATCHES = Exercise(
    name="overlapping_patches",
    notebook=NOTEBOOK,
    section=PARTITION,
    reference=_overlapping_patches,
    cases=_overlap_cases,
    mistakes=OVERLAP_MISTAKES,
    explain=_explain_overlap,
    summary="transfer: cut overlapping K x K patches with stride S and zero padding, flattened (p1 p2 c)",
    gradients=True,  # a piece of a model (a conv stem): the gradient must reach the images
)


def check_overlapping_patches(fn) -> Result:
    """Check a learner's ``overlapping_patches(images, K, S, padding)``: [B, C_in, H, W] ->
    [B, H', W', K*K*C_in] with H' = (H + 2*padding - K) // S + 1 (W' alike), the patch of token (i, j)
    the K x K block at row i*S, column j*S of the zero-padded image, flattened (p1 p2 c).

    Cases: 4x4 to 16x12 images, 1 to 3 channels, K = 3, 4, 5, 7 with S = 1 to 4, padding 0 to 3, one
    non-overlapping case (K = S), float32 and float64. Recognised mistakes: the order (c p1 p2) of
    F.unfold, transposed patches, no padding, the columns padded only, all padding bottom and right,
    the patch grid transposed, stride K, the last patch row and column dropped.
    """
    return OVERLAPPING_PATCHES.check(fn)


__all__ += ["check_overlapping_patches"]
EXERCISES.append(OVERLAPPING_PATCHES)
