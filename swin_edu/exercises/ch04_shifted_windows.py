"""Exercises for notebook 04 (shifted windows): the region labels, the SW-MSA mask, and how many
pairs the mask hides in Swin-T's first stage.

The region labels are the official code's: on the *rolled* map (after ``torch.roll(x, (-s, -s))``)
each axis is cut by ``slice(0, -M), slice(-M, -s), slice(-s, None)`` and the 3x3 grid is labelled
0..8 row-major. Drawings of the nine regions often number them on the original map instead (there
the top-right window holds regions 5 and 3, the code's labels 1 and 2); a learner who writes that
numbering is told so.
"""
from __future__ import annotations

import torch
from einops import rearrange

from ..analysis.regions import original_region_map
from ..windows import MASK_VALUE, region_map, shifted_window_mask, window_partition
from ._core import Case, Exercise, Mistake, Question, Result, grid_side_by_side

__all__ = ["check_region_map", "check_shifted_window_mask", "check_masked_pairs_top_right"]

NOTEBOOK = "04_shifted_windows"
REGIONS = MASK = "4. The regions and the −100 mask, built by hand"
ORIGINAL = "Another numbering: the regions on the original map"  # in Going deeper
DTYPES = "−100 versus −∞ in float32, float16 and bfloat16"  # in Going deeper
WHERE_REGIONS = f"(notebook 04, section {REGIONS})"
WHERE_MASK = f"(notebook 04, section {MASK})"
WHERE_ORIGINAL = f"(notebook 04, section {ORIGINAL})"


def _cases() -> list[Case]:
    """(H, W, M, s), smallest first; the shift-0 case last."""
    return [
        Case("4x4 map, M = 2, s = 1", (4, 4, 2, 1)),
        Case("8x8 map, M = 4, s = 2 (the notebook's example)", (8, 8, 4, 2)),
        Case("8x12 map (non-square), M = 4, s = 2", (8, 12, 4, 2)),
        Case("12x8 map (non-square), M = 4, s = 1 (s is not M // 2)", (12, 8, 4, 1)),
        Case("7x14 map (one row of windows, so row band 0 is empty: six regions), M = 7, s = 3", (7, 14, 7, 3)),
        Case("14x21 map (non-square), M = 7, s = 3", (14, 21, 7, 3)),
        Case("56x56 map (Swin-T stage 1), M = 7, s = 3", (56, 56, 7, 3)),
        Case("8x8 map, M = 4, s = 0 (no shift)", (8, 8, 4, 0)),
    ]


# ---------------------------------------------------------------------------------------------
# Exercise 1: region_map
# ---------------------------------------------------------------------------------------------

def _labels_from_cuts(H: int, W: int, row_cuts, col_cuts, label=lambda i, j: 3 * i + j) -> torch.Tensor:
    """[H, W] int64: band i of the rows and band j of the columns get ``label(i, j)``, bands given as
    slices, written in order (a later band overwrites an earlier one, as a learner's loop does)."""
    out = torch.zeros(H, W, dtype=torch.int64)
    for i, rows in enumerate(row_cuts):
        for j, cols in enumerate(col_cuts):
            out[rows, cols] = label(i, j)
    return out


def _official_slices(M: int, s: int):
    return (slice(0, -M), slice(-M, -s), slice(-s, None))


def original_numbering(H: int, W: int, M: int, s: int) -> torch.Tensor:
    """The regions numbered on the original map, [H, W] int64 (a learner who labels the un-rolled map):
    :func:`swin_edu.analysis.original_region_map`, and at s = 0 the same cuts (at 0 and H-M)."""
    if s > 0:
        return original_region_map(H, W, M, s)
    return _labels_from_cuts(H, W, (slice(0, 0), slice(0, H - M), slice(H - M, None)),
                             (slice(0, 0), slice(0, W - M), slice(W - M, None)))


def _column_major(H, W, M, s):
    if s == 0:
        return torch.zeros(H, W, dtype=torch.int64)
    return _labels_from_cuts(H, W, _official_slices(M, s), _official_slices(M, s), lambda i, j: i + 3 * j)


def _m_s_swapped(H, W, M, s):
    if s == 0:
        return torch.zeros(H, W, dtype=torch.int64)
    swapped = (slice(0, -s), slice(-s, -M), slice(-M, None))
    return _labels_from_cuts(H, W, swapped, swapped)


def _h_for_w(H, W, M, s):
    if s == 0:
        return torch.zeros(H, W, dtype=torch.int64)
    rows = (slice(0, H - M), slice(H - M, H - s), slice(H - s, None))
    return _labels_from_cuts(H, W, rows, rows)  # the columns cut where the rows are


def _no_zero_shift(H, W, M, s):
    # the official loop run with s = 0: slice(-M, -0) is empty and slice(-0, None) is the whole axis
    return _labels_from_cuts(H, W, _official_slices(M, s), _official_slices(M, s))


REGION_MISTAKES = (
    Mistake(
        "labels-unrolled",
        lambda H, W, M, s: torch.roll(region_map(H, W, M, s), (s, s), (0, 1)),
        "your labels are the official ones, but placed on the original map: each token carries the "
        "label it gets after the roll, at the place where it was before the roll. region_map describes "
        "the ROLLED map: position (r, c) of it is position (r, c) of torch.roll(x, (-s, -s)). Cut the "
        "rolled map's axes with slice(0, -M), slice(-M, -s), slice(-s, None) and do not roll the labels "
        f"back {WHERE_REGIONS}.",
    ),
    Mistake(
        "original-map-numbering",
        lambda H, W, M, s: original_numbering(H, W, M, s),
        "that is the numbering of the regions on the original map (cuts at s and H-M+s): the same nine "
        "regions, but the official labels are given on the ROLLED map, cut by slice(0, -M), "
        "slice(-M, -s), slice(-s, None). The original map's regions 5 and 3 are the code's labels 1 and 2 "
        f"(code label 3i+j = original-map region 3((i+1) % 3) + (j+1) % 3) {WHERE_ORIGINAL}.",
    ),
    Mistake(
        "column-major",
        _column_major,
        "your regions are the right ones but numbered column by column: label 1 must be the region to "
        "the right of label 0 (same rows, columns [W-M, W-s)), yours is the one below it. Number the 3x3 "
        f"grid row-major, label = 3i + j for row band i and column band j {WHERE_REGIONS}.",
    ),
    Mistake(
        "M-and-s-swapped",
        _m_s_swapped,
        "you swapped M and s in the slices: with slice(0, -s), slice(-s, -M), slice(-M, None) the middle "
        "band is empty (-s > -M) and the last band is M wide, so the two regions of the last window "
        "merge. The cuts are slice(0, -M), slice(-M, -s), slice(-s, None): the wrapped-around strip is "
        f"the last s rows (columns) {WHERE_REGIONS}.",
    ),
    Mistake(
        "H-for-W",
        _h_for_w,
        "your columns are cut where the rows are (at H-M and H-s): on a non-square map the columns "
        "must be cut at W-M and W-s. Negative slices, slice(-M, -s), avoid the problem "
        f"{WHERE_REGIONS}.",
    ),
    Mistake(
        "shift-0-not-handled",
        _no_zero_shift,
        "with s = 0 there is no shift and a single region: every label must be 0. Your slices break "
        "down at s = 0: slice(-M, -0) is empty and slice(-0, None) is the whole axis, so every token "
        "gets label 8. Return zeros when s == 0, as the official code does (it only builds a mask when "
        f"the shift is > 0) {WHERE_REGIONS}.",
    ),
    Mistake(
        "cut-at-M-minus-s",
        lambda H, W, M, s: _labels_from_cuts(H, W, *[(slice(0, -M), slice(-M, -(M - s)), slice(-(M - s), None))] * 2)
        if 0 < s < M and M - s != s else region_map(H, W, M, s),
        "your last cut is at L-(M-s) instead of L-s: the wrapped-around band is the last s rows (columns) of the "
        "rolled map, the s rows that torch.roll(x, -s) moved from the top to the bottom, so the cuts are "
        f"slice(0, -M), slice(-M, -s), slice(-s, None) {WHERE_REGIONS}.",
    ),
    Mistake(
        "cuts-at-the-start",
        lambda H, W, M, s: _labels_from_cuts(H, W, *[(slice(0, s), slice(s, M), slice(M, None))] * 2) if s
        else region_map(H, W, M, s),
        "your cuts are at the START of each axis, slice(0, s), slice(s, M), slice(M, None): the official ones "
        "are at the end, slice(0, -M), slice(-M, -s), slice(-s, None), on the map rolled by (-s, -s) "
        f"{WHERE_REGIONS}.",
    ),
    Mistake(
        "H-W-swapped",
        lambda H, W, M, s: region_map(W, H, M, s),
        "your label map is [W, H], H and W swapped: the result has H rows and W columns, labels[r, c] for "
        f"row r < H and column c < W (visible only on non-square maps) {WHERE_REGIONS}.",
    ),
    Mistake(
        "all-zeros",
        lambda H, W, M, s: torch.zeros(H, W, dtype=torch.int64),
        "every label of yours is 0: with a shift s > 0 the rolled map has nine regions, each band of rows "
        "and of columns gets its own label (3i + j); only s = 0 gives all zeros. Did the loop that writes the "
        f"labels run, and write into the tensor you return? {WHERE_REGIONS}.",
    ),
)

RELABELLED = Mistake(
    "numbered-differently",
    # one relabelling learners write: the original-map numbers carried along by the roll ("the numbers travel
    # with their tokens"); any other numbering of the same nine regions is recognised too (_RegionExercise)
    lambda H, W, M, s: torch.roll(original_numbering(H, W, M, s), (-s, -s), (0, 1)) if s > 0 else None,
    "your nine regions are the right sets of tokens but carry other numbers. The mask would still "
    "be right (it only asks whether two labels are equal), but the official labels are 0..8 row-major "
    "over the 3x3 grid of the rolled map: the big top-left region is 0, the region to its right 1, "
    f"the s x s bottom-right corner 8 {WHERE_REGIONS}.",
)
REGION_MISTAKES += (RELABELLED,)


def _same_partition(expected: torch.Tensor, got) -> bool:
    """True when ``got`` groups the tokens exactly as ``expected`` does, with other label values."""
    if not isinstance(got, torch.Tensor) or got.shape != expected.shape or got.dtype != expected.dtype:
        return False  # another dtype is a dtype problem, reported as such
    pairs = torch.stack([expected.flatten(), got.flatten().to(torch.int64)], 1).unique(dim=0)
    return len(pairs) == len(expected.unique()) == len(got.unique())


class _RegionExercise(Exercise):
    """An exercise whose answer is a labelling: after the catalogue, any relabelling of the right
    regions is diagnosed as "numbered differently"."""

    def diagnose(self, case: Case, got, **context):
        found = super().diagnose(case, got, **context)
        if found is None and _same_partition(self.reference(*case.args), got):
            return RELABELLED
        return found


def _explain_regions(case: Case, expected: torch.Tensor, got) -> str:
    H, W, _, _ = case.args
    if H > 16 or W > 16 or not isinstance(got, torch.Tensor) or got.shape != expected.shape:
        return ""
    return grid_side_by_side(expected, got.round().long() if got.dtype.is_floating_point else got.long(),
                             "  region label of every token (rolled map):")


REGION_MAP = _RegionExercise(
    name="region_map",
    notebook=NOTEBOOK,
    section=REGIONS,
    reference=region_map,
    cases=_cases,
    mistakes=REGION_MISTAKES,  # the last, "numbered-differently", also matches any other numbering
    explain=_explain_regions,
    summary="label the 3x3 regions of the rolled map 0..8 row-major, as the official code does",
)


def check_region_map(fn) -> Result:
    """Check a learner's ``region_map(H, W, M, s)`` -> [H, W] int64 labels 0..8 of the rolled map.

    Cases: 4x4 (M = 2, s = 1), 8x8 (M = 4, s = 2), non-square 8x12, 12x8 (s = 1, not M // 2), 7x14
    (H = M: one row of windows, row band 0 empty, six regions) and 14x21 (M = 7), Swin-T's 56x56
    (M = 7, s = 3), and s = 0 (all zeros). Recognised mistakes: the
    labels rolled back onto the original map, the numbering on the original map, column-major numbering, M
    and s swapped in the slices, the columns cut at H-M and H-s, shift 0 not handled, the last cut at
    L-(M-s), the cuts at the start of the axes (a roll by +s), H and W swapped, all zeros, and any other
    numbering of the right nine regions.
    """
    return REGION_MAP.check(fn)


# ---------------------------------------------------------------------------------------------
# Exercise 2: shifted_window_mask
# ---------------------------------------------------------------------------------------------

def _window_labels(labels: torch.Tensor, M: int) -> torch.Tensor:
    """[H, W] labels -> [nW, N]: the labels of each window (row-major windows, row-major inside)."""
    return window_partition(labels[None, :, :, None], M).flatten(1)


def _same(labels: torch.Tensor) -> torch.Tensor:
    """[nW, N] -> [nW, N, N] bool: True where query and key have the same label."""
    return labels[:, :, None] == labels[:, None, :]


def _mask_with(same: torch.Tensor, inside, across, dtype=torch.float32) -> torch.Tensor:
    """[nW, N, N] bool -> a mask holding ``inside`` where True and ``across`` where False."""
    return torch.where(same, torch.tensor(inside, dtype=dtype), torch.tensor(across, dtype=dtype))


def _mask(labels: torch.Tensor) -> torch.Tensor:
    """[nW, N] labels of each window -> the [nW, N, N] float32 mask: 0 for equal labels, -100 otherwise."""
    return _mask_with(_same(labels), 0.0, MASK_VALUE)


MASK_MISTAKES = (
    Mistake(
        "minus-inf",
        lambda H, W, M, s: _mask_with(_same(_window_labels(region_map(H, W, M, s), M)), 0.0, float("-inf")),
        "your mask uses -inf where the official code, timm and torchvision use -100 (MASK_VALUE): fill the "
        f"entries across regions with -100.0 (notebook 04, section {DTYPES}).",
    ),
    Mistake(
        "inverted",
        lambda H, W, M, s: _mask_with(_same(_window_labels(region_map(H, W, M, s), M)), MASK_VALUE, 0.0),
        "your mask is inverted: it puts -100 on pairs from the SAME region and 0 across regions, so a "
        "token would attend only to the wrapped-around tokens. The entry is 0 where the two labels are "
        f"equal and -100 where they differ {WHERE_MASK}.",
    ),
    Mistake(
        "plus-100",
        lambda H, W, M, s: _mask_with(_same(_window_labels(region_map(H, W, M, s), M)), 0.0, 100.0),
        "your mask holds +100 across regions: added to the logits, +100 makes the other regions' keys take ALL "
        "the attention instead of none. The entries across regions are -100 (MASK_VALUE) "
        f"{WHERE_MASK}.",
    ),
    Mistake(
        "label-difference",
        lambda H, W, M, s: (lambda w: (w[:, :, None] - w[:, None, :]).float())(_window_labels(region_map(H, W, M, s), M)),
        "your mask holds the differences of the labels (label_i - label_j), not 0 / -100: the difference only "
        "says WHETHER two labels differ; turn it into the mask with torch.where(diff == 0, 0.0, -100.0) or "
        f"masked_fill(diff != 0, -100.0) {WHERE_MASK}.",
    ),
    Mistake(
        "boolean",
        lambda H, W, M, s: ~_same(_window_labels(region_map(H, W, M, s), M)),
        "you return a boolean mask (dtype torch.bool, True where the labels differ). The SW-MSA mask is ADDED to the "
        "logits, so it holds numbers: 0.0 for the same region, -100.0 for different regions, float32: "
        f"torch.where(same, 0.0, -100.0) or zeros(...).masked_fill(different, -100.0) {WHERE_MASK}.",
    ),
    Mistake(
        "integer-mask",
        lambda H, W, M, s: torch.where(_same(_window_labels(region_map(H, W, M, s), M)), 0, -100),
        "your mask holds integers (dtype int64), 0 and -100: it must be float32, so that it can be added to the "
        "float logits. Integers come from int literals or an integer tensor (torch.where(same, 0, -100), "
        "torch.zeros(..., dtype=torch.long)); use the floats 0.0 and -100.0 and a float tensor "
        f"{WHERE_MASK}.",
    ),
    Mistake(
        "original-map-labels",
        lambda H, W, M, s: _mask(_window_labels(original_numbering(H, W, M, s), M))
        if s > 0 else None,
        "your mask compares the region labels of the ORIGINAL map, but the windows that get the mask are "
        "those of the rolled map: the tokens of each window are rolled-map positions, so label the rolled "
        "map (region_map, cut by slice(0, -M), slice(-M, -s), slice(-s, None)) and cut THAT into windows "
        f"{WHERE_MASK}.",
    ),
    Mistake(
        "row-strips",
        lambda H, W, M, s: _mask(region_map(H, W, M, s).reshape(-1, M * M)),
        "your windows of labels are M*M consecutive tokens of the row-major label map (a reshape to "
        "[-1, M*M]), not M x M squares. Cut the label map into windows exactly like the features, with "
        f"window_partition(labels[None, :, :, None], M), then flatten each window {WHERE_MASK}.",
    ),
    Mistake(
        "tokens-transposed",
        lambda H, W, M, s: _mask(rearrange(region_map(H, W, M, s), "(nh m1) (nw m2) -> (nh nw) (m2 m1)", m1=M, m2=M)),
        "your windows are in the right order, but the tokens inside each window are numbered column by "
        "column: token 1 must be the right neighbour of token 0 in its window, not the one below it (on a "
        "square map this looks like windows in column-major order). Flatten each window row by row, as "
        f"window_partition(...).flatten(1) does {WHERE_MASK}.",
    ),
    Mistake(
        "column-major-windows",
        lambda H, W, M, s: _mask(rearrange(region_map(H, W, M, s), "(nh m1) (nw m2) -> (nw nh) (m1 m2)", m1=M, m2=M)),
        "your windows come in column-major order: window 1 must be the window to the right of window 0 "
        "(the next one along the row of windows), yours is the one below it. The masks of the right column and "
        "of the bottom row of windows differ, so the order matters. Cut the labels with window_partition "
        f"{WHERE_MASK}.",
    ),
)


def _masked_counts(mask: torch.Tensor, H: int, W: int, M: int) -> torch.Tensor:
    """[nW, N, N] -> [H/M, W/M]: how many pairs each window masks, laid out on the window grid."""
    hidden = mask if mask.dtype == torch.bool else mask != 0
    return hidden.sum((1, 2)).view(H // M, W // M)


def _explain_mask(case: Case, expected: torch.Tensor, got) -> str:
    H, W, M, _ = case.args
    if not isinstance(got, torch.Tensor) or got.shape != expected.shape or (H // M) > 16 or (W // M) > 16:
        return ""
    return grid_side_by_side(_masked_counts(expected, H, W, M), _masked_counts(got, H, W, M),
                             "  masked pairs (entries != 0) in each window, on the window grid:")


SHIFTED_WINDOW_MASK = Exercise(
    name="shifted_window_mask",
    notebook=NOTEBOOK,
    section=MASK,
    reference=shifted_window_mask,
    cases=_cases,
    mistakes=MASK_MISTAKES,
    explain=_explain_mask,
    summary="the [nW, N, N] float32 mask: 0 within a region, -100 across regions",
    # notebook 04's two cells (region labels, then window_partition and a comparison) are the whole answer: the
    # homework asks to cut the label map into windows by hand, as hw03 did
    off_limits=((window_partition, "swin_edu's own window_partition"), (region_map, "swin_edu's own region_map")),
)


def check_shifted_window_mask(fn) -> Result:
    """Check a learner's ``shifted_window_mask(H, W, M, s)`` -> [nW, M*M, M*M] float32 of 0 / -100.

    Cases: those of :func:`check_region_map` (square and non-square maps, one with H = M, M = 2, 4,
    7, s = 1, 2, 3 and 0). The inputs are integers, so the answer is always float32. Recognised mistakes: -inf
    instead of -100, +100, the label differences themselves, the mask inverted, a boolean mask, an integer
    mask, labels of the original (un-rolled) map, label windows cut as row strips, tokens numbered column
    by column inside each window, windows in column-major order. swin_edu's window_partition and
    region_map are off limits (the learner cuts the label map into windows).
    """
    return SHIFTED_WINDOW_MASK.check(fn)


# ---------------------------------------------------------------------------------------------
# Question: masked pairs in the top-right window of Swin-T's first stage
# ---------------------------------------------------------------------------------------------

def _masked_pairs(H: int, W: int, M: int, s: int, window: int) -> int:
    return int((shifted_window_mask(H, W, M, s)[window] != 0).sum())


_STAGE1 = (56, 56, 7, 3)
_TOP_RIGHT = 56 // 7 - 1  # window index of the top-right window: the last of the first row
_ANSWER = _masked_pairs(*_STAGE1, _TOP_RIGHT)
_N = 7 * 7

MASKED_PAIRS_TOP_RIGHT = Question(
    name="masked_pairs_top_right",
    notebook=NOTEBOOK,
    section=MASK,
    answer=_ANSWER,
    mistakes=(
        Mistake("unordered-pairs", _ANSWER // 2,
                "you counted each pair once: the mask is an N x N matrix with one entry per (query, key), "
                f"and (i, j) and (j, i) are two masked entries {WHERE_MASK}."),
        Mistake("unmasked-pairs", _N * _N - _ANSWER,
                "you counted the pairs that are NOT masked (query and key in the same region); the "
                f"question asks for the entries that are -100 {WHERE_MASK}."),
        Mistake("bottom-right-window", _masked_pairs(*_STAGE1, -1),
                "that is the bottom-right window (four regions); the top-right window holds two "
                "regions, labels 1 and 2, one of 7 x 4 tokens and one of 7 x 3 "
                f"{WHERE_MASK}."),
        Mistake("whole-mask", int((shifted_window_mask(*_STAGE1) != 0).sum()),
                "you counted the masked entries of all 64 windows; the question asks about one window, "
                f"the top-right one (window 7) {WHERE_MASK}."),
        Mistake("sum-of-mask", MASK_VALUE * _ANSWER,
                "that is the SUM of the window's mask, -100 per masked entry: the question asks how many entries "
                f"are masked; count them, (mask != 0).sum() {WHERE_MASK}."),
        Mistake("second-window", _masked_pairs(*_STAGE1, 1),
                "window 1 is the second window of the FIRST row, inside region 0: nothing is masked there. The "
                "top-right window is the last window of the first row (the windows are numbered row by row) "
                f"{WHERE_MASK}."),
        Mistake("widths-not-tokens", 2 * 4 * 3,
                "you counted with the two regions' widths in columns (4 and 3): each region spans the window's "
                f"7 rows, count its tokens {WHERE_MASK}."),
        Mistake("times-windows", 64 * _ANSWER,
                "you multiplied by the number of windows (64): the question asks about ONE window, the top-right "
                f"one, and the other windows do not all mask the same pairs {WHERE_MASK}."),
        Mistake("running-example", _masked_pairs(8, 8, 4, 2, 1),
                "that is the notebook's 8x8 example (M = 4); the question is about Swin-T's first stage, "
                f"56x56 with M = 7 and s = 3 {WHERE_MASK}."),
    ),
    summary="how many (query, key) pairs are masked in the top-right window of 56x56, M = 7, s = 3",
    off_limits=((shifted_window_mask, "swin_edu's own shifted_window_mask"), (region_map, "swin_edu's own region_map")),
)


def check_masked_pairs_top_right(fn) -> Result:
    """Check the answer to: how many (query, key) entries of the mask are -100 in the top-right
    window of Swin-T's first stage (56x56 map, M = 7, s = 3)?

    ``fn`` is a function of no arguments returning the number. Recognised wrong values: unordered
    pairs (half the answer), the unmasked pairs, the bottom-right window, the whole mask, the sum of
    the mask, window 1, the regions' widths, times the number of windows, the notebook's 8x8 example.
    A function that calls swin_edu's shifted_window_mask or region_map fails even when right.
    """
    return MASKED_PAIRS_TOP_RIGHT.check(fn)


#: Every exercise and question of this notebook, in the order the exercise notebook asks them.
EXERCISES = [REGION_MAP, SHIFTED_WINDOW_MASK, MASKED_PAIRS_TOP_RIGHT]


# ---------------------------------------------------------------------------------------------
# Transfer exercise: timm's per-axis rule, and the mask of rectangular windows with per-axis shifts
# ---------------------------------------------------------------------------------------------

PITFALL = "Pitfall: no shift when a side is no larger than a window"  # in Going deeper
WHERE_PITFALL = f"(notebook 04, section {PITFALL}, in Going deeper)"


def _per_axis_rule(H: int, W: int, M: int, s: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """timm's rule, axis by axis: window min(side, M); shift 0 along an axis no longer than M."""
    return (min(H, M), min(W, M)), (0 if H <= M else s, 0 if W <= M else s)


def _bands_rolled(L: int, M: int, s: int) -> torch.Tensor:
    """[L] int64: band 0, 1, 2 of every row (column) of the rolled map, cut at L-M and L-s; one band if s == 0."""
    r = torch.arange(L)
    return torch.zeros(L, dtype=torch.int64) if s == 0 else (r >= L - M).long() + (r >= L - s).long()


def _rect_mask(H: int, W: int, window, shift, cuts_from_rows: bool = False, tokens: str = "(mh mw)",
               windows: str = "(nh nw)") -> torch.Tensor:
    """[nW, Mh*Mw, Mh*Mw] float32 mask of Mh x Mw windows on the map rolled by (-sh, -sw); with
    ``cuts_from_rows`` the columns are (wrongly) cut with the rows' window and shift."""
    (Mh, Mw), (sh, sw) = window, shift
    cols = _bands_rolled(W, Mh, sh) if cuts_from_rows else _bands_rolled(W, Mw, sw)
    labels = 3 * _bands_rolled(H, Mh, sh)[:, None] + cols[None, :]
    cut = rearrange(labels, f"(nh mh) (nw mw) -> {windows} {tokens}", mh=Mh, mw=Mw)
    return torch.where(cut[:, :, None] == cut[:, None, :], 0.0, MASK_VALUE)


def _per_axis_shift_mask(H: int, W: int, M: int, s: int) -> torch.Tensor:
    """The reference: timm's SwinTransformerBlock(..., input_resolution=(H, W), window_size=M,
    shift_size=s).attn_mask, and zeros when neither axis shifts (timm then has no mask)."""
    return _rect_mask(H, W, *_per_axis_rule(H, W, M, s))


def _per_axis_cases() -> list[Case]:
    return [
        Case("2x4 map, M = 2, s = 1 (H = M: windows 2x2, only the columns shift)", (2, 4, 2, 1)),
        Case("3x3 map, M = 4, s = 2 (one 3x3 window, no shift: all zeros)", (3, 3, 4, 2)),
        Case("4x4 map, M = 2, s = 1 (both axes shift: notebook 04's mask)", (4, 4, 2, 1)),
        Case("3x8 map, M = 4, s = 2 (H < M: windows 3x4, only the columns shift)", (3, 8, 4, 2)),
        Case("8x3 map, M = 4, s = 1 (W < M: windows 4x3, only the rows shift)", (8, 3, 4, 1)),
        Case("8x12 map, M = 4, s = 2 (both axes shift)", (8, 12, 4, 2)),
        Case("4x14 map, M = 7, s = 3 (windows 4x7, only the columns shift)", (4, 14, 7, 3)),
        Case("7x14 map, M = 7, s = 3 (the pitfall's map: timm shifts the columns)", (7, 14, 7, 3)),
        Case("14x21 map, M = 7, s = 3 (both axes shift)", (14, 21, 7, 3)),
    ]


def _official_rule_mask(H, W, M, s):
    if min(H, W) <= M:  # the official code: one square window of min(H, W), no shift, for both axes
        m = min(H, W)
        return _rect_mask(H, W, (m, m), (0, 0))
    return _rect_mask(H, W, (M, M), (s, s))


def _shift_kept(H, W, M, s):
    window, _ = _per_axis_rule(H, W, M, s)
    return _rect_mask(H, W, window, (s, s))


def _shifts_swapped(H, W, M, s):
    window, (sh, sw) = _per_axis_rule(H, W, M, s)
    return _rect_mask(H, W, window, (sw, sh))


def _needs_both_shifts(H, W, M, s):
    window, (sh, sw) = _per_axis_rule(H, W, M, s)
    if sh > 0 and sw > 0:
        return _rect_mask(H, W, window, (sh, sw))  # right here
    nW, N = (H // window[0]) * (W // window[1]), window[0] * window[1]
    return torch.zeros(nW, N, N)


PER_AXIS_MISTAKES = (
    Mistake(
        "official-rule",
        _official_rule_mask,
        "you applied the official rule (notebook 04's pitfall): when min(H, W) <= M one square window of "
        "min(H, W) and no shift on both axes. timm decides axis by axis: the window is min(H, M) rows and "
        "min(W, M) columns, and only an axis no longer than M loses its shift; the other keeps s "
        + WHERE_PITFALL + ".",
    ),
    Mistake(
        "shift-kept",
        _shift_kept,
        "your windows are right, but you kept the shift on an axis no longer than M: there one window spans "
        "the whole axis, so rolling it only reorders that window, and the mask then hides tokens of the same "
        "window from each other although they are neighbours. Set the shift to 0 along such an axis "
        "(shift = 0 if side <= M else s, per axis) " + WHERE_PITFALL + ".",
    ),
    Mistake(
        "shifts-swapped",
        _shifts_swapped,
        "your shifts are on the wrong axes: the rows shift when H > M, the columns when W > M. (sh, sw) "
        "= (0 if H <= M else s, 0 if W <= M else s); the rows are cut at H-Mh and H-sh, the columns at W-Mw "
        "and W-sw " + WHERE_PITFALL + ".",
    ),
    Mistake(
        "mask-needs-both-shifts",
        _needs_both_shifts,
        "you return no mask (all zeros) when only one axis shifts: as soon as one shift is > 0 the rolled "
        "map holds wrapped-around tokens along that axis, and they must be masked. Only when both shifts are "
        f"0 is the mask all zeros; otherwise label the regions with the per-axis cuts (notebook 04, section {MASK}).",
    ),
    Mistake(
        "same-cuts-both-axes",
        lambda H, W, M, s: _rect_mask(H, W, *_per_axis_rule(H, W, M, s), cuts_from_rows=True),
        "you cut the columns with the rows' slices: notebook 04's loop uses one `cuts` tuple for both axes, "
        "which is right only when the window and the shift are the same on both. Here the columns need "
        "their own slices, slice(0, -Mw), slice(-Mw, -sw), slice(-sw, None) "
        f"(notebook 04, section {MASK}).",
    ),
    Mistake(
        "minus-inf",
        lambda H, W, M, s: _per_axis_shift_mask(H, W, M, s).masked_fill(_per_axis_shift_mask(H, W, M, s) != 0,
                                                                         float("-inf")),
        "your mask uses -inf where timm and the official code use -100 (MASK_VALUE): fill the entries across "
        f"regions with -100.0 (notebook 04, section {DTYPES}).",
    ),
    Mistake(
        "windows-column-major",
        lambda H, W, M, s: _rect_mask(H, W, *_per_axis_rule(H, W, M, s), windows="(nw nh)"),
        "your windows come in column-major order: window 1 must be the window to the right of window 0 (the "
        "next one along the row of windows), yours is the one below it. Order the window grid row by row, "
        f"(nh nw) (notebook 04, section {MASK}).",
    ),
    Mistake(
        "tokens-column-major",
        lambda H, W, M, s: _rect_mask(H, W, *_per_axis_rule(H, W, M, s), tokens="(mw mh)"),
        "your windows are in the right order, but the tokens inside each window are numbered column by "
        "column: token 1 must be the right neighbour of token 0 in its window, not the one below it. "
        f"Flatten each Mh x Mw window of labels row by row, (mh mw) (notebook 04, section {MASK}).",
    ),
)


def _explain_per_axis(case: Case, expected: torch.Tensor, got) -> str:
    H, W, M, s = case.args
    (Mh, Mw), _ = _per_axis_rule(H, W, M, s)
    if not isinstance(got, torch.Tensor) or got.shape != expected.shape or H // Mh > 16 or W // Mw > 16:
        return ""
    return grid_side_by_side(_masked_counts_rect(expected, H, W, Mh, Mw), _masked_counts_rect(got, H, W, Mh, Mw),
                             f"  masked pairs in each {Mh}x{Mw} window, on the window grid:")


def _masked_counts_rect(mask: torch.Tensor, H: int, W: int, Mh: int, Mw: int) -> torch.Tensor:
    hidden = mask if mask.dtype == torch.bool else mask != 0
    return hidden.sum((1, 2)).view(H // Mh, W // Mw)


PER_AXIS_SHIFT_MASK = Exercise(
    name="per_axis_shift_mask",
    notebook=NOTEBOOK,
    section=PITFALL,
    reference=_per_axis_shift_mask,
    cases=_per_axis_cases,
    mistakes=PER_AXIS_MISTAKES,
    explain=_explain_per_axis,
    summary="transfer: timm's per-axis window and shift, and the mask of its Mh x Mw windows",
)


def check_per_axis_shift_mask(fn) -> Result:
    """Check a learner's ``per_axis_shift_mask(H, W, M, s)`` -> [nW, Mh*Mw, Mh*Mw] float32 of 0 / -100:
    timm's rule (window (min(H, M), min(W, M)); shift 0 along an axis no longer than M, s along the
    other) and the SW-MSA mask of those windows; all zeros when neither axis shifts.

    Cases: 2x4 to 14x21 maps, M = 2, 4, 7, with both, one or no axis shifted, windows 2x2, 3x3, 3x4,
    4x3, 4x7, 7x7. Recognised mistakes: the official rule (square window, no shift at all), the shift kept
    on a short axis, the shifts on the wrong axes, no mask unless both axes shift, the columns cut with the
    rows' slices, -inf instead of -100, windows column-major, tokens column-major inside each window.
    """
    return PER_AXIS_SHIFT_MASK.check(fn)


__all__ += ["check_per_axis_shift_mask"]
EXERCISES.append(PER_AXIS_SHIFT_MASK)
