"""Exercises for notebook 03 (window attention): window partition and reverse.

Each check feeds maps whose channel 0 holds the token's position (b*H*W + h*W + w), so that a
failure report can draw which window every token landed in, expected beside got.
"""
from __future__ import annotations

import torch
from einops import rearrange

from ..windows import window_partition, window_reverse
from ._core import Case, Exercise, Mistake, Result, grid_side_by_side

__all__ = ["check_window_partition", "check_window_reverse"]

SECTION = "2. Window partition and reverse"


def _map(B: int, H: int, W: int, C: int, dtype=torch.float32, seed: int = 0) -> torch.Tensor:
    """A [B, H, W, C] map: channel 0 is the token's position b*H*W + h*W + w, the rest random."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(B, H, W, C, generator=g, dtype=dtype)
    x[..., 0] = torch.arange(B * H * W, dtype=dtype).view(B, H, W)
    return x


def _partition_cases() -> list[Case]:
    return [
        Case("4x4 map, M = 2, batch 1", (_map(1, 4, 4, 2), 2)),
        Case("4x8 map (non-square), M = 2, batch 1", (_map(1, 4, 8, 2, seed=1), 2)),
        Case("8x8 map, M = 4, batch 3", (_map(3, 8, 8, 3, seed=2), 4)),
        Case("14x21 map (non-square), M = 7, batch 2", (_map(2, 14, 21, 3, seed=3), 7)),
        Case("6x6 map, M = 3, batch 2, float64", (_map(2, 6, 6, 2, torch.float64, seed=4), 3)),
        Case("4x4 map, M = 4 (one window), batch 2", (_map(2, 4, 4, 2, seed=5), 4)),
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
    return grid_side_by_side(_window_ids(expected, H, W), _window_ids(got, H, W),
                             "  window index of every token of image 0:")


PARTITION_MISTAKES = (
    Mistake(
        "column-major",
        lambda x, M: rearrange(x, "b (nh m1) (nw m2) c -> (b nw nh) m1 m2 c", m1=M, m2=M),
        "your windows come out column-major: window 1 should be the top-right neighbour of window 0 "
        "(the next window along the row), yours is the one below it. Order the window grid row by "
        "row, (b nh nw) (notebook 03, section 2. Window partition and reverse).",
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
)


def check_window_partition(fn) -> Result:
    """Check a learner's ``window_partition(x, M)``: [B, H, W, C] -> [B*nW, M, M, C].

    Cases: square and non-square maps, batch 1-3, M = 2, 3, 4, 7 and M equal to the map side,
    float32 and float64. Recognised mistakes: column-major windows, batch last, a reshape without
    moving the axes, windows transposed inside.
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
)


def check_window_reverse(fn) -> Result:
    """Check a learner's ``window_reverse(windows, M, H, W)``: [B*nW, M, M, C] -> [B, H, W, C].

    Cases: the windows of :func:`check_window_partition`'s maps. Recognised mistakes: windows read
    column-major, batch last, a reshape without moving the axes, H and W swapped.
    """
    return WINDOW_REVERSE.check(fn)


EXERCISES = [WINDOW_PARTITION, WINDOW_REVERSE]
