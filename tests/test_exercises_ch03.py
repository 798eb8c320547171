"""Exercises of notebook 03: right answers in several styles pass, each common mistake (written here
independently of the catalogue) gets its own diagnosis, broken answers get a clear report."""
import torch
import torch.nn.functional as F

from swin_edu.exercises import check_window_partition, check_window_reverse, check_wmsa_macs


# --- window_partition: right answers in other styles -------------------------------------------

def partition_view_permute(x, M):
    B, H, W, C = x.shape
    return x.view(B, H // M, M, W // M, M, C).permute(0, 1, 3, 2, 4, 5).reshape(-1, M, M, C)


def partition_unfold(x, M):
    B, H, W, C = x.shape
    cols = F.unfold(x.permute(0, 3, 1, 2), kernel_size=M, stride=M)  # [B, C*M*M, nW]
    return cols.view(B, C, M, M, -1).permute(0, 4, 2, 3, 1).reshape(-1, M, M, C)


def partition_loops(x, M):
    B, H, W, C = x.shape
    return torch.stack([x[b, i:i + M, j:j + M] for b in range(B) for i in range(0, H, M) for j in range(0, W, M)])


def partition_split(x, M):
    windows = [w for img in x for row in img.split(M, dim=0) for w in row.split(M, dim=1)]
    return torch.stack(windows)


def test_window_partition_right_in_other_styles():
    for fn in (partition_view_permute, partition_unfold, partition_loops, partition_split):
        result = check_window_partition(fn)
        assert result.passed, f"{fn.__name__}: {result}"


# --- window_partition: the catalogued mistakes, written independently ------------------------------

def partition_column_major(x, M):
    B, H, W, C = x.shape
    return x.view(B, H // M, M, W // M, M, C).permute(0, 3, 1, 2, 4, 5).reshape(-1, M, M, C)


def partition_batch_last(x, M):
    B, H, W, C = x.shape
    return x.view(B, H // M, M, W // M, M, C).permute(1, 3, 0, 2, 4, 5).reshape(-1, M, M, C)


def partition_no_permute(x, M):
    return x.contiguous().view(-1, M, M, x.shape[3])


def partition_transposed(x, M):
    return partition_view_permute(x, M).transpose(1, 2)


def test_window_partition_mistakes_are_named():
    for fn, name, phrase in [(partition_column_major, "column-major", "column-major"),
                             (partition_batch_last, "batch-last", "grouped by position"),
                             (partition_no_permute, "reshape-without-permute", "without moving the axes"),
                             (partition_transposed, "transposed-window", "transposed")]:
        result = check_window_partition(fn)
        assert result.status == "failed" and result.mistake == name, f"{fn.__name__}: {result}"
        assert phrase in str(result) and "notebook 03" in str(result)


def test_column_major_report_draws_the_window_ids():
    report = str(check_window_partition(partition_column_major))
    assert "  0 0 1 1  | 0 0 2 2" in report.splitlines()


def test_batch_last_shows_only_with_several_images():
    result = check_window_partition(partition_batch_last)
    assert result.case == "8x8 map, M = 4, batch 3"  # batch 1 cases cannot tell


def test_window_partition_broken_answers():
    def wrong_dtype(x, M):
        return partition_view_permute(x, M).float()

    def wrong_shape(x, M):
        return partition_view_permute(x, M).flatten(1, 2)  # [B*nW, M*M, C]

    def raises(x, M):
        raise ValueError("not yet")

    def corrupt(x, M):
        out = partition_view_permute(x, M).clone()
        out[0, 0, 0, 0] += 1
        return out

    assert "dtype" in str(check_window_partition(wrong_dtype))
    assert "wrong shape: expected [4, 2, 2, 2], got [4, 4, 2]" in str(check_window_partition(wrong_shape))
    error = check_window_partition(raises)
    assert error.status == "error" and "ValueError: not yet" in str(error)
    mismatch = check_window_partition(corrupt)
    assert mismatch.mistake is None and "first at index [0, 0, 0, 0]" in str(mismatch)


# --- window_reverse ---------------------------------------------------------------------------

def reverse_view_permute(windows, M, H, W):
    C = windows.shape[-1]
    return windows.view(-1, H // M, W // M, M, M, C).permute(0, 1, 3, 2, 4, 5).reshape(-1, H, W, C)


def reverse_fold(windows, M, H, W):
    C = windows.shape[-1]
    B = windows.shape[0] // ((H // M) * (W // M))
    cols = windows.view(B, -1, M, M, C).permute(0, 4, 2, 3, 1).reshape(B, C * M * M, -1)
    return F.fold(cols, (H, W), kernel_size=M, stride=M).permute(0, 2, 3, 1)


def reverse_loops(windows, M, H, W):
    nW = (H // M) * (W // M)
    out = windows.new_zeros(windows.shape[0] // nW, H, W, windows.shape[-1])
    for k, w in enumerate(windows):
        b, i = divmod(k, nW)
        r, c = divmod(i, W // M)
        out[b, r * M:(r + 1) * M, c * M:(c + 1) * M] = w
    return out


def test_window_reverse_right_in_other_styles():
    for fn in (reverse_view_permute, reverse_fold, reverse_loops):
        result = check_window_reverse(fn)
        assert result.passed, f"{fn.__name__}: {result}"


def test_window_reverse_mistakes_are_named():
    def column_major(windows, M, H, W):
        C = windows.shape[-1]
        return windows.view(-1, W // M, H // M, M, M, C).permute(0, 2, 3, 1, 4, 5).reshape(-1, H, W, C)

    def batch_last(windows, M, H, W):
        C = windows.shape[-1]
        return windows.view(H // M, W // M, -1, M, M, C).permute(2, 0, 3, 1, 4, 5).reshape(-1, H, W, C)

    def no_permute(windows, M, H, W):
        return windows.reshape(-1, H, W, windows.shape[-1])

    def h_w_swapped(windows, M, H, W):
        return reverse_view_permute(windows, M, W, H)

    for fn, name in [(column_major, "column-major"), (batch_last, "batch-last"),
                     (no_permute, "reshape-without-permute"), (h_w_swapped, "H-W-swapped")]:
        result = check_window_reverse(fn)
        assert result.status == "failed" and result.mistake == name, f"{fn.__name__}: {result}"
    assert check_window_reverse(h_w_swapped).case == "4x8 map (non-square), M = 2, batch 1"


# --- wmsa_macs --------------------------------------------------------------------------------

def test_wmsa_macs_styles_and_mistakes():
    assert check_wmsa_macs(lambda h, w, C, M: 4 * h * w * C**2 + 2 * M**2 * h * w * C).passed
    assert check_wmsa_macs(lambda h, w, C, M: (h * w // M**2) * (4 * M**2 * C * C + 2 * M**4 * C)).passed
    assert check_wmsa_macs(lambda h, w, C, M: float(h * w * C * (4 * C + 2 * M * M))).passed
    for fn, name in [(lambda h, w, C, M: 4 * h * w * C * C + 2 * (h * w) * (h * w) * C, "global-msa"),
                     (lambda h, w, C, M: 2 * M * M * h * w * C, "projections-missing"),
                     (lambda h, w, C, M: 4 * h * w * C * C + 2 * M * h * w * C, "M-not-squared"),
                     (lambda h, w, C, M: 3 * h * w * C * C + 2 * M * M * h * w * C, "output-projection-missing"),
                     (lambda h, w, C, M: 8 * h * w * C * C + 4 * M * M * h * w * C, "flops-not-macs"),
                     (lambda h, w, C, M: 4 * h * w * C * C + M * M * h * w * C, "attention-counted-once")]:
        result = check_wmsa_macs(fn)
        assert result.status == "failed" and result.mistake == name, str(result)
    off_by_one = check_wmsa_macs(lambda h, w, C, M: 4 * h * w * C**2 + 2 * M**2 * h * w * C + 1)
    assert off_by_one.status == "failed" and off_by_one.mistake is None
    assert "expected 32,768, got 32,769" in str(off_by_one)


def test_msa_twice_wmsa_tokens():
    from swin_edu.exercises import check_msa_twice_wmsa_tokens
    C, M = 96, 7
    hw = 2 * C + 2 * M * M  # from 2(hw)^2 C = 4hwC^2 + 4M^2 hwC
    assert check_msa_twice_wmsa_tokens(lambda: hw).passed and check_msa_twice_wmsa_tokens(float(hw)).passed
    for value, name in [(17, "side-not-tokens"), (18, "side-rounded-up"), (M * M, "attention-terms-equal"),
                        (2 * M * M, "projections-dropped")]:
        assert check_msa_twice_wmsa_tokens(value).mistake == name
    other = check_msa_twice_wmsa_tokens(hw + 1)
    assert other.status == "failed" and other.mistake is None and str(hw) not in str(other)


# --- issue 16: right answers in any numeric style, mistakes named, reports a learner can act on ----

def test_a_numerical_solution_of_the_crossing_passes():
    import math
    from swin_edu.exercises import check_msa_twice_wmsa_tokens

    def bisection():
        C, M = 96, 7
        lo, hi = 100.0, 1000.0
        for _ in range(200):
            mid = (lo + hi) / 2
            if 4 * mid * C**2 + 2 * mid**2 * C < 2 * (4 * mid * C**2 + 2 * M**2 * mid * C):
                lo = mid
            else:
                hi = mid
        return lo

    for answer in (bisection, lambda: math.nextafter(290, 0), lambda: 289.9999999999999, lambda: 290.0000001):
        assert check_msa_twice_wmsa_tokens(answer).passed, str(check_msa_twice_wmsa_tokens(answer))
    wrong = check_msa_twice_wmsa_tokens(lambda: 289.5)
    assert not wrong.passed and "289.5" in str(wrong)
    assert "return a number" in str(check_msa_twice_wmsa_tokens(lambda: "290"))


def test_wmsa_macs_in_floats_passes():
    result = check_wmsa_macs(lambda h, w, C, M: 4 * h * w * C**2 * (1 + M**2 / (2 * C)))
    assert result.passed, str(result)


def test_window_functions_must_let_the_gradient_through():
    def partition_numpy(x, M):
        return torch.from_numpy(partition_view_permute(x, M).numpy().copy())

    def reverse_detached(windows, M, H, W):
        return reverse_view_permute(windows.detach(), M, H, W)

    for check, fn in ((check_window_partition, partition_numpy), (check_window_reverse, reverse_detached)):
        result = check(fn)
        assert result.status == "failed" and "gradient" in str(result), str(result)


def test_window_reverse_with_the_grid_h_w_swapped_is_named():
    def grid_swapped(windows, M, H, W):
        C = windows.shape[-1]
        return windows.view(-1, W // M, H // M, M, M, C).permute(0, 1, 3, 2, 4, 5).reshape(-1, H, W, C)

    result = check_window_reverse(grid_swapped)
    assert result.status == "failed" and "H and W swapped" in str(result), str(result)


def test_window_partition_by_unfold_without_moving_the_channels_is_named():
    def unfold_channels_first(x, M):
        B, H, W, C = x.shape
        cols = F.unfold(x.permute(0, 3, 1, 2), kernel_size=M, stride=M)  # [B, C*M*M, nW]
        return cols.transpose(1, 2).reshape(-1, M, M, C)  # (c m1 m2) read as (m1 m2 c)

    result = check_window_partition(unfold_channels_first)
    assert result.status == "failed" and result.mistake == "unfold-channels-first", str(result)


def test_reports_show_the_call_and_explain_the_minus_ones():
    def raises(windows, M, H, W):
        raise ValueError("no")

    error = str(check_window_reverse(raises))
    assert "call: window_reverse(windows, M=2, H=4, W=4); windows [4, 2, 2, 2] float32" in error
    assert "window_size" not in error

    def drops_a_window(x, M):
        out = partition_view_permute(x, M).clone()
        out[1] = out[0]
        return out

    report = str(check_window_partition(drops_a_window))
    assert "-1" in report and "-1: in none of your windows" in report, report
    wrong_shape = str(check_window_partition(lambda x, M: partition_view_permute(x, M)[None]))
    assert "expected | got" not in wrong_shape  # no picture of a result of another shape


# --- transfer: window_partition_rect (Mh x Mw windows) ---------------------------------------------

from einops import rearrange  # noqa: E402

import swin_edu  # noqa: E402

from swin_edu.exercises import check_window_partition_rect  # noqa: E402
from swin_edu.exercises import ch03_window_attention as ch03  # noqa: E402


def rect_einops(x, Mh, Mw):
    return rearrange(x, "b (nh mh) (nw mw) c -> (b nh nw) mh mw c", mh=Mh, mw=Mw)


def rect_view_permute(x, Mh, Mw):
    B, H, W, C = x.shape
    return x.view(B, H // Mh, Mh, W // Mw, Mw, C).permute(0, 1, 3, 2, 4, 5).reshape(-1, Mh, Mw, C)


def rect_loops(x, Mh, Mw):
    B, H, W, C = x.shape
    return torch.stack([x[b, i:i + Mh, j:j + Mw] for b in range(B) for i in range(0, H, Mh)
                        for j in range(0, W, Mw)])


def rect_unfold(x, Mh, Mw):
    B, H, W, C = x.shape
    cols = F.unfold(x.permute(0, 3, 1, 2), kernel_size=(Mh, Mw), stride=(Mh, Mw))  # [B, C*Mh*Mw, nW]
    return cols.view(B, C, Mh, Mw, -1).permute(0, 4, 2, 3, 1).reshape(-1, Mh, Mw, C)


def test_window_partition_rect_right_in_other_styles():
    for fn in (rect_einops, rect_view_permute, rect_loops, rect_unfold):
        result = check_window_partition_rect(fn)
        assert result.passed, f"{fn.__name__}: {result}"


def test_window_partition_rect_with_square_windows_is_the_package():
    x = torch.randn(2, 8, 12, 3)
    assert torch.equal(ch03._partition_rect(x, 4, 4), swin_edu.window_partition(x, 4))


def rect_swapped(x, Mh, Mw):
    B, H, W, C = x.shape
    return x.view(B, H // Mw, Mw, W // Mh, Mh, C).permute(0, 1, 3, 2, 4, 5).reshape(-1, Mw, Mh, C)


def rect_swapped_reshaped(x, Mh, Mw):
    return rect_swapped(x, Mh, Mw).reshape(-1, Mh, Mw, x.shape[-1])


def rect_square(x, Mh, Mw):
    return rect_view_permute(x, Mh, Mh)


def rect_column_major(x, Mh, Mw):
    B, H, W, C = x.shape
    return x.view(B, H // Mh, Mh, W // Mw, Mw, C).permute(0, 3, 1, 2, 4, 5).reshape(-1, Mh, Mw, C)


def rect_batch_last(x, Mh, Mw):
    B, H, W, C = x.shape
    return x.view(B, H // Mh, Mh, W // Mw, Mw, C).permute(1, 3, 0, 2, 4, 5).reshape(-1, Mh, Mw, C)


def rect_no_permute(x, Mh, Mw):
    return x.reshape(-1, Mh, Mw, x.shape[-1])


def rect_transposed(x, Mh, Mw):
    return rect_view_permute(x, Mh, Mw).transpose(1, 2)


RECT_WRONG = [(rect_swapped, "Mh-Mw-swapped", "Mh and Mw are swapped"),
              (rect_swapped_reshaped, "Mh-Mw-swapped-reshaped", "the shape is right, the tokens are not"),
              (rect_square, "square-windows", "Mh x Mh squares"),
              (rect_column_major, "column-major", "column-major"),
              (rect_batch_last, "batch-last", "grouped by position"),
              (rect_no_permute, "reshape-without-permute", "without moving the axes"),
              (rect_transposed, "transposed-window", "transposed")]


def test_window_partition_rect_mistakes_are_named():
    assert {name for _, name, _ in RECT_WRONG} == {m.name for m in ch03.RECT_MISTAKES}
    for fn, name, phrase in RECT_WRONG:
        result = check_window_partition_rect(fn)
        assert result.status == "failed" and result.mistake == name, f"{fn.__name__}: {result}"
        assert phrase in str(result) and "(notebook 03, section 2. Window partition and reverse)" in str(result)
        assert len(str(result).splitlines()) <= 12


def test_window_partition_rect_report_draws_the_window_ids():
    report = str(check_window_partition_rect(rect_column_major))
    assert "  0 0 1 1  | 0 0 2 2" in report.splitlines() and "  2 2 3 3  | 1 1 3 3" in report.splitlines()


def test_window_partition_rect_stubs_errors_and_odd_answers():
    def stub(x, Mh, Mw):
        raise NotImplementedError()

    for fn in (stub, lambda *args: None, None):
        assert check_window_partition_rect(fn).status == "not attempted"
    assert check_window_partition_rect(lambda x, Mh, Mw: x.view(5, -1, 3)).status == "error"
    for odd in (lambda *a: "windows", lambda *a: torch.zeros(2), lambda *a: rect_einops(*a).double(),
                lambda *a: rect_einops(*a).flip(0), lambda *a: rect_einops(*a)[..., :1]):
        result = check_window_partition_rect(odd)
        assert result.status == "failed" and result.mistake is None, str(result)


def test_window_partition_rect_must_let_the_gradient_through():
    result = check_window_partition_rect(lambda x, Mh, Mw: rect_loops(x.detach(), Mh, Mw))
    assert result.status == "failed" and "gradient" in str(result), str(result)


# --- the student-tester's unnamed or misnamed attempts --------------------------------------------

def test_attention_of_one_window_is_not_taken_for_m_instead_of_m_squared():
    # on the first case (8x8, M = 4) hw = M^3, so 2 M^4 C equals 2 M hw C: every case must agree
    result = check_wmsa_macs(lambda h, w, C, M: 4 * h * w * C * C + 2 * M**4 * C)
    assert result.mistake == "attention-of-one-window", str(result)
    assert "ONE window" in str(result) and "M instead of" not in str(result)
    assert check_wmsa_macs(lambda h, w, C, M: 4 * h * w * C * C + 2 * M * h * w * C).mistake == "M-not-squared"


def test_more_cost_mistakes_are_named():
    for fn, name in [(lambda h, w, C, M: 4 * M * M * C * C + 2 * M**4 * C, "one-window-only"),
                     (lambda h, w, C, M: 4 * h * w * C * C + 2 * M * M * h * w, "attention-without-C")]:
        assert check_wmsa_macs(fn).mistake == name, str(check_wmsa_macs(fn))


def test_more_msa_twice_wmsa_tokens_mistakes_are_named():
    from swin_edu.exercises import check_msa_twice_wmsa_tokens
    for value, name in [(2 * 96 + 2 * 7, "M-not-squared"), (1.5 * 96 + 2 * 49, "three-projections"),
                        (290**0.5, "side-not-tokens-exact"), (2 * 96 + 49, "attention-counted-once"),
                        (580, "doubled-answer")]:
        result = check_msa_twice_wmsa_tokens(lambda: value)
        assert result.mistake == name and "290" not in str(result), str(result)


def test_strided_windows_and_a_transposed_window_on_the_way_back_are_named():
    result = check_window_partition(lambda x, M: rearrange(x, "b (m1 h) (m2 w) c -> (b h w) m1 m2 c", m1=M, m2=M))
    assert result.mistake == "strided-windows", str(result)
    result = check_window_reverse(lambda w, M, H, W: rearrange(w, "(b h w) m1 m2 c -> b (h m2) (w m1) c",
                                                               h=H // M, w=W // M))
    assert result.mistake == "transposed-window" and "transposed" in str(result), str(result)
