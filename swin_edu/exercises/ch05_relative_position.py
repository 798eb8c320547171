"""Exercises for notebook 05 (relative position bias): the relative position index, the bias
gathered from the table, and how many bias parameters Swin-T has.

Conventions as in the notebook and the package: tokens of a window numbered row-major, offsets
query minus key, (dy, dx) = (y_i - y_j, x_i - x_j), index (dy + M-1)(2M-1) + (dx + M-1); the table is
[(2M-1)^2, nH] (offsets first) and the bias [nH, N, N].
"""
from __future__ import annotations

import torch

from ..model import swin_t
from ..relative_position import relative_position_bias, relative_position_index
from ._core import Case, Exercise, Mistake, Question, Result, grid_side_by_side

__all__ = ["check_relative_position_index", "check_relative_position_bias", "check_bias_parameters_swin_t"]

NOTEBOOK = "05_relative_position_bias"
INDEX = "2. The index, step by step"
BIAS = "3. From the table to one bias matrix per head"
WHERE_INDEX = f"(notebook 05, section {INDEX})"
WHERE_BIAS = f"(notebook 05, section {BIAS})"


# ---------------------------------------------------------------------------------------------
# Exercise 1: relative_position_index
# ---------------------------------------------------------------------------------------------

def _index_cases() -> list[Case]:
    return [
        Case("M = 2", (2,)),
        Case("M = 3", (3,)),
        Case("M = 4", (4,)),
        Case("M = 7 (Swin's window)", (7,)),
        Case("M = 12 (fine-tuning at 384)", (12,)),
        Case("M = 1 (a single token)", (1,)),
    ]


def _offsets(M: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(dy, dx), each [N, N] int64: query minus key, tokens numbered row-major, not shifted."""
    t = torch.arange(M * M)
    y, x = t // M, t % M
    return y[:, None] - y[None, :], x[:, None] - x[None, :]


def _no_shift(M):
    dy, dx = _offsets(M)
    return dy * (2 * M - 1) + dx


def _dx_not_shifted(M):
    dy, dx = _offsets(M)
    return (dy + M - 1) * (2 * M - 1) + dx


def _multiplier_m(M):
    dy, dx = _offsets(M)
    return (dy + M - 1) * M + (dx + M - 1)


def _dy_dx_swapped(M):
    dy, dx = _offsets(M)
    return (dx + M - 1) * (2 * M - 1) + (dy + M - 1)


INDEX_MISTAKES = (
    Mistake(
        "no-shift",
        _no_shift,
        "your index is missing the shift by M-1: dy and dx run from -(M-1) to M-1, so without adding "
        "M-1 to each the index goes negative, and table[negative] silently reads entries from the END of "
        "the table (negative offsets wrap around). Use (dy + M-1) * (2M-1) + (dx + M-1) "
        f"{WHERE_INDEX}.",
    ),
    Mistake(
        "dx-not-shifted",
        _dx_not_shifted,
        "you shifted dy by M-1 but not dx: both coordinates must be moved into [0, 2M-2] before "
        "flattening, (dy + M-1) * (2M-1) + (dx + M-1), otherwise offsets with dx < 0 read the entry of "
        f"another dy {WHERE_INDEX}.",
    ),
    Mistake(
        "multiplier-M",
        _multiplier_m,
        "you multiplied the shifted dy by M instead of 2M-1, the number of values dx takes: with M "
        "different offsets share a table entry (e.g. shifted (0, 2) "
        f"and (1, 0) for M = 2) {WHERE_INDEX}.",
    ),
    Mistake(
        "dy-dx-swapped",
        _dy_dx_swapped,
        "dy and dx play swapped roles: the row offset dy = y_i - y_j (y = t // M) is the one multiplied "
        "by 2M-1, the column offset dx (x = t % M) is added. Common causes: torch.meshgrid with "
        "indexing=\"xy\" instead of \"ij\", or tokens numbered column by column (y = t % M, x = t // M: "
        f"the same index) {WHERE_INDEX}.",
    ),
    Mistake(
        "multiplier-2M",
        lambda M: (_offsets(M)[0] + M - 1) * (2 * M) + (_offsets(M)[1] + M - 1),
        "you multiplied the shifted dy by 2M instead of 2M-1: the multiplier is the number of values dx "
        "takes, -(M-1)..M-1, that is 2M-1; with 2M the index skips entries and runs past the end of the "
        f"(2M-1)^2-row table {WHERE_INDEX}.",
    ),
    Mistake(
        "key-minus-query",
        lambda M: relative_position_index(M).T,
        "you took key minus query: the offset of the pair (i, j) is the QUERY's position minus the "
        "KEY's, dy = y_i - y_j, dx = x_i - x_j. Yours is the transpose (for token 0 and token N-1 of "
        f"M = 2: index[0, 3] must be 0, the offset (-1, -1)) {WHERE_INDEX}.",
    ),
    Mistake(
        "float-index",
        lambda M: relative_position_index(M).float(),
        "the numbers are right but your index has a float dtype: a table can only be indexed with "
        "integers (dtype int64). Build the coordinates from torch.arange(M) (int64) and use // rather than /, "
        f"or finish with .long() {WHERE_INDEX}.",
    ),
)


def _explain_index(case: Case, expected: torch.Tensor, got) -> str:
    (M,) = case.args
    if M > 3 or not isinstance(got, torch.Tensor) or got.shape != expected.shape:
        return ""
    shown = got.round().long() if got.dtype.is_floating_point else got.long()
    return grid_side_by_side(expected, shown, f"  index[i, j] for M = {M} (query i = row, key j = column):")


RELATIVE_POSITION_INDEX = Exercise(
    name="relative_position_index",
    notebook=NOTEBOOK,
    section=INDEX,
    reference=relative_position_index,
    cases=_index_cases,
    mistakes=INDEX_MISTAKES,
    explain=_explain_index,
    params=("M",),
    summary="the [M*M, M*M] int64 table entry read by every (query, key) pair of a window",
)


def check_relative_position_index(fn) -> Result:
    """Check a learner's ``relative_position_index(M)`` -> [M*M, M*M] int64, entry
    (dy + M-1)(2M-1) + (dx + M-1) for query i and key j, (dy, dx) = (y_i - y_j, x_i - x_j).

    Cases: M = 2, 3, 4, 7, 12 and 1. Recognised mistakes: no shift by M-1, only dy shifted,
    multiplier M or 2M instead of 2M-1, dy and dx swapped (meshgrid "xy", or tokens column-major), key minus query (the
    transpose), a float index.
    """
    return RELATIVE_POSITION_INDEX.check(fn)


# ---------------------------------------------------------------------------------------------
# Exercise 2: relative_position_bias
# ---------------------------------------------------------------------------------------------

def _table(M: int, nH: int, dtype=torch.float32, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn((2 * M - 1) ** 2, nH, generator=g, dtype=dtype)


def _bias_cases() -> list[Case]:
    return [
        Case("M = 2, 1 head", (_table(2, 1), relative_position_index(2))),
        Case("M = 2, 3 heads", (_table(2, 3, seed=1), relative_position_index(2))),
        Case("M = 3, 2 heads", (_table(3, 2, seed=2), relative_position_index(3))),
        Case("M = 7, 3 heads (Swin-T stage 1)", (_table(7, 3, seed=3), relative_position_index(7))),
        Case("M = 4, 4 heads, float64 table", (_table(4, 4, torch.float64, seed=4), relative_position_index(4))),
    ]


BIAS_MISTAKES = (
    Mistake(
        "no-permute",
        lambda table, index: table[index],
        "you return [N, N, nH]: table[index] puts the heads last. The bias is [nH, N, N], one N x N "
        "matrix per head: finish with .permute(2, 0, 1) (or rearrange \"i j h -> h i j\") "
        f"{WHERE_BIAS}.",
    ),
    Mistake(
        "view-not-permute",
        lambda table, index: table[index.flatten()].view(table.shape[1], index.shape[0], index.shape[0]),
        "you reshaped [N*N, nH] into [nH, N, N] with view/reshape: that reads the numbers in memory "
        "order, so the heads and the pairs get mixed (a reshape never moves an axis). Gather to "
        f"[N, N, nH], then permute the head axis to the front {WHERE_BIAS}.",
    ),
    Mistake(
        "transposed-index",
        lambda table, index: relative_position_bias(table, index.T),
        "each head's matrix is transposed: entry [h, i, j] must read table[index[i, j], h], the offset "
        "of query i minus key j. Yours reads index[j, i] (index.T, or a permute(2, 1, 0) instead of "
        f"permute(2, 0, 1)) {WHERE_BIAS}.",
    ),
)

RELATIVE_POSITION_BIAS = Exercise(
    name="relative_position_bias",
    notebook=NOTEBOOK,
    section=BIAS,
    reference=relative_position_bias,
    cases=_bias_cases,
    mistakes=BIAS_MISTAKES,
    summary="gather the [(2M-1)^2, nH] table with the index into an [nH, N, N] bias",
    gradients=True,  # the table is a parameter: a .detach(), .data or numpy round trip would freeze it
)


def check_relative_position_bias(fn) -> Result:
    """Check a learner's ``relative_position_bias(table, index)``: table [(2M-1)^2, nH] and index
    [N, N] (``relative_position_index(M)``) -> bias [nH, N, N] with bias[h, i, j] = table[index[i, j], h],
    in the table's dtype.

    Cases: M = 2 (1 and 3 heads), 3, 7 and a float64 table with M = 4; on each the gradient must reach
    ``table`` (it is a parameter of the model). Recognised mistakes: no permute ([N, N, nH]),
    view/reshape instead of permute, the index (or the pair axes) transposed.
    """
    return RELATIVE_POSITION_BIAS.check(fn)


# ---------------------------------------------------------------------------------------------
# Question: relative position bias parameters of Swin-T
# ---------------------------------------------------------------------------------------------

def _swin_t_tables() -> list[tuple[int, int, int]]:
    """(stage, table entries, heads) of every block of Swin-T. The table sizes depend only on the window
    and the heads, so a Swin-T with 3 channels (cheap to build) has the same tables as the real one."""
    model = swin_t(embed_dim=3, num_classes=1)
    return [(i, *block.attn.relative_position_bias_table.shape)
            for i, stage in enumerate(model.layers) for block in stage.blocks]


_TABLES = _swin_t_tables()
_ROWS = _TABLES[0][1]  # (2M-1)^2 = 169 for M = 7
_SIDE = round(_ROWS ** 0.5)  # 2M-1
_WINDOW = (_SIDE + 1) // 2  # M
_HEADS = sum(heads for _, _, heads in _TABLES)  # heads summed over all blocks
_ANSWER = sum(rows * heads for _, rows, heads in _TABLES)

BIAS_PARAMETERS_SWIN_T = Question(
    name="bias_parameters_swin_t",
    notebook=NOTEBOOK,
    section=BIAS,
    answer=_ANSWER,
    mistakes=(
        Mistake("one-table-per-stage",
                sum({stage: rows * heads for stage, rows, heads in _TABLES}.values()),
                "you counted one table per stage; every block has its own table, and Swin-T's stages have "
                f"2, 2, 6 and 2 blocks {WHERE_BIAS}."),
        Mistake("one-column", sum(rows for _, rows, _ in _TABLES),
                "you counted one column per table; the table is [(2M-1)^2, nH], one column per head "
                f"(3, 6, 12, 24 heads in the four stages) {WHERE_BIAS}."),
        Mistake("M-squared-rows", _WINDOW * _WINDOW * _HEADS,
                "you gave the table one entry per token (M^2 = 49); it has one entry per OFFSET (dy, dx), "
                f"(2M-1)^2 = 169 of them {WHERE_INDEX}."),
        Mistake("2M-1-rows", _SIDE * _HEADS,
                "you gave the table 2M-1 = 13 entries: that is the number of offsets per axis; the table "
                f"has one entry per 2-D offset (dy, dx), (2M-1)^2 = 169 {WHERE_INDEX}."),
        Mistake("bias-entries", _WINDOW ** 4 * _HEADS,
                "you counted the entries of the expanded bias [nH, N, N] (N = 49); the parameters are the "
                f"table's (2M-1)^2 x nH numbers, the bias is gathered from them {WHERE_BIAS}."),
        Mistake("2M+1-side", (2 * _WINDOW + 1) ** 2 * _HEADS,
                "you gave the table (2M+1)^2 = 225 rows: an offset along an axis runs from -(M-1) to M-1, "
                f"2M-1 values, so the table has (2M-1)^2 = 169 rows {WHERE_INDEX}."),
        Mistake("depths-misread", _ROWS * (2 * 3 + 2 * 6 + 2 * 12 + 6 * 24),
                "you used depths 2-2-2-6: Swin-T's are 2-2-6-2, the six blocks in stage 3 (12 heads), two in "
                f"stage 4 (24 heads) {WHERE_BIAS}."),
        Mistake("shifted-blocks-only", _ANSWER // 2,
                "you counted half the blocks (the shifted ones?): EVERY block has a relative position bias "
                f"table, W-MSA and SW-MSA alike {WHERE_BIAS}."),
    ),
    summary="how many relative position bias parameters Swin-T has (all blocks, all heads)",
)


def check_bias_parameters_swin_t(fn) -> Result:
    """Check the answer to: how many relative position bias parameters does Swin-T have (depths
    2-2-6-2, heads 3-6-12-24, M = 7)?

    ``fn`` is a function of no arguments returning the number. Recognised wrong values: one table
    per stage, one column per table, M^2 or 2M-1 entries instead of (2M-1)^2, the entries of the
    expanded bias, (2M+1)^2 entries, depths misread as 2-2-2-6, half the blocks.
    """
    return BIAS_PARAMETERS_SWIN_T.check(fn)


#: Every exercise and question of this notebook, in the order the exercise notebook asks them.
EXERCISES = [RELATIVE_POSITION_INDEX, RELATIVE_POSITION_BIAS, BIAS_PARAMETERS_SWIN_T]


# ---------------------------------------------------------------------------------------------
# Transfer exercise: the index of a 3-D window Md x Mh x Mw (Video Swin); Md = 1 is a rectangle
# ---------------------------------------------------------------------------------------------

def _offsets_3d(Md: int, Mh: int, Mw: int, tokens: str = "dhw") -> tuple[torch.Tensor, ...]:
    """(dd, dh, dw), each [N, N] int64: query minus key, tokens numbered row-major (d slowest, w
    fastest); another order of "dhw" numbers them in that order, the first slowest (a mistake)."""
    sizes = {"d": Md, "h": Mh, "w": Mw}
    grids = torch.meshgrid(*(torch.arange(sizes[a]) for a in tokens), indexing="ij")  # tokens[0] slowest
    coords = {a: g.flatten() for a, g in zip(tokens, grids)}
    d, h, w = coords["d"], coords["h"], coords["w"]
    return d[:, None] - d[None, :], h[:, None] - h[None, :], w[:, None] - w[None, :]


def _index_3d(Md: int, Mh: int, Mw: int) -> torch.Tensor:
    """The reference: [N, N] int64, N = Md*Mh*Mw, entry
    (dd + Md-1)(2Mh-1)(2Mw-1) + (dh + Mh-1)(2Mw-1) + (dw + Mw-1), as Video Swin's
    WindowAttention3D builds it (Md = 1: timm's get_relative_position_index(Mh, Mw));
    the table has (2Md-1)(2Mh-1)(2Mw-1) rows."""
    dd, dh, dw = _offsets_3d(Md, Mh, Mw)
    return (dd + Md - 1) * (2 * Mh - 1) * (2 * Mw - 1) + (dh + Mh - 1) * (2 * Mw - 1) + (dw + Mw - 1)


def _index_3d_cases() -> list[Case]:
    return [
        Case("1x2x3 window (Md x Mh x Mw; Md = 1: a 2x3 rectangle)", (1, 2, 3)),
        Case("1x3x2 window (a 3x2 rectangle)", (1, 3, 2)),
        Case("2x2x2 window", (2, 2, 2)),
        Case("2x2x3 window", (2, 2, 3)),
        Case("2x3x4 window", (2, 3, 4)),
        Case("1x7x7 window (notebook 05's M = 7)", (1, 7, 7)),
        Case("3x4x5 window", (3, 4, 5)),
        Case("8x7x7 window (Video Swin-T)", (8, 7, 7)),
    ]


def _index_3d_with(mult_d, mult_h, Md, Mh, Mw, shift=True, tokens="dhw"):
    dd, dh, dw = _offsets_3d(Md, Mh, Mw, tokens)
    if shift:
        dd, dh, dw = dd + Md - 1, dh + Mh - 1, dw + Mw - 1
    return dd * mult_d + dh * mult_h + dw


INDEX_3D_MISTAKES = (
    Mistake(
        "row-multiplier-2Mh-1",
        lambda Md, Mh, Mw: _index_3d_with((2 * Mh - 1) * (2 * Mw - 1), 2 * Mh - 1, Md, Mh, Mw),
        "you multiplied the shifted dh by 2Mh-1: the multiplier of an offset is the number of values of "
        "the offsets after it, and dw takes 2Mw-1 values. With 2Mh-1, as soon as Mh != Mw, two offsets share "
        "a table entry (Mh < Mw) or the index runs past the table's end (Mh > Mw). Use (dh + Mh-1)(2Mw-1) + (dw + Mw-1) "
        f"(notebook 05, section More pitfalls, under Going deeper: rectangular windows).",
    ),
    Mistake(
        "time-multiplier-too-small",
        lambda Md, Mh, Mw: _index_3d_with(2 * Mh - 1, 2 * Mw - 1, Md, Mh, Mw),
        "you multiplied the shifted dd by 2Mh-1 only: after dd come all the (dh, dw) pairs, "
        "(2Mh-1)(2Mw-1) of them, so that is the multiplier of dd; with 2Mh-1 offsets of different frames "
        f"share a table entry {WHERE_INDEX}.",
    ),
    Mistake(
        "no-shift",
        lambda Md, Mh, Mw: _index_3d_with((2 * Mh - 1) * (2 * Mw - 1), 2 * Mw - 1, Md, Mh, Mw, shift=False),
        "your index is missing the shifts by Md-1, Mh-1, Mw-1: the offsets are negative for half of the "
        "pairs, and table[negative] silently reads entries from the END of the table. Add M-1 of its own "
        f"axis to each offset before flattening {WHERE_INDEX}.",
    ),
    Mistake(
        "key-minus-query",
        lambda Md, Mh, Mw: _index_3d(Md, Mh, Mw).T,
        "you took key minus query: the offset of the pair (i, j) is the QUERY's position minus the KEY's "
        f"on every axis; yours is the transpose {WHERE_INDEX}.",
    ),
    Mistake(
        "axes-reversed",
        lambda Md, Mh, Mw: (_offsets_3d(Md, Mh, Mw)[2] + Mw - 1) * (2 * Mh - 1) * (2 * Md - 1)
        + (_offsets_3d(Md, Mh, Mw)[1] + Mh - 1) * (2 * Md - 1) + (_offsets_3d(Md, Mh, Mw)[0] + Md - 1),
        "your index is a valid one, but with dw slowest and dd fastest: the table's rows must be ordered "
        "as a checkpoint stores them, dd slowest, then dh, then dw, "
        "(dd + Md-1)(2Mh-1)(2Mw-1) + (dh + Mh-1)(2Mw-1) + (dw + Mw-1), as notebook 05's (dy, dx) "
        f"{WHERE_INDEX}.",
    ),
    Mistake(
        "multiplier-M",
        lambda Md, Mh, Mw: _index_3d_with(Mh * Mw, Mw, Md, Mh, Mw),
        "you multiplied by the window sides (Mh*Mw for dd, Mw for dh) instead of the number of offset "
        "values (2Mh-1)(2Mw-1) and 2Mw-1: different offsets then share a table entry "
        f"{WHERE_INDEX}.",
    ),
    Mistake(
        "tokens-w-slowest",
        lambda Md, Mh, Mw: _index_3d_with((2 * Mh - 1) * (2 * Mw - 1), 2 * Mw - 1, Md, Mh, Mw, tokens="whd"),
        "your offsets are right, but you numbered the tokens with w slowest: token 1 must be the right "
        "neighbour of token 0, yours is the next frame (the one below, when Md = 1): the window's tokens are numbered row-major, d slowest, then h, then w, "
        "as window partition flattens them; torch.meshgrid(..., indexing=\"ij\") over (d, h, w) gives "
        f"that order {WHERE_INDEX}.",
    ),
    Mistake(
        "tokens-column-major",
        lambda Md, Mh, Mw: _index_3d_with((2 * Mh - 1) * (2 * Mw - 1), 2 * Mw - 1, Md, Mh, Mw, tokens="dwh"),
        "your offsets are right, but inside each frame you numbered the tokens column by column (token 1 is "
        "the one below token 0, not its right neighbour): the window's tokens are numbered row-major, d "
        "slowest, then h, then w, as window partition flattens them; torch.meshgrid(..., indexing=\"ij\") "
        f"over (d, h, w) gives that order {WHERE_INDEX}.",
    ),
    Mistake(
        "time-multiplier-wrong-sides",
        lambda Md, Mh, Mw: _index_3d_with((2 * Md - 1) * (2 * Mh - 1), 2 * Mw - 1, Md, Mh, Mw),
        "you multiplied the shifted dd by (2Md-1)(2Mh-1): the multiplier of an offset is the number of "
        "values of the offsets AFTER it, dh and dw, so dd's is (2Mh-1)(2Mw-1) (its own 2Md-1 values do "
        f"not enter) {WHERE_INDEX}.",
    ),
)


def _explain_index_3d(case: Case, expected: torch.Tensor, got) -> str:
    if expected.shape[0] > 8 or not isinstance(got, torch.Tensor) or got.shape != expected.shape:
        return ""
    shown = got.round().long() if got.dtype.is_floating_point else got.long()
    return grid_side_by_side(expected, shown, "  index[i, j] (query i = row, key j = column):")


RELATIVE_POSITION_INDEX_3D = Exercise(
    name="relative_position_index_3d",
    notebook=NOTEBOOK,
    section=INDEX,
    reference=_index_3d,
    cases=_index_3d_cases,
    mistakes=INDEX_3D_MISTAKES,
    explain=_explain_index_3d,
    summary="transfer: the [N, N] int64 index of an Md x Mh x Mw window (Video Swin; Md = 1 a rectangle)",
)


def check_relative_position_index_3d(fn) -> Result:
    """Check a learner's ``relative_position_index_3d(Md, Mh, Mw)`` -> [N, N] int64, N = Md*Mh*Mw,
    tokens numbered row-major (d, h, w), entry (dd + Md-1)(2Mh-1)(2Mw-1) + (dh + Mh-1)(2Mw-1) + (dw + Mw-1)
    with offsets query minus key.

    Cases: 1x2x3 and 1x3x2 (rectangles), 2x2x2, 2x2x3, 2x3x4, 1x7x7, 3x4x5 and Video Swin-T's 8x7x7.
    Recognised mistakes: dh multiplied by 2Mh-1, dd multiplied by 2Mh-1 only, no shifts, key minus query,
    the axes in reverse order, the window sides as multipliers, dd multiplied by (2Md-1)(2Mh-1), tokens
    numbered w slowest, tokens column by column inside each frame.
    """
    return RELATIVE_POSITION_INDEX_3D.check(fn)


__all__ += ["check_relative_position_index_3d"]
EXERCISES.append(RELATIVE_POSITION_INDEX_3D)
