"""Exercises for notebook 06 (the whole Swin): one Swin block written from its layers, and the
stochastic-depth rates of every block of a model.

The block check builds small :class:`~swin_edu.SwinBlock` s from fixed seeds, with every weight
random (LayerNorm scales and shifts and the relative position tables included, so that no mistake
hides behind an identity layer), and compares the learner's forward pass with ``block(x)``.
"""
from __future__ import annotations

import torch
from einops import rearrange

from ..block import SwinBlock
from ..model import SwinStage
from ..windows import shifted_window_mask, window_partition, window_reverse
from ._core import Case, Exercise, Mistake, Question, Result

__all__ = ["check_swin_block_forward", "check_drop_path_rates", "check_shifted_blocks_swin_t"]

NOTEBOOK = "06_whole_swin"
BLOCK_SECTION = "2. The block, built by hand"
EQUATIONS_SECTION = "1. The Swin block"


# ---------------------------------------------------------------------------------------------
# Exercise 1: one Swin block, W-MSA or SW-MSA
# ---------------------------------------------------------------------------------------------

def _block(H: int, W: int, C: int, heads: int, M: int, shift: int, seed: int,
           dtype=torch.float32) -> SwinBlock:
    """A SwinBlock in eval mode whose every parameter is random (seeded)."""
    with torch.random.fork_rng(devices=[]):  # the block's own initialisation leaves the global RNG alone
        block = SwinBlock(C, (H, W), heads, window_size=M, shift_size=shift, mlp_ratio=2.0)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in block.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * (0.5 if p.dim() > 1 else 0.3))
        block.norm1.weight.add_(1.0)
        block.norm2.weight.add_(1.0)
    block = block.eval()
    return block.to(dtype)


def _x(B: int, H: int, W: int, C: int, seed: int, dtype=torch.float32) -> torch.Tensor:
    return torch.randn(B, H, W, C, generator=torch.Generator().manual_seed(seed + 100), dtype=dtype)


def _block_cases() -> list[Case]:
    specs = [  # label, B, H, W, C, heads, M, shift, dtype
        ("4x4 map, M = 2, shift 0 (W-MSA), batch 1", 1, 4, 4, 4, 1, 2, 0, torch.float32),
        ("4x4 map, M = 2, shift 1 (SW-MSA), batch 1", 1, 4, 4, 4, 1, 2, 1, torch.float32),
        ("4x6 map (non-square), M = 2, shift 0, batch 2", 2, 4, 6, 4, 2, 2, 0, torch.float32),
        ("4x8 map (non-square), M = 2, shift 1, batch 2", 2, 4, 8, 4, 2, 2, 1, torch.float32),
        ("8x8 map, M = 4, shift 2, batch 2", 2, 8, 8, 8, 2, 4, 2, torch.float32),
        ("6x9 map (non-square), M = 3, shift 1, batch 3", 3, 6, 9, 6, 3, 3, 1, torch.float32),
        ("8x12 map (non-square), M = 4, shift 2, batch 2, float64", 2, 8, 12, 8, 2, 4, 2, torch.float64),
    ]
    return [Case(label, (_block(H, W, C, heads, M, s, seed=k, dtype=dtype), _x(B, H, W, C, k, dtype)))
            for k, (label, B, H, W, C, heads, M, s, dtype) in enumerate(specs)]


def _reference_block(block: SwinBlock, x: torch.Tensor) -> torch.Tensor:
    """The package's block: ``block(x)`` (eval mode, so drop path is the identity), with its autograd
    graph: the check compares the gradients that reach the block's parameters and ``x``."""
    return block(x)


def _attention(block, h, roll_first=None, roll_back=None, mask=True, dims=(1, 2)):
    """(S)W-MSA on an already normalised map ``h``, with the rolls given (None: the right ones)."""
    H, W = h.shape[1:3]
    M, s = block.window_size, block.shift_size
    first = (-s, -s) if roll_first is None else roll_first
    back = (s, s) if roll_back is None else roll_back
    if s:
        h = torch.roll(h, shifts=first, dims=dims)
    windows = rearrange(window_partition(h, M), "bw m1 m2 c -> bw (m1 m2) c")
    windows = block.attn(windows, block.attn_mask if mask else None)
    h = window_reverse(rearrange(windows, "bw (m1 m2) c -> bw m1 m2 c", m1=M), M, H, W)
    if s and back != (0, 0):
        h = torch.roll(h, shifts=back, dims=dims)
    return h


def _with_attention(**kwargs):
    def block_fn(block, x):
        x = x + _attention(block, block.norm1(x), **kwargs)
        return x + block.mlp(block.norm2(x))
    return block_fn


def _post_norm(block, x):
    x = block.norm1(x + _attention(block, x))
    return block.norm2(x + block.mlp(x))


def _norm_after_attention(block, x):
    x = x + block.norm1(_attention(block, x))
    return x + block.mlp(block.norm2(x))


def _residual_of_normalised(block, x):
    x = block.norm1(x)
    x = x + _attention(block, x)
    return x + block.mlp(block.norm2(x))


def _no_attention_residual(block, x):
    x = _attention(block, block.norm1(x))
    return x + block.mlp(block.norm2(x))


def _no_mlp_residual(block, x):
    x = x + _attention(block, block.norm1(x))
    return block.mlp(block.norm2(x))


def _no_norm2(block, x):
    x = x + _attention(block, block.norm1(x))
    return x + block.mlp(x)


def _norm1_twice(block, x):
    x = x + _attention(block, block.norm1(x))
    return x + block.mlp(block.norm1(x))


def _where(s: str) -> str:
    return f"(notebook 06, section {s})"


BLOCK_MISTAKES = (
    Mistake(
        "roll-not-undone", _with_attention(roll_back=(0, 0)),
        "you do not roll the map back after window_reverse: the last step of SW-MSA is the roll by "
        "(+s, +s) that undoes the first one " + _where(BLOCK_SECTION) + ".",
    ),
    Mistake(
        "rolled-twice-same-way",
        lambda block, x: _with_attention(roll_back=(-block.shift_size, -block.shift_size))(block, x),
        "you rolled by (-s, -s) twice: the roll after window_reverse must undo the first one, so it "
        "goes the other way, (+s, +s) " + _where(BLOCK_SECTION) + ".",
    ),
    Mistake(
        "roll-plus-first",
        lambda block, x: _with_attention(roll_first=(block.shift_size, block.shift_size),
                                         roll_back=(-block.shift_size, -block.shift_size))(block, x),
        "your rolls go the wrong way round: first roll by (-s, -s) (the map moves up-left, so the "
        "shifted windows start s tokens down-right), then back by (+s, +s). The block's mask is built "
        "for that direction " + _where(BLOCK_SECTION) + ".",
    ),
    Mistake(
        "mask-forgotten", _with_attention(mask=False),
        "the shifted block attends without its mask: pass block.attn_mask to block.attn, so that "
        "tokens that the cyclic shift brought together from opposite borders do not attend to each "
        "other (only tokens near the border of the map differ: the windows that the shift wraps around) "
        + _where(BLOCK_SECTION) + "; the mask is built in notebook 04.",
    ),
    Mistake(
        "roll-wrong-dims", _with_attention(dims=(2, 3)),
        "you rolled along dims (2, 3), which for a [B, H, W, C] map are W and the channels: roll along "
        "H and W, dims=(1, 2) " + _where(BLOCK_SECTION) + ".",
    ),
    Mistake(
        "roll-dims-0-1", _with_attention(dims=(0, 1)),
        "you rolled along dims (0, 1), which for a [B, H, W, C] map are the batch and H (notebook 04's "
        "two-dimensional example rolls an [H, W] map, where (0, 1) are the rows and columns): roll the "
        "block's map along H and W, dims=(1, 2) " + _where(BLOCK_SECTION) + ".",
    ),
    Mistake(
        "post-norm", _post_norm,
        "you normalise after the residual addition (post-norm, as in the original Transformer): Swin is "
        "pre-norm, x + attention(norm1(x)), then x + mlp(norm2(x)); the residual path itself is never "
        "normalised " + _where(EQUATIONS_SECTION) + ".",
    ),
    Mistake(
        "norm-after-attention", _norm_after_attention,
        "your norm1 comes AFTER the attention, x + norm1(attention(x)) (Swin V2's res-post-norm): Swin is "
        "pre-norm, the attention gets norm1(x) and its output is added to x as it is "
        + _where(EQUATIONS_SECTION) + ".",
    ),
    Mistake(
        "no-roll", _with_attention(roll_first=(0, 0), roll_back=(0, 0)),
        "your shifted block never rolls the map: it cuts the windows of the UNROLLED map and applies the "
        "mask made for the rolled one. Roll by (-s, -s) before window_partition (and back by (+s, +s) "
        "after window_reverse) " + _where(BLOCK_SECTION) + ".",
    ),
    Mistake(
        "residual-of-normalised", _residual_of_normalised,
        "your residual adds the normalised input: the skip connection must carry x itself, "
        "x + attention(norm1(x)), not norm1(x) + attention(norm1(x)) "
        + _where(EQUATIONS_SECTION) + ".",
    ),
    Mistake(
        "no-attention-residual", _no_attention_residual,
        "the residual connection around the attention is missing: z^ = (S)W-MSA(LN(z)) + z, add the "
        "block's input back " + _where(EQUATIONS_SECTION) + ".",
    ),
    Mistake(
        "no-mlp-residual", _no_mlp_residual,
        "the residual connection around the MLP is missing: z = MLP(LN(z^)) + z^, return "
        "x + block.mlp(block.norm2(x)) " + _where(EQUATIONS_SECTION) + ".",
    ),
    Mistake(
        "no-norm2", _no_norm2,
        "the MLP gets its input without LayerNorm: the second half is x + block.mlp(block.norm2(x)) "
        + _where(EQUATIONS_SECTION) + ".",
    ),
    Mistake(
        "norm1-twice", _norm1_twice,
        "you used norm1 before the MLP too: the block has two LayerNorms with their own weights, norm1 "
        "before the attention and norm2 before the MLP " + _where(BLOCK_SECTION) + ".",
    ),
)


def _explain_block(case: Case, expected: torch.Tensor, got: torch.Tensor) -> str:
    """Which tokens of image 0 come out wrong: an [H, W] map of '.' (right) and 'x' (wrong)."""
    H, W = expected.shape[1:3]
    if H > 16 or W > 16 or got.shape != expected.shape:
        return ""
    exp, g = expected.detach(), got.detach().to(expected.dtype)
    wrong = ~torch.isclose(g[0], exp[0], atol=1e-5, rtol=1e-4).all(-1)  # [H, W]
    if not wrong.any():
        return ""
    rows = ["  " + " ".join("x" if w else "." for w in row) for row in wrong.tolist()]
    return "  tokens of image 0 whose output is wrong (x):\n" + "\n".join(rows)


SWIN_BLOCK_FORWARD = Exercise(
    name="swin_block_forward",
    notebook=NOTEBOOK,
    section=BLOCK_SECTION,
    reference=_reference_block,
    cases=_block_cases,
    mistakes=BLOCK_MISTAKES,
    explain=_explain_block,
    summary="one Swin block (W-MSA or SW-MSA) from its norm1, attn, norm2, mlp, mask and shift",
    forbidden=lambda block, x: [(block, "block(x)"),
                                (block.shifted_window_attention, "block.shifted_window_attention")],
    # notebook 06's cell builds the mask with swin_edu's function: the homework takes it from the block
    off_limits=((shifted_window_mask, "swin_edu's own shifted_window_mask (hw04 built it; the block "
                 "carries it as block.attn_mask)"),),
    gradients=True,  # a block is trained: the gradient must reach its parameters (and x) as through block(x)
)


def check_swin_block_forward(fn) -> Result:
    """Check a learner's ``swin_block_forward(block, x)``: [B, H, W, C] -> [B, H, W, C], equal to ``block(x)``.

    ``block`` is a :class:`swin_edu.SwinBlock` in eval mode; the learner uses its ``norm1``, ``attn``,
    ``norm2``, ``mlp``, ``attn_mask``, ``window_size`` and ``shift_size``.

    Cases: shift 0 (W-MSA) and shift M // 2 (SW-MSA), square and non-square maps, batch 1-3, M = 2, 3, 4,
    float32 and float64 (block and input); on each the gradient must reach every parameter of the block
    and ``x`` as through ``block(x)`` (no ``torch.no_grad()``, no ``.detach()``). Recognised mistakes: the
    roll not undone, rolled twice the same way, the rolls in the wrong order (+s first), the mask
    forgotten, rolled along the wrong dims ((2, 3), or (0, 1) as for a 2-D map),
    post-norm, norm1 after the attention (res-post-norm), no roll at all, the residual taken from the
    normalised input, a residual missing around the attention or the MLP, no LayerNorm before the MLP,
    norm1 used twice. swin_edu's shifted_window_mask is off limits (notebook 06's cell builds the mask
    with it; the block carries it as ``block.attn_mask``).
    """
    return SWIN_BLOCK_FORWARD.check(fn)


# ---------------------------------------------------------------------------------------------
# Exercise 2: stochastic depth rates of every block
# ---------------------------------------------------------------------------------------------

DROP_PATH_SECTION = "Drop path: stochastic depth per block"  # in the notebook's Going deeper
STAGES_SECTION = "3. Stages"
_DROP_PATH = f"(notebook 06, section {DROP_PATH_SECTION}, in Going deeper)"


def drop_path_rates(depths, drop_path_rate):
    """The drop-path probability of every block, per stage, as :class:`~swin_edu.SwinTransformer`
    sets them: ``torch.linspace(0, drop_path_rate, sum(depths))`` cut into stages. Returns a list
    (one per stage) of lists of floats."""
    rates = torch.linspace(0, drop_path_rate, sum(depths)).tolist()
    starts = [sum(depths[:i]) for i in range(len(depths))]
    return [rates[start:start + depth] for start, depth in zip(starts, depths)]


def _rates_cases() -> list[Case]:
    return [
        Case("depths (2, 2), rate 0.1", ((2, 2), 0.1)),
        Case("depths (2, 2, 6, 2) (Swin-T), rate 0.2", ((2, 2, 6, 2), 0.2)),
        Case("depths (2, 6, 2) (swin_cifar), rate 0.1", ((2, 6, 2), 0.1)),
        Case("depths (2, 2, 18, 2) (Swin-S), rate 0.3", ((2, 2, 18, 2), 0.3)),
        Case("depths (4, 2), rate 0.0 (no stochastic depth)", ((4, 2), 0.0)),
        Case("depths (1,) (a single block: [[0.0]], the start value), rate 0.1", ((1,), 0.1)),
    ]


def _split(values, depths):
    out, start = [], 0
    for d in depths:
        out.append([float(v) for v in values[start:start + d]])
        start += d
    return out


RATES_MISTAKES = (
    Mistake(
        "restarted-per-stage",
        lambda depths, r: [torch.linspace(0, r, d).tolist() for d in depths],
        "your rates start again from 0 in every stage: the linear rise runs once over ALL blocks of the "
        "model, from 0 at the first block of stage 1 to drop_path_rate at the last block of the last "
        f"stage {_DROP_PATH}.",
    ),
    Mistake(
        "endpoint-excluded",
        lambda depths, r: _split(torch.linspace(0, r, sum(depths) + 1)[:-1].tolist(), depths),
        "your last block gets less than drop_path_rate: with n blocks in all, block k gets "
        "drop_path_rate * k / (n - 1), so the first is exactly 0 and the last exactly drop_path_rate "
        f"(torch.linspace(0, rate, n) includes both ends) {_DROP_PATH}.",
    ),
    Mistake(
        "first-block-nonzero",
        lambda depths, r: _split(torch.linspace(0, r, sum(depths) + 1)[1:].tolist(), depths),
        "your first block already has a drop-path probability above 0: block k of n gets "
        f"drop_path_rate * k / (n - 1), 0 for the first block {_DROP_PATH}.",
    ),
    Mistake(
        "same-rate-everywhere",
        lambda depths, r: [[float(r)] * d for d in depths],
        "every block gets drop_path_rate: the rate is the probability of the LAST block only; it rises "
        "linearly from 0 over all blocks, so shallow blocks are almost never dropped "
        f"{_DROP_PATH}.",
    ),
    Mistake(
        "per-stage-constant",
        lambda depths, r: [[r * i / max(1, len(depths) - 1)] * d for i, d in enumerate(depths)],
        "your rates rise per stage, not per block: every block has its own rate, rising linearly over "
        f"all blocks of the model {_DROP_PATH}.",
    ),
    Mistake(
        "reversed",
        lambda depths, r: [list(reversed(v)) for v in reversed(_split(torch.linspace(0, r, sum(depths)).tolist(),
                                                                       depths))],
        "your rates run backwards: the first block must get 0 and the last drop_path_rate (deeper blocks are "
        f"dropped more often), yours start at drop_path_rate {_DROP_PATH}.",
    ),
    Mistake(
        "flat-list",
        lambda depths, r: torch.linspace(0, r, sum(depths)).tolist(),
        "the values are right but you returned one flat list: cut it into stages, one list per stage "
        f"with depths[i] rates each {_DROP_PATH}.",
    ),
)


def _as_lists(value):
    """Tensors and numpy arrays (or lists of them) as plain nested lists; anything else unchanged."""
    if hasattr(value, "tolist") and not isinstance(value, (list, tuple)):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [_as_lists(v) for v in value]
    return value


class _ListsOf:
    """The learner's function with its result turned into nested lists (a tensor per stage is fine).
    Keeps the learner's ``__code__`` (and ``__closure__``, ``__globals__``) so that an exception is
    reported at the learner's line and a look at the names the code uses sees the learner's code."""

    def __init__(self, fn):
        self.fn, self.__code__ = fn, getattr(fn, "__code__", None)
        self.__closure__, self.__globals__ = getattr(fn, "__closure__", None), getattr(fn, "__globals__", {})

    def __call__(self, *args):
        return _as_lists(self.fn(*args))


DROP_PATH_RATES = Exercise(
    name="drop_path_rates",
    notebook=NOTEBOOK,
    section=DROP_PATH_SECTION,
    reference=drop_path_rates,
    cases=_rates_cases,
    mistakes=RATES_MISTAKES,
    summary="stochastic depth: per-block rates rising linearly from 0 over all blocks, cut into stages",
    params=("depths", "drop_path_rate"),
)


def check_drop_path_rates(fn) -> Result:
    """Check a learner's ``drop_path_rates(depths, drop_path_rate)`` -> list (per stage) of lists of floats.

    ``depths`` is a tuple of blocks per stage, ``drop_path_rate`` a float; stage i's list has depths[i]
    entries. Tensors or arrays in place of lists are accepted.

    Cases: depths (2, 2), (2, 2, 6, 2), (2, 6, 2), (2, 2, 18, 2), (4, 2); rates 0.1 to 0.3, and 0; a
    single block, depths (1,), which gets [[0.0]] (the rule the task states: k * r / (n - 1) divides by 0).
    Recognised mistakes: linspace restarted in every stage, the end point excluded
    (linspace(0, r, n + 1)[:-1]), the first block above 0, the same rate everywhere, one rate per
    stage, one flat list.
    """
    if callable(fn):
        fn = _ListsOf(fn)
    return DROP_PATH_RATES.check(fn)


# ---------------------------------------------------------------------------------------------
# Question: how many blocks of Swin-T really shift?
# ---------------------------------------------------------------------------------------------

def _shifted_blocks(img_size: int = 224, patch_size: int = 4, depths=(2, 2, 6, 2), window_size: int = 7) -> int:
    """How many blocks of a Swin (timm's layout, as swin_edu builds it) run with a shift, counted on
    the package's own stages (1 channel, so building them is cheap)."""
    res, shifted = img_size // patch_size, 0
    with torch.random.fork_rng(devices=[]):  # building layers draws weights: leave the global RNG alone
        for i, depth in enumerate(depths):
            stage = SwinStage(1, (res, res), depth, 1, window_size, downsample=i > 0, mlp_ratio=1.0,
                              drop_path=[0.0] * depth)
            res = res // 2 if i > 0 else res
            shifted += sum(block.shift_size > 0 for block in stage.blocks)
    return int(shifted)


# Notebook 06, section 3 prints which blocks shift with M = 7 (5 of Swin-T's 12): the question asks for
# M = 14, which the tutorial does not print, so that the rule has to be applied (stage 3's 14x14 map is then
# one window too, min(H, W) <= M with equality).
QUESTION_WINDOW = 14
_SHIFTED = _shifted_blocks(window_size=QUESTION_WINDOW)
_SHIFTED_M7 = _shifted_blocks(window_size=7)
_ALL_BLOCKS = sum((2, 2, 6, 2))
_STAGE_4_SHIFTING = _SHIFTED + 1  # stage 4 (7x7, smaller than the window) counted as if it shifted
_STAGES = "(notebook 06, section 3. Stages)"

SHIFTED_BLOCKS_SWIN_T = Question(
    name="shifted_blocks_swin_t",
    notebook=NOTEBOOK,
    section=STAGES_SECTION,
    answer=_SHIFTED,
    mistakes=(
        Mistake("every-second-block", _ALL_BLOCKS // 2,
                f"{_ALL_BLOCKS // 2} is every second block of every stage, but a block whose map is no larger "
                f"than a window, min(H, W) <= M, sets its shift to 0 (and has no mask): with M = {QUESTION_WINDOW} "
                f"that is the case for stage 3 (14x14) and stage 4 (7x7) {_STAGES}."),
        Mistake("window-7-count", _SHIFTED_M7,
                f"{_SHIFTED_M7} is the count for M = 7, where only stage 4 is switched off (or you compared "
                f"min(H, W) < M instead of <=): with M = {QUESTION_WINDOW}, stage 3's 14x14 map is exactly one "
                f"window, so its blocks do not shift either {_STAGES}."),
        Mistake("stage-4-shifts", _STAGE_4_SHIFTING,
                f"you let stage 4's SW-MSA block shift: its 7x7 map is smaller than a {QUESTION_WINDOW}x"
                f"{QUESTION_WINDOW} window, so its window becomes 7x7, the whole map, and its shift 0 {_STAGES}."),
        Mistake("unshifted-blocks", _ALL_BLOCKS - _SHIFTED,
                f"{_ALL_BLOCKS - _SHIFTED} is the number of blocks that do NOT shift (the W-MSA blocks, plus "
                f"the blocks of the stages whose map is no larger than a window); the question asks for those "
                f"that do {_STAGES}."),
        Mistake("all-blocks", _ALL_BLOCKS,
                f"{_ALL_BLOCKS} is every block: W-MSA (shift 0) and SW-MSA (shift M // 2) alternate, and only "
                f"the SW-MSA blocks of stages whose map is larger than a window shift {_STAGES}."),
        Mistake("all-blocks-of-shifting-stages", 2 * _SHIFTED,
                f"you counted every block of the stages whose map is larger than a window: in each stage "
                f"W-MSA (shift 0) and SW-MSA blocks alternate, and only the SW-MSA ones shift {_STAGES}."),
        Mistake("stage-1-only", _SHIFTED // 2,
                f"you let only stage 1 shift: a block keeps its shift when min(H, W) > M; with M = "
                f"{QUESTION_WINDOW}, check stage 2's map as well {_STAGES}."),
    ),
    summary=f"how many of Swin-T's 12 blocks (224x224 input) really shift their windows with M = {QUESTION_WINDOW}",
)


def check_shifted_blocks_swin_t(fn) -> Result:
    """Check the answer to "with the window size M = 14 (and s = 7), how many of Swin-T's 12 blocks
    (224x224 input, patch 4, depths 2-2-6-2) run with a cyclic shift (and a mask)?": ``fn`` is a function
    of no arguments returning the number. (Notebook 06 prints the blocks for M = 7; M = 14 is asked so that
    the rule min(H, W) <= M has to be applied, not read off.)

    The answer is counted on the package's own stages. Recognised wrong answers: every second block
    (the switch-off forgotten), the count for M = 7 (or < instead of <=), stage 4 shifting, the
    unshifted blocks, all blocks.
    """
    return SHIFTED_BLOCKS_SWIN_T.check(fn)


EXERCISES = [SWIN_BLOCK_FORWARD, DROP_PATH_RATES, SHIFTED_BLOCKS_SWIN_T]


# ---------------------------------------------------------------------------------------------
# Transfer exercise: Video Swin's block on a [B, D, H, W, C] video: the 3-D shifted-window mask
# ---------------------------------------------------------------------------------------------

from ..windows import MASK_VALUE  # noqa: E402  (the transfer exercise's own imports)
from ._core import grid_side_by_side  # noqa: E402

MASK_04 = "(notebook 04, section 4. The regions and the −100 mask, built by hand)"


def _bands_3d(L: int, M: int, s: int) -> torch.Tensor:
    """[L] int64: band 0, 1, 2 of every index along one axis of the rolled video (cut at L-M and L-s);
    a single band when s == 0."""
    r = torch.arange(L)
    return torch.zeros(L, dtype=torch.int64) if s == 0 else (r >= L - M).long() + (r >= L - s).long()


def _labels_3d(D: int, H: int, W: int, shift, window) -> torch.Tensor:
    """[D, H, W] int64 region labels 9*bd + 3*bh + bw of the rolled video (27 regions at most)."""
    (Md, Mh, Mw), (sd, sh, sw) = window, shift
    return (9 * _bands_3d(D, Md, sd)[:, None, None] + 3 * _bands_3d(H, Mh, sh)[None, :, None]
            + _bands_3d(W, Mw, sw)[None, None, :])


_WINDOWS_3D = "(nd md) (nh mh) (nw mw) -> (nd nh nw) (md mh mw)"


def _mask_from_labels(labels: torch.Tensor, window, pattern: str = _WINDOWS_3D, inside=0.0, across=MASK_VALUE):
    Md, Mh, Mw = window
    win = rearrange(labels, pattern, md=Md, mh=Mh, mw=Mw)  # [nW, N]
    return torch.where(win[:, :, None] == win[:, None, :], inside, across)


def _mask_3d(D: int, H: int, W: int, window, shift) -> torch.Tensor:
    """The reference: [nW, N, N] float32, N = Md*Mh*Mw, windows row-major over (d, h, w), tokens row-major
    inside; 0 for two tokens of the same region of the rolled video, -100 otherwise (Video Swin's
    compute_mask)."""
    return _mask_from_labels(_labels_3d(D, H, W, shift, window), window)


def _mask_3d_cases() -> list[Case]:
    return [
        Case("2x2x2 video (D x H x W), window (2, 2, 2), shift (1, 1, 1): one window", (2, 2, 2, (2, 2, 2), (1, 1, 1))),
        Case("2x4x4 video, window (2, 2, 2), shift (1, 1, 1)", (2, 4, 4, (2, 2, 2), (1, 1, 1))),
        Case("4x4x4 video, window (2, 2, 2), shift (1, 1, 1)", (4, 4, 4, (2, 2, 2), (1, 1, 1))),
        Case("2x4x6 video (non-square frames), window (2, 2, 3), shift (1, 1, 1)", (2, 4, 6, (2, 2, 3), (1, 1, 1))),
        Case("4x4x6 video, window (2, 2, 2), shift (0, 1, 1) (no shift in time)", (4, 4, 6, (2, 2, 2), (0, 1, 1))),
        Case("4x6x4 video, window (2, 3, 2), shift (1, 1, 0) (no shift along W)", (4, 6, 4, (2, 3, 2), (1, 1, 0))),
        Case("4x8x8 video, window (2, 4, 4), shift (1, 2, 2)", (4, 8, 8, (2, 4, 4), (1, 2, 2))),
        Case("8x14x14 video, window (8, 7, 7), shift (4, 3, 3) (Video Swin-T)", (8, 14, 14, (8, 7, 7), (4, 3, 3))),
    ]


MASK_3D_MISTAKES = (
    Mistake(
        "time-not-shifted",
        lambda D, H, W, window, shift: _mask_from_labels(_labels_3d(D, H, W, (0,) + tuple(shift[1:]), window),
                                                         window),
        "your regions ignore the time axis: each frame gets the 2-D labels of notebook 04, so the frames "
        "wrapped around from the start of the video (the last sd frames of the rolled video) share regions "
        "with the others. Cut D like H and W, slice(0, -Md), slice(-Md, -sd), slice(-sd, None), and give "
        "every (time, row, column) band its own label, 27 regions " + MASK_04 + ".",
    ),
    Mistake(
        "labels-unrolled",
        lambda D, H, W, window, shift: _mask_from_labels(
            torch.roll(_labels_3d(D, H, W, shift, window), tuple(shift), (0, 1, 2)), window),
        "your labels are placed on the original video: each token carries the label it gets after the roll, "
        "at the place where it was before. The mask is for the windows of the ROLLED video (torch.roll by "
        "(-sd, -sh, -sw)): cut the rolled video's axes with slice(0, -M), slice(-M, -s), slice(-s, None) and "
        "do not roll the labels back " + MASK_04 + ".",
    ),
    Mistake(
        "windows-time-last",
        lambda D, H, W, window, shift: _mask_from_labels(
            _labels_3d(D, H, W, shift, window), window, "(nd md) (nh mh) (nw mw) -> (nh nw nd) (md mh mw)"),
        "your windows are in the wrong order: the time index of the window changes fastest. Order the "
        "windows row-major over (d, h, w), as the block's window partition does: window (i, j, k) is at "
        "index i*(H/Mh)*(W/Mw) + j*(W/Mw) + k (notebook 06, section 2. The block, built by hand).",
    ),
    Mistake(
        "tokens-time-last",
        lambda D, H, W, window, shift: _mask_from_labels(
            _labels_3d(D, H, W, shift, window), window, "(nd md) (nh mh) (nw mw) -> (nd nh nw) (mh mw md)"),
        "your windows are in the right order, but inside each window the tokens are numbered with the "
        "frame fastest: token 1 must be the right neighbour of token 0 (same frame, same row), not the "
        "same pixel in the next frame. Flatten each window (md mh mw), row-major "
        "(notebook 06, section 2. The block, built by hand).",
    ),
    Mistake(
        "windows-reversed",
        lambda D, H, W, window, shift: _mask_from_labels(
            _labels_3d(D, H, W, shift, window), window, "(nd md) (nh mh) (nw mw) -> (nw nh nd) (md mh mw)"),
        "your windows are in the wrong order, (w, h, d) with the frame index fastest: order them row-major "
        "over (d, h, w), as the block's window partition does: window (i, j, k) is at index "
        "i*(H/Mh)*(W/Mw) + j*(W/Mw) + k (notebook 03, section 2. Window partition and reverse).",
    ),
    Mistake(
        "tokens-reversed",
        lambda D, H, W, window, shift: _mask_from_labels(
            _labels_3d(D, H, W, shift, window), window, "(nd md) (nh mh) (nw mw) -> (nd nh nw) (mw mh md)"),
        "your windows are in the right order, but inside each window the tokens are numbered (w, h, d), the "
        "frame fastest: token 1 must be the right neighbour of token 0 (same frame, same row). Flatten each "
        "window (md mh mw), row-major (notebook 03, section 2. Window partition and reverse).",
    ),
    Mistake(
        "minus-inf",
        lambda D, H, W, window, shift: _mask_from_labels(_labels_3d(D, H, W, shift, window), window,
                                                         across=float("-inf")),
        "your mask uses -inf where Video Swin, like Swin, uses -100 (MASK_VALUE): fill the entries across "
        "regions with -100.0 (notebook 04, section −100 versus −∞ in float32, float16 and bfloat16).",
    ),
    Mistake(
        "shift-reversed",
        lambda D, H, W, window, shift: _mask_from_labels(_labels_3d(D, H, W, tuple(shift)[::-1], window), window),
        "your shifts are on the wrong axes: shift = (sd, sh, sw) is in the order of the axes (D, H, W); you "
        "cut D with sw and W with sd " + MASK_04 + ".",
    ),
    Mistake(
        "labels-not-unique",
        lambda D, H, W, window, shift: _mask_from_labels(
            sum(_bands_3d(L, M, sx)[tuple(slice(None) if a == k else None for a in range(3))]
                for k, (L, M, sx) in enumerate(zip((D, H, W), window, shift))), window),
        "your labels are band_d + band_h + band_w: different regions get the same label (bands (1, 0, 0) and "
        "(0, 1, 0) both give 1), so their tokens see each other. Give every (time, row, column) band triple "
        "its own label, 9*band_d + 3*band_h + band_w " + MASK_04 + ".",
    ),
    Mistake(
        "inverted",
        lambda D, H, W, window, shift: _mask_from_labels(_labels_3d(D, H, W, shift, window), window,
                                                         inside=MASK_VALUE, across=0.0),
        "your mask is inverted: it puts -100 on pairs from the SAME region and 0 across regions. The entry "
        "is 0 where the two labels are equal and -100 where they differ " + MASK_04 + ".",
    ),
    Mistake(
        "boolean",
        lambda D, H, W, window, shift: _mask_from_labels(_labels_3d(D, H, W, shift, window), window,
                                                         inside=False, across=True),
        "you return a boolean mask (True where the labels differ). The mask is ADDED to the logits, so it "
        "holds numbers: 0.0 for the same region, -100.0 for different regions, float32 "
        "(torch.where(same, 0.0, -100.0)) " + MASK_04 + ".",
    ),
)


def _explain_mask_3d(case: Case, expected: torch.Tensor, got) -> str:
    if not isinstance(got, torch.Tensor) or got.shape != expected.shape or expected.shape[0] > 16:
        return ""
    hidden = got if got.dtype == torch.bool else got != 0
    return grid_side_by_side((expected != 0).sum((1, 2))[None], hidden.sum((1, 2))[None],
                             "  masked pairs in each window (windows in order):")


SHIFTED_WINDOW_MASK_3D = Exercise(
    name="shifted_window_mask_3d",
    notebook="04_shifted_windows",  # the mask is built there; notebook 06 only uses it
    section="4. The regions and the −100 mask, built by hand",
    reference=_mask_3d,
    cases=_mask_3d_cases,
    mistakes=MASK_3D_MISTAKES,
    explain=_explain_mask_3d,
    summary="transfer: Video Swin's [nW, N, N] mask of 3-D windows (Md, Mh, Mw) shifted by (sd, sh, sw)",
)


def check_shifted_window_mask_3d(fn) -> Result:
    """Check a learner's ``shifted_window_mask_3d(D, H, W, window, shift)`` -> [nW, N, N] float32, N =
    Md*Mh*Mw, nW = (D/Md)(H/Mh)(W/Mw): 0 for two tokens of the same region of the video rolled by
    (-sd, -sh, -sw), -100 otherwise; windows and their tokens row-major over (d, h, w).

    Cases: 2x2x2 (one window) to 8x14x14 (Video Swin-T's window (8, 7, 7), shift (4, 3, 3)), with shift 0
    along one axis in two of them. Recognised mistakes: the time axis not cut into regions, the labels
    placed on the original video, windows or tokens with time fastest or in (w, h, d) order, -inf, the
    shifts on the wrong axes, labels that are not unique (a sum of bands), the mask inverted, a boolean
    mask. Generic reports point to notebook 04, section 4, where the mask is built.
    """
    return SHIFTED_WINDOW_MASK_3D.check(fn)


__all__ += ["check_shifted_window_mask_3d"]
EXERCISES.append(SHIFTED_WINDOW_MASK_3D)
