"""Exercises of notebook 05: right answers in several styles pass, each common mistake (written here
independently of the catalogue) gets its own diagnosis, broken answers get a clear report."""
import torch
from einops import rearrange

import swin_edu
from swin_edu import relative_position_bias, relative_position_index
from swin_edu.exercises import (check_bias_parameters_swin_t, check_relative_position_bias,
                                check_relative_position_index)


# --- relative_position_index: right answers in other styles ----------------------------------------

def index_loops(M):
    N = M * M
    out = torch.empty(N, N, dtype=torch.long)
    for i in range(N):
        for j in range(N):
            dy, dx = i // M - j // M, i % M - j % M
            out[i, j] = (dy + M - 1) * (2 * M - 1) + (dx + M - 1)
    return out


def index_timm_style(M):
    coords = torch.stack(torch.meshgrid(torch.arange(M), torch.arange(M), indexing="ij"))  # [2, M, M]
    flat = torch.flatten(coords, 1)
    rel = (flat[:, :, None] - flat[:, None, :]).permute(1, 2, 0).contiguous()  # [N, N, 2]
    rel[:, :, 0] += M - 1
    rel[:, :, 1] += M - 1
    rel[:, :, 0] *= 2 * M - 1
    return rel.sum(-1)


def index_cartesian(M):
    yx = torch.cartesian_prod(torch.arange(M), torch.arange(M))  # [N, 2], row-major
    d = yx[:, None, :] - yx[None, :, :] + (M - 1)
    return d[..., 0] * (2 * M - 1) + d[..., 1]


def test_relative_position_index_right_in_other_styles():
    for fn in (index_loops, index_timm_style, index_cartesian):
        result = check_relative_position_index(fn)
        assert result.passed, f"{fn.__name__}: {result}"


# --- relative_position_index: the catalogued mistakes, written independently -----------------------

def _rel(M, indexing="ij"):
    ys, xs = torch.meshgrid(torch.arange(M), torch.arange(M), indexing=indexing)
    y, x = ys.flatten(), xs.flatten()
    return y[:, None] - y[None, :], x[:, None] - x[None, :]


def index_no_shift(M):
    dy, dx = _rel(M)
    return dy * (2 * M - 1) + dx


def index_dx_not_shifted(M):
    dy, dx = _rel(M)
    return (dy + M - 1) * (2 * M - 1) + dx


def index_times_m(M):
    dy, dx = _rel(M)
    return (dy + M - 1) * M + dx + M - 1


def index_meshgrid_xy(M):
    dy, dx = _rel(M, indexing="xy")
    return (dy + M - 1) * (2 * M - 1) + dx + M - 1


def index_key_minus_query(M):
    ys, xs = torch.meshgrid(torch.arange(M), torch.arange(M), indexing="ij")
    y, x = ys.flatten(), xs.flatten()
    dy, dx = y[None, :] - y[:, None], x[None, :] - x[:, None]
    return (dy + M - 1) * (2 * M - 1) + dx + M - 1


def index_float(M):
    t = torch.arange(M * M, dtype=torch.float32)
    y, x = torch.div(t, M, rounding_mode="floor"), t % M
    return (y[:, None] - y[None, :] + M - 1) * (2 * M - 1) + (x[:, None] - x[None, :] + M - 1)


def test_relative_position_index_mistakes_are_named():
    for fn, name, phrase in [(index_no_shift, "no-shift", "missing the shift by M-1"),
                             (index_dx_not_shifted, "dx-not-shifted", "shifted dy by M-1 but not dx"),
                             (index_times_m, "multiplier-M", "by M instead of 2M-1"),
                             (index_meshgrid_xy, "dy-dx-swapped", "swapped roles"),
                             (index_key_minus_query, "key-minus-query", "key minus query"),
                             (index_float, "float-index", "dtype")]:
        result = check_relative_position_index(fn)
        assert result.status == "failed" and result.mistake == name, f"{fn.__name__}: {result}"
        assert phrase in str(result) and "notebook 05, section 2. The index, step by step" in str(result)


def test_index_report_draws_the_index():
    report = str(check_relative_position_index(index_no_shift))
    assert "index[i, j] for M = 2" in report
    assert any(line.rstrip().endswith("|  0 -1 -3 -4") for line in report.splitlines()), report


def test_relative_position_index_broken_answers():
    def wrong_shape(M):
        return index_loops(M).flatten()

    def wrong_dtype(M):
        return index_loops(M).bool()

    def raises(M):
        return torch.arange(M)[M]

    def corrupt(M):
        out = index_loops(M)
        out[0, 1] += 1
        return out

    shape = check_relative_position_index(wrong_shape)
    assert shape.status == "failed" and "wrong shape: expected [4, 4], got [16]" in str(shape)
    dtype = check_relative_position_index(wrong_dtype)
    assert dtype.status == "failed" and "dtype" in str(dtype) and dtype.mistake is None
    error = check_relative_position_index(raises)
    assert error.status == "error" and "IndexError" in str(error)
    mismatch = check_relative_position_index(corrupt)
    assert mismatch.status == "failed" and mismatch.mistake is None
    assert "first at index [0, 1]: expected 3, got 4" in str(mismatch)

    def stub(M):
        raise NotImplementedError()

    def ellipsis(M):
        ...

    for fn in (stub, ellipsis, lambda M: None):
        assert check_relative_position_index(fn).status == "not attempted"


# --- relative_position_bias: right answers in other styles -----------------------------------------

def bias_einops(table, index):
    return rearrange(table[index], "i j h -> h i j")


def bias_per_head(table, index):
    return torch.stack([table[:, h][index] for h in range(table.shape[1])])


def bias_transposed_table(table, index):
    return table.T[:, index]


def bias_index_select(table, index):
    N = index.shape[0]
    return table.index_select(0, index.flatten()).T.reshape(-1, N, N)


def test_relative_position_bias_right_in_other_styles():
    for fn in (bias_einops, bias_per_head, bias_transposed_table, bias_index_select):
        result = check_relative_position_bias(fn)
        assert result.passed, f"{fn.__name__}: {result}"


# --- relative_position_bias: the catalogued mistakes, written independently -------------------------

def bias_no_permute(table, index):
    return table[index]


def bias_reshape(table, index):
    N = index.shape[0]
    return table[index].reshape(table.shape[1], N, N)


def bias_wrong_permute(table, index):
    return table[index].permute(2, 1, 0)


def bias_index_t(table, index):
    return rearrange(table[index.t()], "i j h -> h i j")


def test_relative_position_bias_mistakes_are_named():
    for fn, name, phrase in [(bias_no_permute, "no-permute", "you return [N, N, nH]"),
                             (bias_reshape, "view-not-permute", "with view/reshape"),
                             (bias_wrong_permute, "transposed-index", "matrix is transposed"),
                             (bias_index_t, "transposed-index", "matrix is transposed")]:
        result = check_relative_position_bias(fn)
        assert result.status == "failed" and result.mistake == name, f"{fn.__name__}: {result}"
        assert phrase in str(result) and "notebook 05, section 3. From the table to one bias matrix per head" in str(result)
    assert check_relative_position_bias(bias_reshape).case == "M = 2, 3 heads"  # one head cannot tell


def test_relative_position_bias_broken_answers():
    def wrong_dtype(table, index):
        return bias_einops(table, index).float()

    def wrong_shape(table, index):
        return bias_einops(table, index)[None]

    def raises(table, index):
        return table[:, index]  # the table is [(2M-1)^2, nH], not [nH, (2M-1)^2]

    def corrupt(table, index):
        return bias_einops(table, index) * 2

    dtype = check_relative_position_bias(wrong_dtype)
    assert dtype.status == "failed" and "dtype" in str(dtype) and dtype.case == "M = 4, 4 heads, float64 table"
    shape = check_relative_position_bias(wrong_shape)
    assert shape.status == "failed" and "wrong shape: expected [1, 4, 4], got [1, 1, 4, 4]" in str(shape)
    error = check_relative_position_bias(raises)
    assert error.status == "error" and "IndexError" in str(error)
    mismatch = check_relative_position_bias(corrupt)
    assert mismatch.status == "failed" and mismatch.mistake is None and "first at index [0, 0, 0]" in str(mismatch)
    for fn in (lambda table, index: None, lambda table, index: ...):
        assert check_relative_position_bias(fn).status == "not attempted"


def test_references_are_the_package():
    assert check_relative_position_index(relative_position_index).passed
    assert check_relative_position_bias(relative_position_bias).passed


# --- bias_parameters_swin_t -------------------------------------------------------------------------

def test_bias_parameters_answer_is_the_real_swin_t():
    model = swin_edu.swin_t()
    count = sum(p.numel() for name, p in model.named_parameters() if name.endswith("relative_position_bias_table"))
    assert check_bias_parameters_swin_t(lambda: count).passed


def test_bias_parameters_swin_t():
    rows, depths, heads = 13 ** 2, (2, 2, 6, 2), (3, 6, 12, 24)
    blocks_heads = sum(d * h for d, h in zip(depths, heads))
    assert check_bias_parameters_swin_t(lambda: rows * blocks_heads).passed
    assert check_bias_parameters_swin_t(lambda: float(rows * blocks_heads)).passed
    for value, name in [(rows * sum(heads), "one-table-per-stage"), (rows * sum(depths), "one-column"),
                        (49 * blocks_heads, "M-squared-rows"), (13 * blocks_heads, "2M-1-rows"),
                        (49 * 49 * blocks_heads, "bias-entries")]:
        result = check_bias_parameters_swin_t(lambda v=value: v)
        assert result.status == "failed" and result.mistake == name, str(result)
    other = check_bias_parameters_swin_t(lambda: rows * blocks_heads + 1)
    assert other.status == "failed" and other.mistake is None

    def stub():
        raise NotImplementedError()

    assert check_bias_parameters_swin_t(stub).status == "not attempted"
    error = check_bias_parameters_swin_t(lambda: {}["table"])
    assert error.status == "error" and "KeyError" in str(error)


# --- issue 16: the bias is part of a model, one dtype rule -------------------------------------------

def test_relative_position_bias_must_let_the_gradient_reach_the_table():
    def detached(table, index):
        return table.detach()[index].permute(2, 0, 1)

    def data(table, index):
        return table.data[index].permute(2, 0, 1)

    def numpy_round_trip(table, index):
        return torch.from_numpy(table.detach().numpy()[index.numpy()]).permute(2, 0, 1)

    for fn in (detached, data, numpy_round_trip):
        result = check_relative_position_bias(fn)
        assert result.status == "failed" and "gradient" in str(result) and "`table`" in str(result), str(result)
    assert check_relative_position_bias(bias_einops).passed


def test_relative_position_index_must_be_int64():
    result = check_relative_position_index(lambda M: index_loops(M).int())
    assert result.status == "failed" and "int64" in str(result), str(result)


# --- transfer: relative_position_index_3d (Video Swin's 3-D window; Md = 1: a rectangle) ------------

import pytest  # noqa: E402

from swin_edu.exercises import check_relative_position_index_3d  # noqa: E402
from swin_edu.exercises import ch05_relative_position as ch05  # noqa: E402


def index3d_video_swin(Md, Mh, Mw):  # Video Swin's WindowAttention3D, as written there
    coords = torch.stack(torch.meshgrid(torch.arange(Md), torch.arange(Mh), torch.arange(Mw), indexing="ij"))
    coords_flatten = torch.flatten(coords, 1)
    relative_coords = (coords_flatten[:, :, None] - coords_flatten[:, None, :]).permute(1, 2, 0).contiguous()
    relative_coords[:, :, 0] += Md - 1
    relative_coords[:, :, 1] += Mh - 1
    relative_coords[:, :, 2] += Mw - 1
    relative_coords[:, :, 0] *= (2 * Mh - 1) * (2 * Mw - 1)
    relative_coords[:, :, 1] *= (2 * Mw - 1)
    return relative_coords.sum(-1)


def index3d_divmod(Md, Mh, Mw):  # token t -> (t // (Mh*Mw), t // Mw % Mh, t % Mw), Horner's form
    t = torch.arange(Md * Mh * Mw)
    d, h, w = t // (Mh * Mw), t // Mw % Mh, t % Mw
    dd, dh, dw = d[:, None] - d, h[:, None] - h, w[:, None] - w
    return ((dd + Md - 1) * (2 * Mh - 1) + dh + Mh - 1) * (2 * Mw - 1) + dw + Mw - 1


def index3d_loops(Md, Mh, Mw):
    tokens = [(d, h, w) for d in range(Md) for h in range(Mh) for w in range(Mw)]
    table = {}  # offset -> row of the table, in (dd, dh, dw) row-major order
    for dd in range(-(Md - 1), Md):
        for dh in range(-(Mh - 1), Mh):
            for dw in range(-(Mw - 1), Mw):
                table[(dd, dh, dw)] = len(table)
    return torch.tensor([[table[(q[0] - k[0], q[1] - k[1], q[2] - k[2])] for k in tokens] for q in tokens])


def test_relative_position_index_3d_right_in_other_styles():
    for fn in (index3d_video_swin, index3d_divmod, index3d_loops):
        result = check_relative_position_index_3d(fn)
        assert result.passed, f"{fn.__name__}: {result}"


@pytest.mark.parametrize("Mh, Mw", [(2, 3), (3, 2), (7, 7), (4, 5)])
def test_relative_position_index_3d_flat_is_timms_rectangle(Mh, Mw):
    timm_swin = pytest.importorskip("timm.models.swin_transformer")
    assert torch.equal(ch05._index_3d(1, Mh, Mw), timm_swin.get_relative_position_index(Mh, Mw))


def test_relative_position_index_3d_square_is_the_package():
    assert torch.equal(ch05._index_3d(1, 7, 7), relative_position_index(7))


def _offsets3d(Md, Mh, Mw):
    t = torch.arange(Md * Mh * Mw)
    d, h, w = t // (Mh * Mw), t // Mw % Mh, t % Mw
    return d[:, None] - d, h[:, None] - h, w[:, None] - w


def index3d_row_mult_mh(Md, Mh, Mw):
    dd, dh, dw = _offsets3d(Md, Mh, Mw)
    return (dd + Md - 1) * (2 * Mh - 1) * (2 * Mw - 1) + (dh + Mh - 1) * (2 * Mh - 1) + dw + Mw - 1


def index3d_time_mult_small(Md, Mh, Mw):
    dd, dh, dw = _offsets3d(Md, Mh, Mw)
    return (dd + Md - 1) * (2 * Mh - 1) + (dh + Mh - 1) * (2 * Mw - 1) + dw + Mw - 1


def index3d_no_shift(Md, Mh, Mw):
    dd, dh, dw = _offsets3d(Md, Mh, Mw)
    return dd * (2 * Mh - 1) * (2 * Mw - 1) + dh * (2 * Mw - 1) + dw


def index3d_key_minus_query(Md, Mh, Mw):
    dd, dh, dw = (-o for o in _offsets3d(Md, Mh, Mw))
    return (dd + Md - 1) * (2 * Mh - 1) * (2 * Mw - 1) + (dh + Mh - 1) * (2 * Mw - 1) + dw + Mw - 1


def index3d_reversed(Md, Mh, Mw):
    dd, dh, dw = _offsets3d(Md, Mh, Mw)
    return (dw + Mw - 1) * (2 * Mh - 1) * (2 * Md - 1) + (dh + Mh - 1) * (2 * Md - 1) + dd + Md - 1


def index3d_sides(Md, Mh, Mw):
    dd, dh, dw = _offsets3d(Md, Mh, Mw)
    return (dd + Md - 1) * Mh * Mw + (dh + Mh - 1) * Mw + dw + Mw - 1


def index3d_w_slowest(Md, Mh, Mw):  # tokens numbered w slowest, d fastest
    t = torch.arange(Md * Mh * Mw)
    w, h, d = t // (Mh * Md), t // Md % Mh, t % Md
    dd, dh, dw = d[:, None] - d, h[:, None] - h, w[:, None] - w
    return (dd + Md - 1) * (2 * Mh - 1) * (2 * Mw - 1) + (dh + Mh - 1) * (2 * Mw - 1) + dw + Mw - 1


INDEX3D_WRONG = [(index3d_row_mult_mh, "row-multiplier-2Mh-1", "multiplied the shifted dh by 2Mh-1"),
                 (index3d_time_mult_small, "time-multiplier-too-small", "multiplied the shifted dd by 2Mh-1 only"),
                 (index3d_no_shift, "no-shift", "missing the shifts"),
                 (index3d_key_minus_query, "key-minus-query", "key minus query"),
                 (index3d_reversed, "axes-reversed", "dw slowest and dd fastest"),
                 (index3d_sides, "multiplier-M", "window sides"),
                 (index3d_w_slowest, "tokens-w-slowest", "numbered the tokens with w slowest")]


def test_relative_position_index_3d_mistakes_are_named():
    assert {name for _, name, _ in INDEX3D_WRONG} == {m.name for m in ch05.INDEX_3D_MISTAKES}
    for fn, name, phrase in INDEX3D_WRONG:
        result = check_relative_position_index_3d(fn)
        assert result.status == "failed" and result.mistake == name, f"{fn.__name__}: {result}"
        assert phrase in str(result) and "(notebook 05, section" in str(result)
        assert len(str(result).splitlines()) <= 12


def test_relative_position_index_3d_stubs_errors_and_odd_answers():
    def stub(Md, Mh, Mw):
        raise NotImplementedError()

    for fn in (stub, lambda *args: None, None):
        assert check_relative_position_index_3d(fn).status == "not attempted"
    assert check_relative_position_index_3d(lambda Md, Mh, Mw: torch.arange(5).view(2, 3)).status == "error"
    for odd in (lambda *a: 7, lambda *a: index3d_divmod(*a).float(), lambda *a: index3d_divmod(*a) + 1,
                lambda *a: index3d_divmod(*a)[:-1], lambda *a: index3d_divmod(*a).tolist()):
        result = check_relative_position_index_3d(odd)
        assert result.status == "failed" and result.mistake is None, str(result)


# --- the student-tester's unnamed or half-named attempts ------------------------------------------

def _D(a, L):
    return a[:, None] - a[None, :] + L - 1


def test_more_index_mistakes_are_named():
    from swin_edu.exercises import check_relative_position_index

    def mult_2m(M):
        t = torch.arange(M * M)
        return _D(t // M, M) * (2 * M) + _D(t % M, M)

    def column_major(M):
        t = torch.arange(M * M)
        return _D(t % M, M) * (2 * M - 1) + _D(t // M, M)

    assert check_relative_position_index(mult_2m).mistake == "multiplier-2M"
    assert "column by column" in str(check_relative_position_index(column_major))


def test_more_bias_parameter_mistakes_are_named():
    from swin_edu.exercises import check_bias_parameters_swin_t
    for value, name in [(225 * 138, "2M+1-side"), (169 * (2 * 3 + 2 * 6 + 2 * 12 + 6 * 24), "depths-misread"),
                        (169 * 138 // 2, "shifted-blocks-only")]:
        assert check_bias_parameters_swin_t(lambda: value).mistake == name


def index3d_frame_column_row(Md, Mh, Mw):  # the student-tester's: h fastest inside each frame
    t = torch.arange(Md * Mh * Mw)
    d, h, w = t // (Mh * Mw), t % Mh, (t // Mh) % Mw
    return _D(d, Md) * (2 * Mh - 1) * (2 * Mw - 1) + _D(h, Mh) * (2 * Mw - 1) + _D(w, Mw)


def index3d_dd_wrong_sides(Md, Mh, Mw):
    t = torch.arange(Md * Mh * Mw)
    d, h, w = t // (Mh * Mw), (t // Mw) % Mh, t % Mw
    return _D(d, Md) * (2 * Md - 1) * (2 * Mh - 1) + _D(h, Mh) * (2 * Mw - 1) + _D(w, Mw)


INDEX3D_WRONG += [(index3d_frame_column_row, "tokens-column-major", "column by column"),
                  (index3d_dd_wrong_sides, "time-multiplier-wrong-sides", "(2Md-1)(2Mh-1)")]


def test_3d_tokens_column_major_is_worded_for_the_case():
    from swin_edu.exercises import check_relative_position_index_3d
    result = check_relative_position_index_3d(index3d_frame_column_row)
    assert result.mistake == "tokens-column-major" and "next frame" not in str(result), str(result)
    result = check_relative_position_index_3d(index3d_w_slowest)  # first fails on a one-frame window
    assert "Md = 1" in str(result) and "one below" in str(result), str(result)
