"""Exercises for notebook 02 (patch merging): the 2x2 concatenation, the stage shapes, the parameters.

``merge_patches`` is checked on maps whose channel 0 holds the token's position (b*H*W + h*W + w),
so that a failure report can draw, for every token of image 0, the merged token and the piece
(x0, x1, x2, x3: which block of C channels) it lands in, expected beside got. ``stage_shapes`` is
checked against shapes that the package's own PatchEmbed and PatchMerging produce (on the meta
device: no memory, no arithmetic).
"""
from __future__ import annotations

import torch
from einops import rearrange

from ..patch_embed import PatchEmbed
from ..patch_merging import PatchMerging, merge_patches
from ._core import Case, Exercise, Mistake, Question, Result, grid_side_by_side, position_map

__all__ = ["check_merge_patches", "check_stage_shapes", "check_merging_params"]

NOTEBOOK = "02_patch_merging"
SUBGRIDS = "2. Four interleaved sub-grids"
LAYER = "3. The full layer: LayerNorm(4C), Linear(4C -> 2C)"
ORDER = "4. The order of the four pieces is part of the checkpoint"
HIERARCHY = "5. The hierarchy of Swin-T: 56 -> 28 -> 14 -> 7"


def _ref(section: str) -> str:
    return f"(notebook 02, section {section})"


# ---------------------------------------------------------------------------------------------
# Exercise 1: merge_patches
# ---------------------------------------------------------------------------------------------

def _merge_cases() -> list[Case]:
    return [
        Case("4x4 map, C = 2, batch 2", (position_map(2, 4, 4, 2),)),
        Case("4x6 map (non-square), C = 3, batch 1", (position_map(1, 4, 6, 3, seed=1),)),
        Case("8x8 map, C = 3, batch 3", (position_map(3, 8, 8, 3, seed=2),)),
        Case("6x10 map (non-square, odd H/2 and W/2), C = 4, batch 2", (position_map(2, 6, 10, 4, seed=3),)),
        Case("8x4 map (non-square, taller than wide), C = 2, batch 2, float64",
             (position_map(2, 8, 4, 2, torch.float64, seed=4),)),
        Case("14x28 map (non-square), C = 8, batch 2", (position_map(2, 14, 28, 8, seed=5),)),
    ]


def _where_tokens_go(merged: torch.Tensor, H: int, W: int, C: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Two [H, W] maps for image 0: the merged token (row-major) each token lands in, and the piece
    (block of C channels: 0 = x0, ..., 3 = x3) that holds its channel 0 (-1: nowhere)."""
    token_of = torch.full((H * W,), -1, dtype=torch.int64)
    piece_of = torch.full((H * W,), -1, dtype=torch.int64)
    flat = merged[0].detach().reshape(-1, merged.shape[-1]).double()  # [merged tokens, 4C]
    ids = flat.round()
    found = (ids == flat) & (ids >= 0) & (ids < H * W)  # channel 0 of image 0 holds 0 .. H*W-1
    for t, k in found.nonzero().tolist():
        token_of[int(ids[t, k])] = t
        piece_of[int(ids[t, k])] = k // C
    return token_of.view(H, W), piece_of.view(H, W)


def _explain_merge(case: Case, expected: torch.Tensor, got: torch.Tensor) -> str:
    (x,) = case.args
    B, H, W, C = x.shape
    if H > 16 or W > 16 or not isinstance(got, torch.Tensor) or got.shape != expected.shape:
        return ""
    exp_token, exp_piece = _where_tokens_go(expected, H, W, C)
    got_token, got_piece = _where_tokens_go(got, H, W, C)
    pictures = [
        grid_side_by_side(exp_token, got_token, "  merged token (row-major) that every token of image 0 lands in:"),
        grid_side_by_side(exp_piece, got_piece, "  piece (0 = x0, 1 = x1, 2 = x2, 3 = x3: block of C channels) "
                          "holding every token of image 0:"),
    ]
    return "\n".join(p for p in pictures if p)


MERGE_MISTAKES = (
    Mistake(
        "row-major",
        lambda x: torch.cat([x[:, 0::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 0::2], x[:, 1::2, 1::2]], dim=-1),
        "the four pieces are concatenated row-major (x[0::2, 0::2], x[0::2, 1::2], x[1::2, 0::2], "
        "x[1::2, 1::2]; in einops (h2 w2 c)); Swin's order is x0, x1, x2, x3 = [0::2, 0::2], [1::2, 0::2], "
        "[0::2, 1::2], [1::2, 1::2]: the row offset changes first, x1 is the token below, not the one to "
        "the right (einops: (w2 h2 c)). A trained checkpoint only works with that order "
        + _ref(SUBGRIDS) + ".",
    ),
    Mistake(
        "interleaved",
        lambda x: torch.stack([x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2]],
                              dim=-1).flatten(-2),
        "your merged tokens hold the right four tokens, but their channels are interleaved (c, piece): "
        "stacking the pieces on a new last axis and flattening puts channel 0 of the four pieces first. "
        "Concatenate along the channels instead, torch.cat(pieces, dim=-1), so that channels 0..C-1 are x0, "
        "C..2C-1 are x1, and so on " + _ref(SUBGRIDS) + ".",
    ),
    Mistake(
        "reshape-without-permute",
        lambda x: x.reshape(x.shape[0], x.shape[1] // 2, x.shape[2] // 2, 4 * x.shape[3]),
        "you reshaped without moving the axes: each merged token holds 4 consecutive tokens of the map "
        "read row by row, not a 2x2 neighbourhood. Take the four interleaved sub-grids x[:, 0::2, 0::2], "
        "x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2] (or split H into (H/2, 2) and W into (W/2, 2) "
        "and permute before merging the axes) " + _ref(SUBGRIDS) + ".",
    ),
    Mistake(
        "quadrants",
        lambda x: rearrange(x, "b (h2 h) (w2 w) c -> b h w (w2 h2 c)", h2=2, w2=2),
        "your four pieces are the four quadrants of the map (top half / bottom half, left half / right "
        "half), so a merged token gathers tokens H/2 rows apart, not a 2x2 neighbourhood. The pieces are "
        "interleaved sub-grids, taken with step 2 (x[:, 1::2, 0::2], ...); in einops split the rows as "
        "(h h2), not (h2 h) " + _ref(SUBGRIDS) + ".",
    ),
    Mistake(
        "grid-transposed",
        lambda x: torch.cat([x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2]], -1).transpose(1, 2),
        "your merged tokens are right but the grid is transposed: the output must be [B, H/2, W/2, 4C], the "
        "row first (from H) and the column second (from W); yours puts the columns first (a transpose or a "
        "(w h) in the output pattern) " + _ref(SUBGRIDS) + ".",
    ),
    Mistake(
        "stacked",
        lambda x: torch.stack([x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2]], -2),
        "your four pieces are the right ones in the right order, but stacked on a new axis, [B, H/2, W/2, 4, C]: "
        "a merged token is ONE vector of 4C numbers, the pieces concatenated along the channels, "
        "torch.cat(pieces, dim=-1) " + _ref(SUBGRIDS) + ".",
    ),
    Mistake(
        "slices-on-batch",
        lambda x: torch.cat([x[0::2, 0::2], x[1::2, 0::2], x[0::2, 1::2], x[1::2, 1::2]], dim=-1),
        "your slices act on the batch and H: on a [B, H, W, C] tensor x[0::2, 0::2] steps through images "
        "and rows. Slice dimensions 1 and 2, x[:, 0::2, 0::2] (or x[..., 0::2, 0::2, :]) "
        + _ref(SUBGRIDS) + ".",
    ),
)

MERGE_PATCHES = Exercise(
    name="merge_patches",
    notebook=NOTEBOOK,
    section=SUBGRIDS,
    reference=merge_patches,
    cases=_merge_cases,
    mistakes=MERGE_MISTAKES,
    explain=_explain_merge,
    summary="concatenate every 2x2 neighbourhood: [B, H, W, C] -> [B, H/2, W/2, 4C] in the order x0, x1, x2, x3",
    gradients=True,  # part of the model: the gradient must reach x as through the reference
)


def check_merge_patches(fn) -> Result:
    """Check a learner's ``merge_patches(x)``: [B, H, W, C] -> [B, H/2, W/2, 4C].

    Channels 0..C-1 of merged token (i, j) hold x[:, 2i, 2j], then x[:, 2i+1, 2j], x[:, 2i, 2j+1],
    x[:, 2i+1, 2j+1] (x0, x1, x2, x3). Cases: square and non-square maps (wider and taller, odd
    H/2 and W/2), C = 2 to 8, batch 1 to 3, float32 and float64. Recognised mistakes: the pieces in
    row-major order, channels interleaved (stack then flatten), a reshape without moving the axes,
    quadrants instead of interleaved sub-grids, the grid transposed, the pieces stacked on a new axis,
    slices on the batch dimension.
    """
    return MERGE_PATCHES.check(fn)


# ---------------------------------------------------------------------------------------------
# Exercise 2: stage_shapes
# ---------------------------------------------------------------------------------------------

def stage_shapes(H: int, W: int, patch_size: int, embed_dim: int, num_stages: int) -> list[tuple[int, int, int]]:
    """The reference: the (H_i, W_i, C_i) of the map every stage works on, for an H x W image.

    Computed by running the package's own PatchEmbed projection and PatchMerging (concatenation and
    reduction; the LayerNorms keep the shape) on the meta device: shapes only, no memory, no
    arithmetic. Stage 1 works on the patch embedding's output, every later stage starts with a
    PatchMerging.
    """
    with torch.device("meta"):
        embed = PatchEmbed(patch_size=patch_size, in_chans=3, embed_dim=embed_dim)
        x = embed.proj(torch.empty(1, 3, H, W)).permute(0, 2, 3, 1)  # [1, H/P, W/P, C]
        shapes = [tuple(x.shape[1:])]
        for _ in range(1, num_stages):
            x = PatchMerging(x.shape[-1]).reduction(merge_patches(x))  # [1, H_i/2, W_i/2, 2C_i]
            shapes.append(tuple(x.shape[1:]))
    return shapes


def _stage_cases() -> list[Case]:
    return [
        Case("16x16 image, P = 4, C = 8, 2 stages", (16, 16, 4, 8, 2)),
        Case("32x64 image (non-square), P = 4, C = 16, 3 stages", (32, 64, 4, 16, 3)),
        Case("32x32 image, P = 2, C = 96, 3 stages (swin_cifar)", (32, 32, 2, 96, 3)),
        Case("224x224 image, P = 4, C = 96, 4 stages (Swin-T)", (224, 224, 4, 96, 4)),
        Case("256x192 image (non-square, taller than wide), P = 4, C = 128, 4 stages", (256, 192, 4, 128, 4)),
        Case("64x64 image, P = 8, C = 32, 1 stage (no merging)", (64, 64, 8, 32, 1)),
    ]


STAGE_MISTAKES = (
    Mistake(
        "halved-at-stage-1",
        lambda H, W, P, C, n: [(H // P // 2 ** (i + 1), W // P // 2 ** (i + 1), C * 2**i) for i in range(n)],
        "you halved the map at stage 1 too: stage 1 works on the patch embedding's H/P x W/P grid; patch "
        "merging starts stages 2, 3, ... only " + _ref(HIERARCHY) + ".",
    ),
    Mistake(
        "channels-not-doubled",
        lambda H, W, P, C, n: [(H // P // 2**i, W // P // 2**i, C) for i in range(n)],
        "your channels stay at C: every patch merging doubles them, LayerNorm(4C) then Linear(4C -> 2C), so "
        "stage i works with C * 2^(i-1) channels " + _ref(LAYER) + ".",
    ),
    Mistake(
        "channels-times-4",
        lambda H, W, P, C, n: [(H // P // 2**i, W // P // 2**i, C * 4**i) for i in range(n)],
        "you kept the 4C channels of the concatenation: the merging's Linear reduces 4C to 2C, so the "
        "channels double (not quadruple) from stage to stage " + _ref(LAYER) + ".",
    ),
    Mistake(
        "channels-doubled-at-stage-1",
        lambda H, W, P, C, n: [(H // P // 2**i, W // P // 2**i, C * 2 ** (i + 1)) for i in range(n)],
        "you doubled the channels at stage 1 too: stage 1 works with the embedding's C channels; each "
        "patch merging, at the start of stages 2, 3, ..., doubles them " + _ref(HIERARCHY) + ".",
    ),
    Mistake(
        "no-patch-size",
        lambda H, W, P, C, n: [(H // 2**i, W // 2**i, C * 2**i) for i in range(n)],
        "you forgot the patch size: stage 1 works on the grid of patches, H/P x W/P, not on the pixels "
        "(notebook 01 turns a 224x224 image into 56x56 tokens) " + _ref(HIERARCHY) + ".",
    ),
    Mistake(
        "embedding-as-stage",
        lambda H, W, P, C, n: [(H // P, W // P, C)] + [(H // P // 2**i, W // P // 2**i, C * 2**i) for i in range(n)],
        "you listed the patch embedding as a stage of its own: give one (H_i, W_i, C_i) per stage, "
        "num_stages entries; stage 1 works on the embedding's output, at the same resolution "
        + _ref(HIERARCHY) + ".",
    ),
    Mistake(
        "one-stage-late",
        lambda H, W, P, C, n: [(H // P // 2 ** (i + 1), W // P // 2 ** (i + 1), C * 2 ** (i + 1)) for i in range(n)],
        "your list starts one stage late: your first entry is stage 2's shape. Stage 1 works on the "
        "embedding's output, (H/P, W/P, C), with no merging before it; stage i is halved and doubled i - 1 "
        "times (a loop from 1, or a merging before every stage, gives this) " + _ref(HIERARCHY) + ".",
    ),
    Mistake(
        "one-stage-missing",
        lambda H, W, P, C, n: [(H // P // 2**i, W // P // 2**i, C * 2**i) for i in range(n - 1)],
        "your list is one stage short: give num_stages entries, one per stage, stage 1 included "
        "(range(num_stages), not range(num_stages - 1): there are num_stages - 1 mergings but num_stages "
        "stages) " + _ref(HIERARCHY) + ".",
    ),
    Mistake(
        "H-W-swapped",
        lambda H, W, P, C, n: [(W // P // 2**i, H // P // 2**i, C * 2**i) for i in range(n)],
        "your H_i and W_i are swapped: each tuple is (H_i, W_i, C_i), the rows (from H) first and the "
        "columns (from W) second (visible only on non-square images) " + _ref(HIERARCHY) + ".",
    ),
    Mistake(
        "square-only",
        lambda H, W, P, C, n: [(H // P // 2**i, H // P // 2**i, C * 2**i) for i in range(n)],
        "your shapes are right for square images only: H and W shrink separately, H_i from H and W_i from "
        "W (merging halves both) " + _ref(HIERARCHY) + ".",
    ),
)

STAGE_SHAPES = Exercise(
    name="stage_shapes",
    notebook=NOTEBOOK,
    section=HIERARCHY,
    reference=stage_shapes,
    cases=_stage_cases,
    mistakes=STAGE_MISTAKES,
    summary="(H_i, W_i, C_i) of every stage for an H x W image",
)


def check_stage_shapes(fn) -> Result:
    """Check a learner's ``stage_shapes(H, W, patch_size, embed_dim, num_stages)``: a list of
    ``num_stages`` tuples (H_i, W_i, C_i), the map every stage works on for an H x W image.

    Cases: square and non-square images (wider and taller), P = 2, 4, 8, C = 8 to 128, 1 to 4
    stages, Swin-T and swin_cifar among them. Recognised mistakes: halving at stage 1 too, channels
    not doubling, channels quadrupling (4C kept), channels doubled at stage 1 too, the patch size
    forgotten, the patch embedding listed as a stage, the list one stage late (merging before stage 1,
    or a loop from 1), one stage missing, H and W swapped, H used for W (square only).
    """
    return STAGE_SHAPES.check(fn)


# ---------------------------------------------------------------------------------------------
# Question: the parameters of Swin-T's three PatchMerging layers
# ---------------------------------------------------------------------------------------------

def _count(dims) -> int:
    with torch.device("meta"):
        return sum(p.numel() for C in dims for p in PatchMerging(C).parameters())


def _params_question() -> Question:
    dims = [96 * 2**i for i in range(3)]  # Swin-T: C of stages 1-3, the inputs of the three mergings
    answer = _count(dims)
    assert answer == sum(8 * C * C + 8 * C for C in dims)  # the decomposition the diagnoses below rely on
    return Question(
        name="merging_params",
        notebook=NOTEBOOK,
        section=LAYER,
        answer=answer,
        mistakes=(
            Mistake("no-layernorm", sum(8 * C * C for C in dims),
                    "you counted the reductions only: each PatchMerging also has a LayerNorm(4C) with a scale "
                    "and a shift, 8C parameters " + _ref(LAYER) + "."),
            Mistake("bias-counted", sum(8 * C * C + 8 * C + 2 * C for C in dims),
                    "the reduction has no bias, Linear(4C, 2C, bias=False): its 4C x 2C weight is all " + _ref(LAYER)
                    + "."),
            Mistake("layernorm-4C", sum(8 * C * C + 4 * C for C in dims),
                    "you counted 4C for the LayerNorm (a scale only, or a scale and a shift over 2C, after the "
                    "reduction as in Swin V2): Swin's LayerNorm normalises the 4C concatenated channels, BEFORE the "
                    "reduction, and has both a scale and a shift, 2 x 4C = 8C " + _ref(LAYER) + "."),
            Mistake("output-channels", _count([2 * C for C in dims]),
                    "you took each merging's output channels as C: the three mergings take C = 96, 192, 384 "
                    "(the channels of stages 1-3) and give 2C " + _ref(HIERARCHY) + "."),
            Mistake("four-mergings", _count(dims + [8 * 96]),
                    "you counted four mergings: Swin-T has four stages but only three PatchMerging layers, "
                    "between stages 1-2, 2-3 and 3-4 (nothing follows stage 4) " + _ref(HIERARCHY) + "."),
            Mistake("same-C", _count([96] * 3),
                    "you used C = 96 for all three mergings: each stage has twice the channels of the one "
                    "before, so the mergings take C = 96, 192 and 384 " + _ref(HIERARCHY) + "."),
            Mistake("reduction-to-C", sum(4 * C * C + 8 * C for C in dims),
                    "your reduction maps 4C to C: PatchMerging's Linear maps 4C to 2C (the channels double "
                    "from stage to stage), 4C x 2C weights " + _ref(LAYER) + "."),
        ),
        summary="parameters of the three PatchMerging layers of Swin-T",
    )


MERGING_PARAMS = _params_question()


def check_merging_params(fn) -> Result:
    """Check ``merging_params()``: a function of no arguments returning the number of parameters of the
    three PatchMerging layers of Swin-T together (C = 96, 192, 384: LayerNorm(4C) + Linear(4C, 2C,
    no bias) each).

    Recognised wrong values: the LayerNorms forgotten, a bias counted in the reduction, 4C counted
    for a LayerNorm (scale only, or over 2C), each merging's output channels taken as C, four mergings,
    C = 96 for all three, a reduction 4C -> C.
    """
    return MERGING_PARAMS.check(fn)


#: Every exercise and question of this notebook, in the order the exercise notebook asks them.
EXERCISES: list = [MERGE_PATCHES, STAGE_SHAPES, MERGING_PARAMS]


# ---------------------------------------------------------------------------------------------
# Transfer exercise: merging a 3-D token grid (video), 1x2x2 as in Video Swin or 2x2x2
# ---------------------------------------------------------------------------------------------

def _merge_3d(x: torch.Tensor, t: int) -> torch.Tensor:
    """The reference: [B, D, H, W, C] -> [B, D/t, H/2, W/2, 4tC]; piece k = 4*dt + 2*dw + dh holds
    x[:, dt::t, dh::2, dw::2]: notebook 02's four pieces x0..x3 of the first frame of each group of t,
    then those of the next frame. With t = 1 this is Video Swin's PatchMerging."""
    return rearrange(x, "b (d pt) (h ph) (w pw) c -> b d h w (pt pw ph c)", pt=t, ph=2, pw=2)


def _video(B: int, D: int, H: int, W: int, C: int, dtype=torch.float32, seed: int = 0) -> torch.Tensor:
    """[B, D, H, W, C] whose channel 0 is each token's position b*D*H*W + d*H*W + h*W + w."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(B, D, H, W, C, generator=g, dtype=dtype)
    x[..., 0] = torch.arange(B * D * H * W, dtype=dtype).view(B, D, H, W)
    return x


def _merge_3d_cases() -> list[Case]:
    return [
        Case("2x2x2 video (D x H x W), C = 1, t = 2 (2x2x2 merging), batch 1", (_video(1, 2, 2, 2, 1), 2)),
        Case("1x2x4 video, C = 2, t = 1 (Video Swin's 1x2x2 merging), batch 1", (_video(1, 1, 2, 4, 2, seed=1), 1)),
        Case("2x4x4 video, C = 2, t = 2, batch 2", (_video(2, 2, 4, 4, 2, seed=2), 2)),
        Case("3x4x6 video (odd D, non-square frames), C = 3, t = 1, batch 2", (_video(2, 3, 4, 6, 3, seed=3), 1)),
        Case("4x6x4 video (non-square frames), C = 2, t = 2, batch 1, float64",
             (_video(1, 4, 6, 4, 2, torch.float64, seed=4), 2)),
        Case("4x8x6 video, C = 3, t = 2, batch 2", (_video(2, 4, 8, 6, 3, seed=5), 2)),
    ]


def _pieces_of_first_token(merged: torch.Tensor, D: int, H: int, W: int, C: int) -> list[str]:
    """Where the pieces of merged token (0, 0, 0) of image 0 come from, as '(d,h,w)' of the source
    token whose position code their first channel holds ('?' when it holds none)."""
    vector = merged[0, 0, 0, 0].detach().double()
    out = []
    for k in range(vector.numel() // C):
        v = vector[k * C].item()
        if v == round(v) and 0 <= v < D * H * W:
            v = int(v)
            out.append(f"({v // (H * W)},{v // W % H},{v % W})")
        else:
            out.append("?")
    return out


def _explain_merge_3d(case: Case, expected: torch.Tensor, got) -> str:
    x, _ = case.args
    _, D, H, W, C = x.shape
    if not isinstance(got, torch.Tensor) or got.dim() != 5 or got.shape[-1] % C or min(got.shape[:4]) == 0:
        return ""
    exp, g = _pieces_of_first_token(expected, D, H, W, C), _pieces_of_first_token(got, D, H, W, C)
    if exp == g:
        return ""
    return ("  the pieces of merged token (0, 0, 0) of image 0, as the (d,h,w) of the token each one is:\n"
            f"  expected: {' '.join(exp)}\n  got:      {' '.join(g)}")


def _two_d_pieces(x):
    """Notebook 02's four pieces of every frame, [B, D, H/2, W/2, 4C]."""
    return torch.cat([x[:, :, 0::2, 0::2], x[:, :, 1::2, 0::2], x[:, :, 0::2, 1::2], x[:, :, 1::2, 1::2]], dim=-1)


MERGE_3D_MISTAKES = (
    Mistake(
        "row-major-pieces",
        lambda x, t: rearrange(x, "b (d pt) (h ph) (w pw) c -> b d h w (pt ph pw c)", pt=t, ph=2, pw=2),
        "inside each frame your pieces are in reading order, [0::2, 0::2], [0::2, 1::2], [1::2, 0::2], "
        "[1::2, 1::2] (einops (ph pw c)); Swin's order, which Video Swin keeps, is x0, x1, x2, x3 = "
        "[0::2, 0::2], [1::2, 0::2], [0::2, 1::2], [1::2, 1::2]: the row offset changes first (einops "
        "(pw ph c)) " + _ref(SUBGRIDS) + ".",
    ),
    Mistake(
        "time-fastest",
        lambda x, t: rearrange(x, "b (d pt) (h ph) (w pw) c -> b d h w (pw ph pt c)", pt=t, ph=2, pw=2),
        "your merged tokens hold the right 2x2x2 tokens, but the frame offset changes fastest: the two "
        "frames of x0 come first, then the two of x1. The task asks the four pieces of the first frame "
        "(x0..x3, in notebook 02's order), then the four of the second frame: piece k = 4*dt + 2*dw + dh, "
        "einops (pt pw ph c) " + _ref(ORDER) + ".",
    ),
    Mistake(
        "interleaved",
        lambda x, t: rearrange(x, "b (d pt) (h ph) (w pw) c -> b d h w (c pt pw ph)", pt=t, ph=2, pw=2),
        "your merged tokens hold the right tokens, but their channels are interleaved: channel 0 of every "
        "piece first, then channel 1, and so on (stacking the pieces on a new last axis and flattening, or "
        "einops (c ...)). Concatenate whole pieces along the channels, torch.cat(pieces, dim=-1), so that "
        "channels 0..C-1 are the first piece " + _ref(SUBGRIDS) + ".",
    ),
    Mistake(
        "time-not-merged",
        lambda x, t: _two_d_pieces(x),
        "you merged each frame on its own (1x2x2) although t = 2: the frames must be merged in pairs too, "
        "D -> D/2, so that each merged token holds 2x2x2 = 8 tokens and 8C channels. Split D into "
        "(D/t, t) as you split H and W into (H/2, 2) and (W/2, 2) " + _ref(SUBGRIDS) + ".",
    ),
    Mistake(
        "odd-frames-dropped",
        lambda x, t: _two_d_pieces(x[:, 0::2] if t > 1 else x),
        "you kept only every second frame, x[:, 0::2], and merged it 1x2x2: half of the tokens are lost. "
        "Merging loses nothing, it moves tokens into channels: take the pieces of frame offset 0 AND of "
        "frame offset 1 (x[:, 0::2, ...] and x[:, 1::2, ...]) and concatenate all eight "
        + _ref(SUBGRIDS) + ".",
    ),
    Mistake(
        "frames-strided",
        lambda x, t: rearrange(x, "b (pt d) (h ph) (w pw) c -> b d h w (pt pw ph c)", pt=t, ph=2, pw=2),
        "your merged frames are not neighbours: you split D as (t, D/t) instead of (D/t, t), so frame d is "
        "paired with frame d + D/t. Pair frames 2d and 2d+1: (d pt), the merged index first, the offset second, "
        "as for the rows and columns " + _ref(SUBGRIDS) + ".",
    ),
    Mistake(
        "grid-transposed",
        lambda x, t: _merge_3d(x, t).transpose(2, 3),
        "your merged tokens are right but each frame's grid is transposed: the output is [B, D/t, H/2, W/2, 4tC], "
        "the row (from H) before the column (from W) " + _ref(SUBGRIDS) + ".",
    ),
    Mistake(
        "2-D-slices-on-D-and-H",
        lambda x, t: torch.cat([x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2]], dim=-1),
        "your slices act on D and H: on a [B, D, H, W, C] tensor notebook 02's x[:, 0::2, 0::2] steps "
        "through frames and rows, not rows and columns. The 2-D pieces are x[:, :, 0::2, 0::2], ... "
        "(dimensions 2 and 3), and the frames are dimension 1 " + _ref(SUBGRIDS) + ".",
    ),
)

MERGE_PATCHES_3D = Exercise(
    name="merge_patches_3d",
    notebook=NOTEBOOK,
    section=SUBGRIDS,
    reference=_merge_3d,
    cases=_merge_3d_cases,
    mistakes=MERGE_3D_MISTAKES,
    explain=_explain_merge_3d,
    summary="transfer: merge a video's tokens t x 2 x 2: [B, D, H, W, C] -> [B, D/t, H/2, W/2, 4tC]",
    gradients=True,  # a piece of a model: the gradient must reach x
)


def check_merge_patches_3d(fn) -> Result:
    """Check a learner's ``merge_patches_3d(x, t)``: [B, D, H, W, C] -> [B, D/t, H/2, W/2, 4tC], piece
    k = 4*dt + 2*dw + dh of the channels holding x[:, dt::t, dh::2, dw::2] (t = 1: Video Swin's 1x2x2
    merging; t = 2: 2x2x2).

    Cases: 2x2x2 to 4x8x6 videos, t = 1 and 2, C = 1 to 3, batch 1 and 2, float32 and float64.
    Recognised mistakes: the pieces in reading order, the frame offset fastest, interleaved channels,
    frames not merged (t ignored), every second frame dropped, frames paired d and d + D/t, the grid
    transposed, notebook 02's slices applied to D and H.
    """
    return MERGE_PATCHES_3D.check(fn)


__all__ += ["check_merge_patches_3d"]
EXERCISES.append(MERGE_PATCHES_3D)
