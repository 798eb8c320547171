"""Exercises of notebook 04: right answers in several styles pass, each common mistake (written here
independently of the catalogue) gets its own diagnosis, broken answers get a clear report."""
import torch
import torch.nn.functional as F

from swin_edu import region_map, shifted_window_mask
from swin_edu.exercises import check_masked_pairs_top_right, check_region_map, check_shifted_window_mask
from swin_edu.exercises.ch04_shifted_windows import original_numbering
from swin_edu.analysis import original_region_map


# --- region_map: right answers in other styles ----------------------------------------------------

def _bands(L, M, s):
    """Band of every row (or column) of the rolled map: 0 in [0, L-M), 1 in [L-M, L-s), 2 in [L-s, L)."""
    r = torch.arange(L)
    return (r >= L - M).long() + (r >= L - s).long()


def regions_arithmetic(H, W, M, s):
    if s == 0:
        return torch.zeros(H, W, dtype=torch.long)
    return 3 * _bands(H, M, s)[:, None] + _bands(W, M, s)[None, :]


def regions_loops(H, W, M, s):
    def band(i, L):
        return 0 if s == 0 or i < L - M else (1 if i < L - s else 2)
    return torch.tensor([[3 * band(r, H) + band(c, W) for c in range(W)] for r in range(H)])


def regions_bucketize(H, W, M, s):
    if s == 0:
        return torch.zeros(H, W, dtype=torch.int64)
    rows = torch.bucketize(torch.arange(H), torch.tensor([H - M, H - s]), right=True)
    cols = torch.bucketize(torch.arange(W), torch.tensor([W - M, W - s]), right=True)
    return rows[:, None] * 3 + cols[None, :]


def test_region_map_right_in_other_styles():
    for fn in (regions_arithmetic, regions_loops, regions_bucketize):
        result = check_region_map(fn)
        assert result.passed, f"{fn.__name__}: {result}"


def test_original_numbering_is_the_analysis_helpers():
    for H, W, M, s in [(8, 8, 4, 2), (8, 12, 4, 2), (12, 8, 4, 1), (7, 14, 7, 3), (14, 21, 7, 3), (56, 56, 7, 3)]:
        assert torch.equal(original_numbering(H, W, M, s), original_region_map(H, W, M, s))


# --- region_map: the catalogued mistakes, written independently ------------------------------------

def regions_rolled_back(H, W, M, s):
    return torch.roll(regions_arithmetic(H, W, M, s), shifts=(s, s), dims=(0, 1))


def regions_original(H, W, M, s):
    def bands(L):
        r = torch.arange(L)
        return (r >= s).long() + (r >= L - M + s).long()
    return 3 * bands(H)[:, None] + bands(W)[None, :]


def regions_column_major(H, W, M, s):
    if s == 0:
        return torch.zeros(H, W, dtype=torch.long)
    return _bands(H, M, s)[:, None] + 3 * _bands(W, M, s)[None, :]


def regions_m_s_swapped(H, W, M, s):
    out, label = torch.zeros(H, W, dtype=torch.long), 0
    for rows in (slice(0, -s), slice(-s, -M), slice(-M, None)):
        for cols in (slice(0, -s), slice(-s, -M), slice(-M, None)):
            out[rows, cols] = label
            label += 1
    return out if s else torch.zeros(H, W, dtype=torch.long)


def regions_h_for_w(H, W, M, s):
    if s == 0:
        return torch.zeros(H, W, dtype=torch.long)
    c = torch.arange(W)
    cols = (c >= H - M).long() + (c >= H - s).long()  # the rows' cuts used for the columns
    return 3 * _bands(H, M, s)[:, None] + cols[None, :]


def regions_no_zero_shift(H, W, M, s):  # the official loop without `if s > 0`
    out, label = torch.zeros(H, W, dtype=torch.long), 0
    for rows in (slice(0, -M), slice(-M, -s), slice(-s, None)):
        for cols in (slice(0, -M), slice(-M, -s), slice(-s, None)):
            out[rows, cols] = label
            label += 1
    return out


def regions_reversed(H, W, M, s):  # right regions, numbered 8..0
    return 8 - regions_arithmetic(H, W, M, s) if s else regions_arithmetic(H, W, M, s)


def regions_original_rolled(H, W, M, s):  # the original-map numbers carried along by the roll
    if s == 0:
        return regions_arithmetic(H, W, M, s)
    return torch.roll(regions_original(H, W, M, s), shifts=(-s, -s), dims=(0, 1))


def test_region_map_mistakes_are_named():
    for fn, name, phrase in [
            (regions_rolled_back, "labels-unrolled", "placed on the original map"),
            (regions_original, "original-map-numbering", "numbering of the regions on the original map"),
            (regions_column_major, "column-major", "numbered column by column"),
            (regions_m_s_swapped, "M-and-s-swapped", "swapped M and s"),
            (regions_h_for_w, "H-for-W", "columns are cut where the rows are"),
            (regions_no_zero_shift, "shift-0-not-handled", "with s = 0"),
            (regions_original_rolled, "numbered-differently", "right sets of tokens but carry other numbers"),
            (regions_reversed, "numbered-differently", "right sets of tokens but carry other numbers")]:
        result = check_region_map(fn)
        assert result.status == "failed" and result.mistake == name, f"{fn.__name__}: {result}"
        section = ("Another numbering: the regions on the original map" if name == "original-map-numbering"
                   else "4. The regions and the −100 mask, built by hand")
        assert phrase in str(result) and f"(notebook 04, section {section})" in str(result)


def test_region_mistakes_show_where_they_should():
    assert check_region_map(regions_h_for_w).case == "8x12 map (non-square), M = 4, s = 2"
    assert check_region_map(regions_no_zero_shift).case == "8x8 map, M = 4, s = 0 (no shift)"
    report = str(check_region_map(regions_rolled_back))  # the picture: expected beside got
    assert any("0 0 1 2" in line and line.endswith("| 8 6 6 7") for line in report.splitlines())


def test_one_row_of_windows_keeps_the_labels():
    """H = M: row band 0 is empty and the labels stay 3 * row_band + column_band (3..8), not 0..5."""
    H, W, M, s = 7, 14, 7, 3
    assert sorted(region_map(H, W, M, s).unique().tolist()) == [3, 4, 5, 6, 7, 8]

    def counter_skipping_empty(H, W, M, s):  # numbers only the non-empty regions: right when H, W > M
        out, label = torch.zeros(H, W, dtype=torch.long), 0
        if s == 0:
            return out
        for rows in (slice(0, -M), slice(-M, -s), slice(-s, None)):
            for cols in (slice(0, -M), slice(-M, -s), slice(-s, None)):
                if out[rows, cols].numel():
                    out[rows, cols] = label
                    label += 1
        return out
    result = check_region_map(counter_skipping_empty)
    assert result.status == "failed" and result.mistake == "numbered-differently", str(result)
    assert result.case.startswith("7x14 map (one row of windows")


def test_relabelling_needs_the_same_regions():
    def merged(H, W, M, s):  # two regions merged: a different partition, not a renumbering
        out = regions_arithmetic(H, W, M, s)
        return out.masked_fill(out == 2, 1)
    result = check_region_map(merged)
    assert result.status == "failed" and result.mistake is None


def test_region_map_broken_answers():
    def wrong_dtype(H, W, M, s):
        return regions_arithmetic(H, W, M, s).float()

    def wrong_shape(H, W, M, s):
        return regions_arithmetic(H, W, M, s)[None]

    def raises(H, W, M, s):
        return torch.zeros(H, W)[H + 1]

    def corrupt(H, W, M, s):
        out = regions_arithmetic(H, W, M, s)
        out[1, 0] = 5
        return out

    dtype = check_region_map(wrong_dtype)
    assert dtype.status == "failed" and "dtype" in str(dtype)
    shape = check_region_map(wrong_shape)
    assert shape.status == "failed" and "wrong shape: expected [4, 4], got [1, 4, 4]" in str(shape)
    error = check_region_map(raises)
    assert error.status == "error" and "IndexError" in str(error)
    mismatch = check_region_map(corrupt)
    assert mismatch.status == "failed" and mismatch.mistake is None
    assert "first at index [1, 0]: expected 0, got 5" in str(mismatch)


def test_region_map_stubs():
    def stub(H, W, M, s):
        raise NotImplementedError()

    def ellipsis(H, W, M, s):
        ...

    for fn in (stub, ellipsis, lambda H, W, M, s: None):
        assert check_region_map(fn).status == "not attempted"


# --- shifted_window_mask: right answers in other styles ----------------------------------------------

def mask_window_loop(H, W, M, s):
    labels = regions_arithmetic(H, W, M, s)
    masks = []
    for r in range(0, H, M):
        for c in range(0, W, M):
            lab = labels[r:r + M, c:c + M].flatten()
            masks.append((lab[:, None] != lab[None, :]).float() * -100.0)
    return torch.stack(masks)


def mask_from_rolled_original(H, W, M, s):
    """The numbering on the original map, carried along by the roll: other numbers, same regions."""
    labels = torch.roll(regions_original(H, W, M, s), shifts=(-s, -s), dims=(0, 1))
    windows = labels.view(H // M, M, W // M, M).permute(0, 2, 1, 3).reshape(-1, M * M)
    same = windows[:, :, None] == windows[:, None, :]
    return torch.zeros(same.shape).masked_fill(~same, -100.0)


def mask_unfold(H, W, M, s):
    labels = regions_bucketize(H, W, M, s).float()[None, None]  # [1, 1, H, W]
    windows = F.unfold(labels, kernel_size=M, stride=M)[0].T  # [nW, N]
    return torch.where(windows[:, :, None] == windows[:, None, :], 0.0, -100.0)


def test_shifted_window_mask_right_in_other_styles():
    for fn in (mask_window_loop, mask_from_rolled_original, mask_unfold):
        result = check_shifted_window_mask(fn)
        assert result.passed, f"{fn.__name__}: {result}"


# --- shifted_window_mask: the catalogued mistakes, written independently -----------------------------

def _label_windows(H, W, M, s):
    return regions_arithmetic(H, W, M, s).view(H // M, M, W // M, M).permute(0, 2, 1, 3).reshape(-1, M * M)


def mask_minus_inf(H, W, M, s):
    lab = _label_windows(H, W, M, s)
    return torch.zeros(lab.shape[0], M * M, M * M).masked_fill(lab[:, :, None] != lab[:, None, :], float("-inf"))


def mask_inverted(H, W, M, s):
    lab = _label_windows(H, W, M, s)
    return (lab[:, :, None] == lab[:, None, :]).float() * -100.0


def mask_boolean(H, W, M, s):
    lab = _label_windows(H, W, M, s)
    return lab[:, :, None] != lab[:, None, :]


def mask_integer(H, W, M, s):
    lab = _label_windows(H, W, M, s)
    return torch.where(lab[:, :, None] == lab[:, None, :], 0, -100)


def mask_original_map(H, W, M, s):
    lab = regions_original(H, W, M, s).view(H // M, M, W // M, M).permute(0, 2, 1, 3).reshape(-1, M * M)
    return torch.where(lab[:, :, None] == lab[:, None, :], 0.0, -100.0)


def mask_row_strips(H, W, M, s):
    lab = regions_arithmetic(H, W, M, s).view(-1, M * M)
    return torch.where(lab[:, :, None] == lab[:, None, :], 0.0, -100.0)


def mask_column_major(H, W, M, s):
    lab = regions_arithmetic(H, W, M, s).view(H // M, M, W // M, M).permute(2, 0, 1, 3).reshape(-1, M * M)
    return torch.where(lab[:, :, None] == lab[:, None, :], 0.0, -100.0)


def test_shifted_window_mask_mistakes_are_named():
    for fn, name, phrase in [(mask_minus_inf, "minus-inf", "-inf where the official code"),
                             (mask_inverted, "inverted", "your mask is inverted"),
                             (mask_boolean, "boolean", "boolean mask"),
                             (mask_integer, "integer-mask", "holds integers"),
                             (mask_original_map, "original-map-labels", "labels of the ORIGINAL map"),
                             (mask_row_strips, "row-strips", "consecutive tokens"),
                             (mask_column_major, "column-major-windows", "column-major order")]:
        result = check_shifted_window_mask(fn)
        assert result.status == "failed" and result.mistake == name, f"{fn.__name__}: {result}"
        assert phrase in str(result) and "notebook 04, section" in str(result)
    assert "dtype" in str(check_shifted_window_mask(mask_integer))
    assert "dtype" in str(check_shifted_window_mask(mask_boolean))


def test_mask_report_draws_masked_pairs_per_window():
    report = str(check_shifted_window_mask(mask_original_map))
    assert "masked pairs (entries != 0) in each window" in report
    assert any(" 0  8 " in line and line.endswith("| 12 12") for line in report.splitlines())


def test_shifted_window_mask_broken_answers():
    def wrong_dtype(H, W, M, s):
        return mask_window_loop(H, W, M, s).double()

    def wrong_shape(H, W, M, s):
        return mask_window_loop(H, W, M, s)[None]

    def raises(H, W, M, s):
        raise RuntimeError("shapes do not match")

    def corrupt(H, W, M, s):
        out = mask_window_loop(H, W, M, s)
        out[0, 0, 1] = -50.0
        return out

    dtype = check_shifted_window_mask(wrong_dtype)
    assert dtype.status == "failed" and "dtype" in str(dtype) and dtype.mistake is None
    shape = check_shifted_window_mask(wrong_shape)
    assert shape.status == "failed" and "shape" in str(shape) and shape.mistake is None
    error = check_shifted_window_mask(raises)
    assert error.status == "error" and "RuntimeError: shapes do not match" in str(error)
    mismatch = check_shifted_window_mask(corrupt)
    assert mismatch.status == "failed" and mismatch.mistake is None
    assert "first at index [0, 0, 1]: expected 0.0, got -50.0" in str(mismatch)
    for fn in (lambda H, W, M, s: None, lambda H, W, M, s: ...):
        assert check_shifted_window_mask(fn).status == "not attempted"


def test_references_are_the_package():
    assert check_region_map(region_map).passed
    # the package's mask cuts the labels with window_partition, which hw04's Exercise 2 puts off limits
    assert check_shifted_window_mask(mask_window_loop).passed


def test_notebook_04s_two_cells_do_not_answer_exercise_2():
    from swin_edu import MASK_VALUE, window_partition

    def copied(H, W, M, s):  # notebook 04, section 4's second cell, with the learner's labels
        window_labels = window_partition(regions_arithmetic(H, W, M, s)[None, :, :, None], M).flatten(1)
        return torch.where(window_labels[:, :, None] == window_labels[:, None, :], 0.0, MASK_VALUE)

    result = check_shifted_window_mask(copied)
    assert result.status == "failed" and "`window_partition`" in str(result) and "off limits" in str(result)
    result = check_shifted_window_mask(lambda H, W, M, s: copied(H, W, M, s) if s else shifted_window_mask(H, W, M, s))
    assert result.status == "failed"


# --- masked_pairs_top_right -----------------------------------------------------------------------

def test_masked_pairs_top_right():
    tokens_a, tokens_b = 7 * 4, 7 * 3  # the two regions of the top-right window (M = 7, s = 3)
    assert check_masked_pairs_top_right(lambda: 2 * tokens_a * tokens_b).passed
    assert check_masked_pairs_top_right(lambda: 49 * 49 - tokens_a ** 2 - tokens_b ** 2).passed
    assert check_masked_pairs_top_right(lambda: 1176.0).passed
    # swin_edu's own mask is off limits, and the check sees it (as region_map's check does)
    off = check_masked_pairs_top_right(lambda: int((shifted_window_mask(56, 56, 7, 3)[7] != 0).sum()))
    assert off.status == "failed" and "`shifted_window_mask`" in str(off) and "off limits" in str(off), str(off)
    assert check_masked_pairs_top_right(lambda: torch.tensor(1176)).passed
    for value, name in [(tokens_a * tokens_b, "unordered-pairs"), (tokens_a ** 2 + tokens_b ** 2, "unmasked-pairs"),
                        (49 * 49 - (16 ** 2 + 2 * 12 ** 2 + 9 ** 2), "bottom-right-window"),
                        (14 * 1176 + 1776, "whole-mask"), (2 * 8 * 8, "running-example")]:
        result = check_masked_pairs_top_right(lambda v=value: v)
        assert result.status == "failed" and result.mistake == name, str(result)
    other = check_masked_pairs_top_right(lambda: 1175)
    assert other.status == "failed" and other.mistake is None
    assert check_masked_pairs_top_right(lambda: 1176.5).status == "failed"

    def stub():
        raise NotImplementedError()

    assert check_masked_pairs_top_right(stub).status == "not attempted"
    assert check_masked_pairs_top_right(lambda: None).status == "not attempted"
    error = check_masked_pairs_top_right(lambda: 1 // 0)
    assert error.status == "error" and "ZeroDivisionError" in str(error)


def test_mask_tokens_transposed_is_not_called_column_major_windows():
    """On a square map both mistakes give the same mask; the non-square cases tell them apart."""
    from swin_edu import region_map

    def tokens_column_major(H, W, M, s):
        labels = region_map(H, W, M, s).view(H // M, M, W // M, M).permute(0, 2, 3, 1).reshape(-1, M * M)
        return torch.where(labels[:, :, None] == labels[:, None, :], 0.0, -100.0)

    def windows_column_major(H, W, M, s):
        labels = region_map(H, W, M, s).view(H // M, M, W // M, M).permute(2, 0, 1, 3).reshape(-1, M * M)
        return torch.where(labels[:, :, None] == labels[:, None, :], 0.0, -100.0)

    assert check_shifted_window_mask(tokens_column_major).mistake == "tokens-transposed"
    assert check_shifted_window_mask(windows_column_major).mistake == "column-major-windows"


# --- issue 16: one dtype rule, diagnoses about what the learner wrote ----------------------------------

def test_region_map_must_be_int64():
    result = check_region_map(lambda H, W, M, s: regions_loops(H, W, M, s).int())
    assert result.status == "failed" and "int64" in str(result), str(result)


def test_mask_dtype_report_fits_a_function_without_input_tensors():
    result = check_shifted_window_mask(lambda H, W, M, s: mask_window_loop(H, W, M, s).double())
    report = str(result)
    assert result.status == "failed" and "float32" in report and "keep the input's dtype" not in report, report


def test_integer_mask_is_not_blamed_on_a_torch_where_the_learner_did_not_write():
    def filled(H, W, M, s):
        mask = mask_window_loop(H, W, M, s)
        out = torch.zeros(mask.shape, dtype=torch.long)
        out[mask != 0] = -100
        return out

    result = check_shifted_window_mask(filled)
    assert result.mistake == "integer-mask", str(result)
    assert "torch.where(same, 0, -100) with int literals gives" not in str(result)


# --- transfer: per_axis_shift_mask (timm's per-axis window and shift) -------------------------------

import pytest  # noqa: E402
from einops import rearrange  # noqa: E402

from swin_edu.exercises import check_per_axis_shift_mask  # noqa: E402
from swin_edu.exercises import ch04_shifted_windows as ch04  # noqa: E402


def timm_rule(H, W, M, s):
    Mh, Mw = min(H, M), min(W, M)
    return (Mh, Mw), (0 if H <= Mh else s, 0 if W <= Mw else s)


def per_axis_loops(H, W, M, s):  # timm's loop, with the per-axis slices
    (Mh, Mw), (sh, sw) = timm_rule(H, W, M, s)
    labels, label = torch.zeros(H, W), 0
    for rows in (slice(0, -Mh), slice(-Mh, -sh), slice(-sh, None)):
        for cols in (slice(0, -Mw), slice(-Mw, -sw), slice(-sw, None)):
            labels[rows, cols] = label
            label += 1
    windows = labels.view(H // Mh, Mh, W // Mw, Mw).permute(0, 2, 1, 3).reshape(-1, Mh * Mw)
    diff = windows[:, None, :] - windows[:, :, None]
    return diff.masked_fill(diff != 0, -100.0).masked_fill(diff == 0, 0.0)


def per_axis_bands(H, W, M, s):
    (Mh, Mw), (sh, sw) = timm_rule(H, W, M, s)

    def bands(L, m, sx):
        r = torch.arange(L)
        return (r >= L - m).long() + (r >= L - sx).long() if sx else torch.zeros(L, dtype=torch.long)
    labels = 3 * bands(H, Mh, sh)[:, None] + bands(W, Mw, sw)[None, :]
    windows = rearrange(labels, "(nh mh) (nw mw) -> (nh nw) (mh mw)", mh=Mh, mw=Mw)
    return torch.where(windows[:, :, None] == windows[:, None, :], 0.0, -100.0)


def per_axis_rolled_coordinates(H, W, M, s):
    """Another idea: two tokens of a rolled window are kept apart when the roll brought them from
    opposite sides of a cut, i.e. their original rows (columns) lie on both sides of the wrap."""
    (Mh, Mw), (sh, sw) = timm_rule(H, W, M, s)
    rows = torch.roll(torch.arange(H), -sh)  # original row of every row of the rolled map
    cols = torch.roll(torch.arange(W), -sw)
    wrapped_r = (rows < sh).long() if sh else torch.zeros(H, dtype=torch.long)
    wrapped_c = (cols < sw).long() if sw else torch.zeros(W, dtype=torch.long)
    key = 2 * wrapped_r[:, None] + wrapped_c[None, :]
    windows = key.unfold(0, Mh, Mh).unfold(1, Mw, Mw).reshape(-1, Mh * Mw)
    return (windows[:, :, None] != windows[:, None, :]).float() * -100.0


def test_per_axis_shift_mask_right_in_other_styles():
    for fn in (per_axis_loops, per_axis_bands, per_axis_rolled_coordinates):
        result = check_per_axis_shift_mask(fn)
        assert result.passed, f"{fn.__name__}: {result}"


@pytest.mark.parametrize("H, W, M, s", [c.args for c in ch04._per_axis_cases()])
def test_per_axis_shift_mask_is_timms(H, W, M, s):
    timm_swin = pytest.importorskip("timm.models.swin_transformer")
    block = timm_swin.SwinTransformerBlock(8, (H, W), num_heads=1, window_size=M, shift_size=s)
    ours = ch04._per_axis_shift_mask(H, W, M, s)
    assert block.window_size == timm_rule(H, W, M, s)[0] and block.shift_size == timm_rule(H, W, M, s)[1]
    if block.attn_mask is None:
        assert not ours.any()
    else:
        assert torch.equal(block.attn_mask, ours)


def per_axis_official(H, W, M, s):
    if min(H, W) <= M:
        m = min(H, W)
        return torch.zeros((H // m) * (W // m), m * m, m * m)
    return shifted_window_mask(H, W, M, s)


def per_axis_shift_kept(H, W, M, s):
    (Mh, Mw), _ = timm_rule(H, W, M, s)
    labels, label = torch.zeros(H, W), 0
    for rows in (slice(0, -Mh), slice(-Mh, -s), slice(-s, None)):
        for cols in (slice(0, -Mw), slice(-Mw, -s), slice(-s, None)):
            labels[rows, cols] = label
            label += 1
    windows = rearrange(labels, "(nh mh) (nw mw) -> (nh nw) (mh mw)", mh=Mh, mw=Mw)
    return torch.where(windows[:, :, None] == windows[:, None, :], 0.0, -100.0)


def per_axis_swapped(H, W, M, s):
    (Mh, Mw), _ = timm_rule(H, W, M, s)
    sh, sw = (0 if W <= M else s), (0 if H <= M else s)
    labels = torch.zeros(H, W)
    for i, rows in enumerate((slice(0, -Mh), slice(-Mh, -sh), slice(-sh, None))):
        for j, cols in enumerate((slice(0, -Mw), slice(-Mw, -sw), slice(-sw, None))):
            labels[rows, cols] = 3 * i + j
    windows = rearrange(labels, "(nh mh) (nw mw) -> (nh nw) (mh mw)", mh=Mh, mw=Mw)
    return torch.where(windows[:, :, None] == windows[:, None, :], 0.0, -100.0)


def per_axis_both_or_nothing(H, W, M, s):
    (Mh, Mw), (sh, sw) = timm_rule(H, W, M, s)
    if not (sh and sw):
        return torch.zeros((H // Mh) * (W // Mw), Mh * Mw, Mh * Mw)
    return per_axis_bands(H, W, M, s)


def per_axis_one_cuts_tuple(H, W, M, s):  # notebook 04's loop: one `cuts` for both axes
    (Mh, Mw), (sh, sw) = timm_rule(H, W, M, s)
    cuts = (slice(0, -Mh), slice(-Mh, -sh), slice(-sh, None))
    labels = torch.zeros(H, W, dtype=torch.int64)
    for i, rows in enumerate(cuts):
        for j, cols in enumerate(cuts):
            labels[rows, cols] = 3 * i + j
    windows = rearrange(labels, "(nh mh) (nw mw) -> (nh nw) (mh mw)", mh=Mh, mw=Mw)
    return torch.where(windows[:, :, None] == windows[:, None, :], 0.0, -100.0)


def per_axis_tokens_by_column(H, W, M, s):
    (Mh, Mw), _ = timm_rule(H, W, M, s)
    mask = per_axis_bands(H, W, M, s)
    order = torch.arange(Mh * Mw).view(Mh, Mw).T.flatten()  # token k of the column-major numbering
    return mask[:, order][:, :, order]


PER_AXIS_WRONG = [(per_axis_official, "official-rule", "the official rule"),
                  (per_axis_shift_kept, "shift-kept", "kept the shift on an axis no longer than M"),
                  (per_axis_swapped, "shifts-swapped", "shifts are on the wrong axes"),
                  (per_axis_both_or_nothing, "mask-needs-both-shifts", "only one axis shifts"),
                  (per_axis_one_cuts_tuple, "same-cuts-both-axes", "cut the columns with the rows' slices"),
                  (per_axis_tokens_by_column, "tokens-column-major", "numbered column by column"),
                  (lambda H, W, M, s: per_axis_with_where(H, W, M, s).masked_fill(
                      per_axis_with_where(H, W, M, s) != 0, float("-inf")), "minus-inf", "-inf"),
                  (lambda H, W, M, s: per_axis_windows_by_column(H, W, M, s), "windows-column-major",
                   "column-major order")]


def test_per_axis_shift_mask_mistakes_are_named():
    assert {name for _, name, _ in PER_AXIS_WRONG} == {m.name for m in ch04.PER_AXIS_MISTAKES}
    for fn, name, phrase in PER_AXIS_WRONG:
        result = check_per_axis_shift_mask(fn)
        assert result.status == "failed" and result.mistake == name, f"{fn.__name__}: {result}"
        assert phrase in str(result) and "(notebook 04, section" in str(result)
        assert len(str(result).splitlines()) <= 12


def test_per_axis_shift_mask_report_draws_the_masked_pairs():
    report = str(check_per_axis_shift_mask(per_axis_official))
    assert "masked pairs in each 2x2 window" in report and "  0 8      | 0 0" in report.splitlines()


def test_per_axis_shift_mask_stubs_errors_and_odd_answers():
    def stub(H, W, M, s):
        raise NotImplementedError()

    for fn in (stub, lambda *args: None, None):
        assert check_per_axis_shift_mask(fn).status == "not attempted"
    assert check_per_axis_shift_mask(lambda H, W, M, s: shifted_window_mask(H, W, M, s)).status in ("error", "failed")
    for odd in (lambda *a: 0, lambda *a: per_axis_bands(*a).double(), lambda *a: per_axis_bands(*a) != 0,
                lambda *a: per_axis_bands(*a) * 2, lambda *a: per_axis_bands(*a).long()):
        result = check_per_axis_shift_mask(odd)
        assert result.status == "failed" and result.mistake is None, str(result)


def per_axis_with_where(H, W, M, s):
    return ch04._per_axis_shift_mask(H, W, M, s)


def per_axis_windows_by_column(H, W, M, s):  # the student-tester's: named "tokens by column" before
    Mh, Mw = min(H, M), min(W, M)
    sh, sw = (0 if H <= M else s), (0 if W <= M else s)

    def bands(L, m, sx):
        r = torch.arange(L)
        return torch.zeros(L, dtype=torch.long) if sx == 0 else (r >= L - m).long() + (r >= L - sx).long()

    labels = 3 * bands(H, Mh, sh)[:, None] + bands(W, Mw, sw)[None, :]
    windows = rearrange(labels, "(nh mh) (nw mw) -> (nw nh) (mh mw)", mh=Mh, mw=Mw)
    return torch.where(windows[:, :, None] == windows[:, None, :], 0.0, -100.0)


def test_more_region_map_mistakes_are_named():
    def cuts(row_cuts, H, W):
        out = torch.zeros(H, W, dtype=torch.long)
        for i, r in enumerate(row_cuts):
            for j, c in enumerate(row_cuts):
                out[r, c] = 3 * i + j
        return out

    for fn, name in [
            (lambda H, W, M, s: cuts((slice(0, -M), slice(-M, -(M - s)), slice(-(M - s), None)), H, W) if s
             else torch.zeros(H, W, dtype=torch.long), "cut-at-M-minus-s"),
            (lambda H, W, M, s: cuts((slice(0, s), slice(s, M), slice(M, None)), H, W) if s
             else torch.zeros(H, W, dtype=torch.long), "cuts-at-the-start"),
            (lambda H, W, M, s: regions_arithmetic(W, H, M, s), "H-W-swapped"),
            (lambda H, W, M, s: torch.zeros(H, W, dtype=torch.long), "all-zeros")]:
        result = check_region_map(fn)
        assert result.mistake == name, str(result)


def test_more_mask_mistakes_are_named_and_minus_inf_does_not_answer_question_2():
    def by_hand(H, W, M, s):
        return mask_window_loop(H, W, M, s)

    assert check_shifted_window_mask(lambda H, W, M, s: -by_hand(H, W, M, s) + 0.0).mistake == "plus-100"
    for check, fn in [(check_shifted_window_mask, mask_minus_inf),
                      (check_per_axis_shift_mask, PER_AXIS_WRONG[-2][0])]:
        report = str(check(fn))
        assert "-inf" in report and "NaN" not in report and "fully masked" not in report, report


def test_more_masked_pairs_mistakes_are_named():
    for value, name in [(-117600.0, "sum-of-mask"), (0, "second-window"), (24, "widths-not-tokens"),
                        (75264, "times-windows")]:
        assert check_masked_pairs_top_right(lambda: value).mistake == name


def test_an_off_limits_function_imported_inside_the_function_is_seen():
    """A student's import inside the body (`from swin_edu import window_partition`) makes a local name the
    static look used to miss: the copy passed (the second student-tester found it)."""
    def imports_inside(H, W, M, s):
        from swin_edu import MASK_VALUE, window_partition
        labels = window_partition(regions_arithmetic(H, W, M, s)[None, :, :, None], M).flatten(1)
        return torch.where(labels[:, :, None] == labels[:, None, :], 0.0, MASK_VALUE)

    def imports_the_module(H, W, M, s):
        import swin_edu.windows
        labels = swin_edu.windows.window_partition(regions_arithmetic(H, W, M, s)[None, :, :, None], M).flatten(1)
        return torch.where(labels[:, :, None] == labels[:, None, :], 0.0, -100.0)

    for fn in (imports_inside, imports_the_module):
        result = check_shifted_window_mask(fn)
        assert result.status == "failed" and "`window_partition`" in str(result) and "off limits" in str(result), \
            (fn.__name__, str(result))

    def count_with_the_package():
        import swin_edu
        return int((swin_edu.shifted_window_mask(56, 56, 7, 3)[7] != 0).sum())

    inside = check_masked_pairs_top_right(count_with_the_package)
    assert inside.status == "failed" and "`shifted_window_mask`" in str(inside) and "off limits" in str(inside), str(inside)


def test_an_own_helper_named_like_the_package_function_is_not_off_limits():
    """Importing something allowed from swin_edu (MASK_VALUE) next to one's own `window_partition` is right."""
    def window_partition(x, M):  # the learner's own, named like swin_edu's
        return rearrange(x, "b (nh m1) (nw m2) c -> (b nh nw) m1 m2 c", m1=M, m2=M)

    def mask(H, W, M, s):
        from swin_edu import MASK_VALUE
        labels = window_partition(regions_arithmetic(H, W, M, s)[None, :, :, None], M).flatten(1)
        return torch.where(labels[:, :, None] == labels[:, None, :], 0.0, MASK_VALUE)

    assert check_shifted_window_mask(mask).passed, str(check_shifted_window_mask(mask))
