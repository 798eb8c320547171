"""Exercises for notebook 03 (window attention): window partition and reverse, the cost of W-MSA.

Each check feeds maps whose channel 0 holds the token's position (b*H*W + h*W + w), so that a
failure report can draw which window every token landed in, expected beside got.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from einops import rearrange

from ..attention import WindowAttention
from ..attention import msa_macs, wmsa_macs
from ..windows import window_partition, window_reverse
from ._core import Case, Exercise, Mistake, Question, Result, grid_side_by_side, position_map

__all__ = ["check_window_partition", "check_window_reverse", "check_wmsa_macs", "check_msa_twice_wmsa_tokens"]

SECTION = "2. Window partition and reverse"


def _partition_cases() -> list[Case]:
    return [
        Case("4x4 map, M = 2, batch 1", (position_map(1, 4, 4, 2), 2)),
        Case("4x8 map (non-square), M = 2, batch 1", (position_map(1, 4, 8, 2, seed=1), 2)),
        Case("8x8 map, M = 4, batch 3", (position_map(3, 8, 8, 3, seed=2), 4)),
        Case("14x21 map (non-square), M = 7, batch 2", (position_map(2, 14, 21, 3, seed=3), 7)),
        Case("6x6 map, M = 3, batch 2, float64", (position_map(2, 6, 6, 2, torch.float64, seed=4), 3)),
        Case("4x4 map, M = 4 (one window), batch 2", (position_map(2, 4, 4, 2, seed=5), 4)),
    ]


def _window_ids(windows: torch.Tensor, H: int, W: int) -> torch.Tensor:
    """[H, W] map: the index of the window in which each token of image 0 appears (-1: nowhere)."""
    ids = torch.full((H * W,), -1, dtype=torch.int64)
    positions = windows[..., 0].reshape(windows.shape[0], -1).round().long()  # [nWindows, tokens]
    for k, row in enumerate(positions):
        inside = (row >= 0) & (row < H * W)
        ids[row[inside]] = k
    return ids.view(H, W)


def _explain_partition(case: Case, expected: torch.Tensor, got: torch.Tensor) -> str:
    x, _ = case.args
    H, W = x.shape[1], x.shape[2]
    if H > 16 or W > 16 or got.shape[-1] != x.shape[-1]:
        return ""
    got_ids = _window_ids(got, H, W)
    legend = " (-1: in none of your windows)" if bool((got_ids < 0).any()) else ""
    return grid_side_by_side(_window_ids(expected, H, W), got_ids, f"  window index of every token of image 0{legend}:")


PARTITION_MISTAKES = (
    Mistake(
        "column-major",
        lambda x, M: rearrange(x, "b (nh m1) (nw m2) c -> (b nw nh) m1 m2 c", m1=M, m2=M),
        "your windows come out column-major: window 1 should be the window to the right of window 0 "
        "(the next one along the row of windows), yours is the one below it. Order the window grid "
        "row by row, (b nh nw) (notebook 03, section 2. Window partition and reverse).",
    ),
    Mistake(
        "batch-last",
        lambda x, M: rearrange(x, "b (nh m1) (nw m2) c -> (nh nw b) m1 m2 c", m1=M, m2=M),
        "your windows are grouped by position, not by image: window k of image b must be at index "
        "b*nW + k (batch first, then the window grid), yours is at k*B + b "
        "(notebook 03, section 2. Window partition and reverse).",
    ),
    Mistake(
        "reshape-without-permute",
        lambda x, M: x.reshape(-1, M, M, x.shape[-1]),
        "you reshaped without moving the axes: each of your 'windows' is M*M consecutive tokens of "
        "the row-major map (a strip of rows), not an M x M square. Split H into (H/M, M) and W into "
        "(W/M, M), bring the two window-grid axes before the two in-window axes, then merge "
        "(notebook 03, section 2. Window partition and reverse).",
    ),
    Mistake(
        "transposed-window",
        lambda x, M: rearrange(x, "b (nh m1) (nw m2) c -> (b nh nw) m2 m1 c", m1=M, m2=M),
        "the windows are the right ones, but each is transposed: inside a window the first axis must "
        "be the row (m1, from H) and the second the column (m2, from W) "
        "(notebook 03, section 2. Window partition and reverse).",
    ),
    Mistake(
        "strided-windows",
        lambda x, M: rearrange(x, "b (m1 nh) (m2 nw) c -> (b nh nw) m1 m2 c", m1=M, m2=M),
        "your windows are not blocks of neighbours: you split H as (M, H/M) instead of (H/M, M), so a window "
        "takes every (H/M)-th row and every (W/M)-th column, tokens spread over the whole map. The window "
        "grid index comes first, the position inside the window second: (nh m1) (nw m2) "
        "(notebook 03, section 2. Window partition and reverse).",
    ),
    Mistake(
        "unfold-channels-first",
        lambda x, M: F.unfold(x.permute(0, 3, 1, 2), kernel_size=M, stride=M).transpose(1, 2).reshape(
            -1, M, M, x.shape[-1]),
        "your windows are the right ones, but inside each the numbers are scrambled: F.unfold flattens a "
        "window channel first, (c m1 m2), and you read that as (m1 m2 c). Move the channels last before "
        "the reshape: view the unfolded [B, C*M*M, nW] as [B, C, M, M, nW] and permute it to [B, nW, M, M, C] "
        "(notebook 03, section 2. Window partition and reverse).",
    ),
)

WINDOW_PARTITION = Exercise(
    name="window_partition",
    notebook="03_window_attention",
    section=SECTION,
    reference=window_partition,
    cases=_partition_cases,
    mistakes=PARTITION_MISTAKES,
    explain=_explain_partition,
    summary="cut [B, H, W, C] into [B*nW, M, M, C] windows, batch first, then row-major",
    params=("x", "M"),
    gradients=True,
)


def check_window_partition(fn) -> Result:
    """Check a learner's ``window_partition(x, M)``: [B, H, W, C] -> [B*nW, M, M, C].

    Cases: square and non-square maps, batch 1-3, M = 2, 3, 4, 7 and M equal to the map side,
    float32 and float64 (the result keeps the input's dtype; the gradient must reach ``x``). Recognised
    mistakes: column-major windows, batch last, a reshape without moving the axes, windows transposed
    inside, strided windows ((m1 nh) instead of (nh m1)), F.unfold's (c m1 m2) read as (m1 m2 c).
    """
    return WINDOW_PARTITION.check(fn)


def _reverse_cases() -> list[Case]:
    cases = []
    for case in _partition_cases():
        x, M = case.args
        cases.append(Case(case.label, (window_partition(x, M), M, x.shape[1], x.shape[2])))
    return cases


def _explain_reverse(case: Case, expected: torch.Tensor, got: torch.Tensor) -> str:
    _, _, H, W = case.args
    if H > 16 or W > 16 or got.shape != expected.shape:
        return ""
    return grid_side_by_side(expected[0, ..., 0].round().long(), got[0, ..., 0].round().long(),
                             "  position (h*W + w) of the token put at each place of image 0:")


REVERSE_MISTAKES = (
    Mistake(
        "column-major",
        lambda w, M, H, W: rearrange(w, "(b nw nh) m1 m2 c -> b (nh m1) (nw m2) c", nh=H // M, nw=W // M),
        "you read the windows column-major: window 1 is the second window of the first row of "
        "windows, not the first window of the second row. The window grid is (b nh nw), row by row "
        "(notebook 03, section 2. Window partition and reverse).",
    ),
    Mistake(
        "batch-last",
        lambda w, M, H, W: rearrange(w, "(nh nw b) m1 m2 c -> b (nh m1) (nw m2) c", nh=H // M, nw=W // M),
        "you took the batch as the fastest-varying part of the window index: window k of image b is "
        "at index b*nW + k (batch first) "
        "(notebook 03, section 2. Window partition and reverse).",
    ),
    Mistake(
        "reshape-without-permute",
        lambda w, M, H, W: w.reshape(-1, H, W, w.shape[-1]),
        "you reshaped without moving the axes back: the windows' tokens are laid out one window "
        "after another, so a plain reshape to [B, H, W, C] puts whole windows along the rows. Split "
        "the window index into (B, H/M, W/M), interleave the window-grid and in-window axes as "
        "(H/M, M, W/M, M), then merge (notebook 03, section 2. Window partition and reverse).",
    ),
    Mistake(
        "H-W-swapped",
        lambda w, M, H, W: rearrange(w, "(b nh nw) m1 m2 c -> b (nh m1) (nw m2) c", nh=W // M, nw=H // M),
        "your map comes back with H and W swapped: the window grid has H/M rows and W/M columns, "
        "not W/M rows (visible only on non-square maps) "
        "(notebook 03, section 2. Window partition and reverse).",
    ),
    Mistake(
        "transposed-window",
        lambda w, M, H, W: rearrange(w, "(b nh nw) m1 m2 c -> b (nh m2) (nw m1) c", nh=H // M, nw=W // M),
        "the windows go back to the right places, but each is transposed: the first axis of a window is its "
        "row (m1, which goes with H) and the second its column (m2, with W); you put m1 along W "
        "(notebook 03, section 2. Window partition and reverse).",
    ),
    Mistake(
        "grid-H-W-swapped",
        lambda w, M, H, W: rearrange(w, "(b nh nw) m1 m2 c -> b (nh m1) (nw m2) c", nh=W // M, nw=H // M).reshape(
            -1, H, W, w.shape[-1]),
        "you split the window index with H and W swapped: the window grid has H/M rows of W/M windows, so "
        "view the windows as [B, H/M, W/M, M, M, C], not [B, W/M, H/M, M, M, C] (the final reshape to "
        "[B, H, W, C] hides it; visible only on non-square maps) "
        "(notebook 03, section 2. Window partition and reverse).",
    ),
)

WINDOW_REVERSE = Exercise(
    name="window_reverse",
    notebook="03_window_attention",
    section=SECTION,
    reference=window_reverse,
    cases=_reverse_cases,
    mistakes=REVERSE_MISTAKES,
    explain=_explain_reverse,
    summary="put [B*nW, M, M, C] windows back into a [B, H, W, C] map",
    params=("windows", "M", "H", "W"),
    gradients=True,
)


def check_window_reverse(fn) -> Result:
    """Check a learner's ``window_reverse(windows, M, H, W)``: [B*nW, M, M, C] -> [B, H, W, C].

    Cases: the windows of :func:`check_window_partition`'s maps. Recognised mistakes: windows read
    column-major, batch last, a reshape without moving the axes, each window transposed, H and W swapped
    (in the output's shape or in the window grid). The gradient must reach ``windows``.
    """
    return WINDOW_REVERSE.check(fn)


def _wmsa_macs(h: int, w: int, C: int, M: int) -> int:
    """Multiply-accumulates of W-MSA on an h x w x C map, as :meth:`WindowAttention.flops` counts them."""
    return WindowAttention(C, num_heads=1, window_size=M).flops(h, w)


def _cost_cases() -> list[Case]:
    return [Case(f"{h}x{w} map, C = {C}, M = {M}" + (" (non-square)" if h != w else ""), (h, w, C, M))
            for h, w, C, M in [(8, 8, 8, 4), (8, 12, 32, 4), (56, 56, 96, 7), (14, 28, 384, 7), (32, 32, 64, 8)]]


COST_SECTION = "5. What does it cost? MSA versus W-MSA"
_COST_HINT = "(notebook 03, section 5. What does it cost? MSA versus W-MSA)"

COST_MISTAKES = (
    Mistake("global-msa", lambda h, w, C, M: 4 * h * w * C**2 + 2 * (h * w) ** 2 * C,
            "this is the cost of global MSA, 2(hw)^2 C for the attention: in W-MSA each token is compared "
            "only with the M^2 tokens of its window, so that term is 2 M^2 hwC " + _COST_HINT + "."),
    Mistake("projections-missing", lambda h, w, C, M: 2 * M**2 * h * w * C,
            "you counted only the attention (QK^T and weights x V); the four C x C projections (q, k, v and "
            "the output) add 4hwC^2 " + _COST_HINT + "."),
    Mistake("M-not-squared", lambda h, w, C, M: 4 * h * w * C**2 + 2 * M * h * w * C,
            "each token attends to the M^2 tokens of its M x M window, not to M tokens: the attention term "
            "is 2 M^2 hwC " + _COST_HINT + "."),
    Mistake("output-projection-missing", lambda h, w, C, M: 3 * h * w * C**2 + 2 * M**2 * h * w * C,
            "three projections (q, k, v) are counted, the output projection is missing: 4hwC^2, not 3hwC^2 "
            + _COST_HINT + "."),
    Mistake("flops-not-macs", lambda h, w, C, M: 2 * (4 * h * w * C**2 + 2 * M**2 * h * w * C),
            "you counted FLOPs (a multiply and an add each); the formula counts multiply-accumulates, "
            "half as many " + _COST_HINT + "."),
    Mistake("attention-counted-once", lambda h, w, C, M: 4 * h * w * C**2 + M**2 * h * w * C,
            "the attention has two matrix products of M^2 hwC each: QK^T and the weights times V "
            + _COST_HINT + "."),
    Mistake("attention-of-one-window", lambda h, w, C, M: 4 * h * w * C**2 + 2 * M**4 * C,
            "your attention term, 2 M^4 C, is that of ONE window (M^2 tokens, each compared with M^2 keys): "
            "there are hw/M^2 windows, so multiply it by their number " + _COST_HINT + "."),
    Mistake("one-window-only", lambda h, w, C, M: 4 * M**2 * C**2 + 2 * M**4 * C,
            "that is the cost of one window (M^2 tokens); the map has hw/M^2 windows, and the question asks "
            "for all of them " + _COST_HINT + "."),
    Mistake("attention-without-C", lambda h, w, C, M: 4 * h * w * C**2 + 2 * M**2 * h * w,
            "your attention term has no C: each of the M^2 hwC products of QK^T is a dot product of C "
            "numbers, and so is each weighted sum of the values " + _COST_HINT + "."),
)

WMSA_MACS = Exercise(
    name="wmsa_macs",
    notebook="03_window_attention",
    section=COST_SECTION,
    reference=_wmsa_macs,
    cases=_cost_cases,
    mistakes=COST_MISTAKES,
    summary="multiply-accumulates of W-MSA on an h x w x C map with M x M windows",
    params=("h", "w", "C", "M"),
)


def check_wmsa_macs(fn) -> Result:
    """Check a learner's ``wmsa_macs(h, w, C, M) -> int``: multiply-accumulates of W-MSA on an h x w
    map of C channels with M x M windows (softmax ignored), as ``WindowAttention.flops`` counts them.

    Cases: square and non-square maps, C = 8 to 384, M = 4, 7, 8. Recognised mistakes: the global
    MSA formula, projections missing, M instead of M^2, the output projection missing, FLOPs instead
    of MACs, one attention product instead of two, the attention of one window (forgot the hw/M^2
    windows), the cost of one window only, the attention term without C.
    """
    return WMSA_MACS.check(fn)


def _tokens_where_msa_costs_twice(C: int = 96, M: int = 7) -> int:
    """The number of tokens hw at which MSA costs exactly twice W-MSA (the package's cost formulas)."""
    return next(hw for hw in range(1, 100_000) if msa_macs(hw, 1, C) == 2 * wmsa_macs(hw, 1, C, M))


MSA_TWICE_WMSA_TOKENS = Question(
    name="msa_twice_wmsa_tokens",
    notebook="03_window_attention",
    section=COST_SECTION,
    answer=float(_tokens_where_msa_costs_twice()),  # a real number: a numerical solver's 289.9999999999999 is right
    mistakes=(
        Mistake("side-not-tokens", 17, "17 is about the side of a square map (17^2 = 289); the question asks for "
                "the number of tokens hw " + _COST_HINT + "."),
        Mistake("side-rounded-up", 18, "18 is the side of the smallest square map past that point; the question "
                "asks for the number of tokens hw " + _COST_HINT + "."),
        Mistake("attention-terms-equal", 7**2,
                "at hw = M^2 = 49 the two attention terms are equal (2(hw)^2C = 2M^2hwC), so MSA and W-MSA cost "
                "the same there, not twice: write MSA = 2 x W-MSA with both totals, then solve for hw "
                + _COST_HINT + "."),
        Mistake("projections-dropped", 2 * 7**2,
                "you doubled only the attention term: 2(hw)^2C = 2 x 2M^2hwC. The projections 4hwC^2 are part "
                "of both totals, and doubling W-MSA doubles them too " + _COST_HINT + "."),
        Mistake("side-not-tokens-exact", 290**0.5,
                "that is the side of a square map; the question asks for the number of tokens hw "
                + _COST_HINT + "."),
        Mistake("M-not-squared", 2 * 96 + 2 * 7,
                "your W-MSA attention term has M where it needs M^2: each token is compared with the M^2 tokens "
                "of its window, 2 M^2 hwC " + _COST_HINT + "."),
        Mistake("three-projections", 1.5 * 96 + 2 * 7**2,
                "you counted three projections, 3hwC^2: q, k, v AND the output projection make 4hwC^2, in both "
                "MSA and W-MSA " + _COST_HINT + "."),
        Mistake("attention-counted-once", 2 * 96 + 7**2,
                "your W-MSA attention term is M^2 hwC: it is 2 M^2 hwC, two products (QK^T and the weights "
                "times V), as MSA's is 2 (hw)^2 C " + _COST_HINT + "."),
        Mistake("doubled-answer", 2 * _tokens_where_msa_costs_twice(),
                "you doubled the solution: hw itself is the answer, the 'twice' is already in the equation "
                "MSA = 2 x W-MSA " + _COST_HINT + "."),
    ),
    summary="the number of tokens at which global MSA costs twice W-MSA (C = 96, M = 7)",
)


def check_msa_twice_wmsa_tokens(fn) -> Result:
    """Check the answer to: with C = 96 and M = 7, for how many tokens hw does MSA cost exactly twice
    as much as W-MSA? ``fn`` returns the number (or is the number itself).

    Recognised wrong answers: the side of the map instead of the token count (17 or 18), the point
    where the attention terms are equal (M^2), doubling only the attention term (2M^2), M instead of M^2,
    three projections, one attention product, twice the answer.
    """
    return MSA_TWICE_WMSA_TOKENS.check(fn)


EXERCISES = [WINDOW_PARTITION, WINDOW_REVERSE, WMSA_MACS, MSA_TWICE_WMSA_TOKENS]


# ---------------------------------------------------------------------------------------------
# Transfer exercise: rectangular windows Mh x Mw (no tutorial cell cuts them)
# ---------------------------------------------------------------------------------------------

def _partition_rect(x: torch.Tensor, Mh: int, Mw: int) -> torch.Tensor:
    """The reference: [B, H, W, C] -> [B*nW, Mh, Mw, C], windows image by image, then row-major
    over the (H/Mh) x (W/Mw) window grid; Mh divides H, Mw divides W."""
    return rearrange(x, "b (nh mh) (nw mw) c -> (b nh nw) mh mw c", mh=Mh, mw=Mw)


def _rect_cases() -> list[Case]:
    return [
        Case("2x4 map, 1x2 windows (Mh = 1, Mw = 2), batch 1", (position_map(1, 2, 4, 2), 1, 2)),
        Case("4x6 map, 2x3 windows, batch 1", (position_map(1, 4, 6, 2, seed=1), 2, 3)),
        Case("6x4 map, 3x2 windows (taller than wide), batch 2", (position_map(2, 6, 4, 3, seed=2), 3, 2)),
        Case("8x8 map, 4x4 windows (square, as in notebook 03), batch 2", (position_map(2, 8, 8, 2, seed=3), 4, 4)),
        Case("8x12 map, 2x4 windows, batch 3, float64",
             (position_map(3, 8, 12, 2, torch.float64, seed=4), 2, 4)),
        Case("12x14 map, 4x7 windows, batch 2", (position_map(2, 12, 14, 3, seed=5), 4, 7)),
        Case("4x8 map, one 4x8 window, batch 2", (position_map(2, 4, 8, 2, seed=6), 4, 8)),
    ]


def _rect_window_ids(windows: torch.Tensor, H: int, W: int) -> torch.Tensor:
    """[H, W] map: the window in which each token of image 0 appears (-1: nowhere)."""
    ids = torch.full((H * W,), -1, dtype=torch.int64)
    flat = windows[..., 0].reshape(windows.shape[0], -1).double()
    positions = flat.round().long()
    for k, row in enumerate(positions):
        inside = (row >= 0) & (row < H * W) & (flat[k] == positions[k])
        ids[row[inside]] = k
    return ids.view(H, W)


def _explain_rect(case: Case, expected: torch.Tensor, got) -> str:
    x, _, _ = case.args
    H, W = x.shape[1], x.shape[2]
    if H > 16 or W > 16 or not isinstance(got, torch.Tensor) or got.dim() != 4 or got.shape[-1] != x.shape[-1]:
        return ""
    return grid_side_by_side(_rect_window_ids(expected, H, W), _rect_window_ids(got, H, W),
                             "  window index of every token of image 0:")


_RECT = f"(notebook 03, section {SECTION})"

RECT_MISTAKES = (
    Mistake(
        "Mh-Mw-swapped",
        lambda x, Mh, Mw: rearrange(x, "b (nh mh) (nw mw) c -> (b nh nw) mh mw c", mh=Mw, mw=Mh),
        "your windows are Mw rows high and Mh columns wide: Mh and Mw are swapped. Mh counts rows (it "
        "splits H), Mw counts columns (it splits W): split H into (H/Mh, Mh) and W into (W/Mw, Mw) " + _RECT + ".",
    ),
    Mistake(
        "Mh-Mw-swapped-reshaped",
        lambda x, Mh, Mw: rearrange(x, "b (nh mh) (nw mw) c -> (b nh nw) mh mw c", mh=Mw, mw=Mh).reshape(
            -1, Mh, Mw, x.shape[-1]),
        "you cut windows of Mw rows and Mh columns (Mh and Mw swapped) and then reshaped them to "
        "[Mh, Mw]: the shape is right, the tokens are not. Mh splits H, Mw splits W: "
        "x.view(B, H // Mh, Mh, W // Mw, Mw, C) " + _RECT + ".",
    ),
    Mistake(
        "square-windows",
        lambda x, Mh, Mw: rearrange(x, "b (nh mh) (nw mw) c -> (b nh nw) mh mw c", mh=Mh, mw=Mh),
        "your windows are Mh x Mh squares: Mh is used for both sides. Split W by Mw, so that every "
        "window is Mh x Mw " + _RECT + ".",
    ),
    Mistake(
        "column-major",
        lambda x, Mh, Mw: rearrange(x, "b (nh mh) (nw mw) c -> (b nw nh) mh mw c", mh=Mh, mw=Mw),
        "your windows come out column-major: window 1 should be the window to the right of window 0 "
        "(the next one along the row of windows), yours is the one below it. Order the window grid "
        "row by row, (b nh nw), as for square windows " + _RECT + ".",
    ),
    Mistake(
        "batch-last",
        lambda x, Mh, Mw: rearrange(x, "b (nh mh) (nw mw) c -> (nh nw b) mh mw c", mh=Mh, mw=Mw),
        "your windows are grouped by position, not by image: window k of every image comes before window "
        "k+1. Put the batch axis first, (b nh nw), so that the windows of image b are b*nW .. b*nW + nW-1 "
        + _RECT + ".",
    ),
    Mistake(
        "reshape-without-permute",
        lambda x, Mh, Mw: x.reshape(-1, Mh, Mw, x.shape[-1]),
        "you reshaped without moving the axes: each of your windows holds Mh*Mw consecutive tokens of "
        "the map read row by row, not an Mh x Mw block. Split H into (H/Mh, Mh) and W into (W/Mw, Mw), "
        "bring the two window indices together (permute), then merge " + _RECT + ".",
    ),
    Mistake(
        "transposed-window",
        lambda x, Mh, Mw: rearrange(x, "b (nh mh) (nw mw) c -> (b nh nw) mw mh c", mh=Mh, mw=Mw),
        "your windows hold the right tokens, but each window is transposed: [Mw, Mh] instead of "
        "[Mh, Mw], its rows are the map's columns. Keep the order (mh mw) inside a window " + _RECT + ".",
    ),
)

WINDOW_PARTITION_RECT = Exercise(
    name="window_partition_rect",
    notebook="03_window_attention",
    section=SECTION,
    reference=_partition_rect,
    cases=_rect_cases,
    mistakes=RECT_MISTAKES,
    explain=_explain_rect,
    summary="transfer: cut a map into rectangular Mh x Mw windows, [B, H, W, C] -> [B*nW, Mh, Mw, C]",
    gradients=True,  # a piece of a model: the gradient must reach x
)


def check_window_partition_rect(fn) -> Result:
    """Check a learner's ``window_partition_rect(x, Mh, Mw)``: [B, H, W, C] -> [B*nW, Mh, Mw, C],
    windows of Mh rows and Mw columns, image by image, then row-major over the window grid.

    Cases: 1x2, 2x3, 3x2, 4x4 (square), 2x4 (float64), 4x7 windows and a single 4x8 window, batch 1 to 3.
    Recognised mistakes: Mh and Mw swapped (with or without a reshape back to [Mh, Mw]), Mh x Mh squares,
    column-major windows, windows grouped by position, a reshape without permute, transposed windows.
    """
    return WINDOW_PARTITION_RECT.check(fn)


__all__ += ["check_window_partition_rect"]
EXERCISES.append(WINDOW_PARTITION_RECT)
