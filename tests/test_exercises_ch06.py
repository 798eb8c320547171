"""The checks of notebook 06's exercises: right answers in several styles pass, every catalogued
mistake (written again here, independently) gets its own diagnosis, and nothing makes a check raise."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from einops import rearrange

from swin_edu import SwinTransformer, window_partition, window_reverse
from swin_edu.exercises import check_drop_path_rates, check_shifted_blocks_swin_t, check_swin_block_forward
from swin_edu.exercises.ch06_whole_swin import BLOCK_MISTAKES, RATES_MISTAKES, drop_path_rates

# ---------------------------------------------------------------------------------------------
# swin_block_forward: right answers
# ---------------------------------------------------------------------------------------------


def block_einops(block, x):
    """The notebook's style: package window helpers, einops, torch.roll."""
    B, H, W, C = x.shape
    M, s = block.window_size, block.shift_size
    h = block.norm1(x)
    if s:
        h = torch.roll(h, shifts=(-s, -s), dims=(1, 2))
    windows = rearrange(window_partition(h, M), "bw m1 m2 c -> bw (m1 m2) c")
    windows = block.attn(windows, block.attn_mask)
    h = window_reverse(rearrange(windows, "bw (m1 m2) c -> bw m1 m2 c", m1=M), M, H, W)
    if s:
        h = torch.roll(h, shifts=(s, s), dims=(1, 2))
    x = x + h
    return x + block.mlp(block.norm2(x))


def block_view_gather(block, x):
    """view/permute windows and the cyclic shift as index arithmetic (no torch.roll, no helpers)."""
    B, H, W, C = x.shape
    M, s = block.window_size, block.shift_size
    rows, cols = (torch.arange(H) + s) % H, (torch.arange(W) + s) % W  # rolled[i] = x[(i + s) % H]
    h = block.norm1(x)[:, rows][:, :, cols]
    windows = h.view(B, H // M, M, W // M, M, C).permute(0, 1, 3, 2, 4, 5).reshape(-1, M * M, C)
    windows = block.attn(windows, block.attn_mask)
    h = windows.view(B, H // M, W // M, M, M, C).permute(0, 1, 3, 2, 4, 5).reshape(B, H, W, C)
    back = torch.empty_like(h)
    back[:, rows[:, None], cols[None, :]] = h  # undo the shift: put rolled[i] back at (i + s) % H
    x = x + back
    return x + block.mlp(block.norm2(x))


def block_loops(block, x):
    """An explicit loop over images and windows, LayerNorm and MLP written out with F."""
    B, H, W, C = x.shape
    M, s = block.window_size, block.shift_size
    n1, n2, mlp = block.norm1, block.norm2, block.mlp
    h = F.layer_norm(x, (C,), n1.weight, n1.bias, n1.eps)
    h = torch.roll(h, (-s, -s), (1, 2))
    out = torch.zeros_like(h)
    for b in range(B):
        k = 0
        for wy in range(H // M):
            for wx in range(W // M):
                tokens = h[b, wy * M:(wy + 1) * M, wx * M:(wx + 1) * M].reshape(1, M * M, C)
                mask = None if block.attn_mask is None else block.attn_mask[k:k + 1]
                out[b, wy * M:(wy + 1) * M, wx * M:(wx + 1) * M] = block.attn(tokens, mask).view(M, M, C)
                k += 1
    x = x + torch.roll(out, (s, s), (1, 2))
    z = F.layer_norm(x, (C,), n2.weight, n2.bias, n2.eps)
    return x + mlp.fc2(F.gelu(mlp.fc1(z)))


@pytest.mark.parametrize("fn", [block_einops, block_view_gather, block_loops])
def test_block_right_answers_pass(fn):
    result = check_swin_block_forward(fn)
    assert result.passed, result.report
    assert "7 cases" in str(result) and "non-square" in str(result) and "float64" in str(result)


# ---------------------------------------------------------------------------------------------
# swin_block_forward: the catalogue, written again independently
# ---------------------------------------------------------------------------------------------

def _msa(block, h, first=None, back=None, use_mask=True, dims=(1, 2)):
    """(S)W-MSA of a normalised map with view/permute windows and chosen rolls."""
    B, H, W, C = h.shape
    M, s = block.window_size, block.shift_size
    if s:
        h = torch.roll(h, (-s, -s) if first is None else first, dims)
    win = h.reshape(B, H // M, M, W // M, M, C).transpose(2, 3).reshape(-1, M * M, C)
    win = block.attn(win, block.attn_mask if use_mask else None)
    h = win.reshape(B, H // M, W // M, M, M, C).transpose(2, 3).reshape(B, H, W, C)
    if s and back != "none":
        h = torch.roll(h, (s, s) if back is None else back, dims)
    return h


def wrong_no_roll_back(block, x):
    x = x + _msa(block, block.norm1(x), back="none")
    return x + block.mlp(block.norm2(x))


def wrong_roll_twice(block, x):
    s = block.shift_size
    x = x + _msa(block, block.norm1(x), back=(-s, -s))
    return x + block.mlp(block.norm2(x))


def wrong_plus_first(block, x):
    s = block.shift_size
    x = x + _msa(block, block.norm1(x), first=(s, s), back=(-s, -s))
    return x + block.mlp(block.norm2(x))


def wrong_no_mask(block, x):
    x = x + _msa(block, block.norm1(x), use_mask=False)
    return x + block.mlp(block.norm2(x))


def wrong_dims(block, x):
    x = x + _msa(block, block.norm1(x), dims=(2, 3))
    return x + block.mlp(block.norm2(x))


def wrong_post_norm(block, x):
    x = block.norm1(x + _msa(block, x))
    return block.norm2(x + block.mlp(x))


def wrong_residual_of_normalised(block, x):
    h = block.norm1(x)
    x = h + _msa(block, h)
    return x + block.mlp(block.norm2(x))


def wrong_no_attention_residual(block, x):
    x = _msa(block, block.norm1(x))
    return x + block.mlp(block.norm2(x))


def wrong_no_mlp_residual(block, x):
    x = x + _msa(block, block.norm1(x))
    return block.mlp(block.norm2(x))


def wrong_no_norm2(block, x):
    x = x + _msa(block, block.norm1(x))
    return x + block.mlp(x)


def wrong_norm1_twice(block, x):
    x = x + _msa(block, block.norm1(x))
    return x + block.mlp(block.norm1(x))


BLOCK_WRONG = [
    (wrong_no_roll_back, "roll-not-undone", "roll the map back after window_reverse"),
    (wrong_roll_twice, "rolled-twice-same-way", "rolled by (-s, -s) twice"),
    (wrong_plus_first, "roll-plus-first", "rolls go the wrong way round"),
    (wrong_no_mask, "mask-forgotten", "pass block.attn_mask"),
    (wrong_dims, "roll-wrong-dims", "dims=(1, 2)"),
    (lambda block, x: _dims_0_1(block, x), "roll-dims-0-1", "notebook 04's two-dimensional example"),
    (wrong_post_norm, "post-norm", "Swin is pre-norm"),
    (wrong_residual_of_normalised, "residual-of-normalised", "residual adds the normalised input"),
    (wrong_no_attention_residual, "no-attention-residual", "residual connection around the attention"),
    (wrong_no_mlp_residual, "no-mlp-residual", "residual connection around the MLP"),
    (wrong_no_norm2, "no-norm2", "without LayerNorm"),
    (wrong_norm1_twice, "norm1-twice", "norm2 before the MLP"),
    (lambda block, x: _student_block(prenorm=False)(block, x), "norm-after-attention", "AFTER the attention"),
    (lambda block, x: _student_block(roll=False)(block, x), "no-roll", "never rolls"),
]


def test_block_catalogue_is_covered():
    assert {name for _, name, _ in BLOCK_WRONG} == {m.name for m in BLOCK_MISTAKES}


@pytest.mark.parametrize("fn, name, phrase", BLOCK_WRONG, ids=[n for _, n, _ in BLOCK_WRONG])
def test_block_mistakes_are_diagnosed(fn, name, phrase):
    result = check_swin_block_forward(fn)
    assert result.status == "failed" and result.mistake == name, result.report
    assert phrase in str(result) and "notebook 06" in str(result)


def test_block_shift_mistakes_show_where_the_tokens_are_wrong():
    result = check_swin_block_forward(wrong_no_mask)
    assert "SW-MSA" in result.case and "tokens of image 0 whose output is wrong" in str(result)


# ---------------------------------------------------------------------------------------------
# swin_block_forward: stubs, errors, wrong shapes and dtypes, unexplained answers
# ---------------------------------------------------------------------------------------------

def stub_raise(block, x):
    raise NotImplementedError()


def stub_ellipsis(block, x):
    ...


def stub_none(block, x):
    return None


@pytest.mark.parametrize("fn", [stub_raise, stub_ellipsis, stub_none, None])
def test_block_stub_is_not_attempted(fn):
    result = check_swin_block_forward(fn)
    assert result.status == "not attempted" and "not attempted yet" in str(result)


def test_block_error_is_reported():
    def raises(block, x):
        return x + block.attention(x)  # no such attribute

    result = check_swin_block_forward(raises)
    assert result.status == "error" and "AttributeError" in str(result) and "block.attention" in str(result)


def test_block_h_and_w_swapped_is_an_error_on_the_first_non_square_map():
    def swapped(block, x):
        B, H, W, C = x.shape
        M, s = block.window_size, block.shift_size
        h = torch.roll(block.norm1(x), (-s, -s), (1, 2))
        windows = block.attn(window_partition(h, M).flatten(1, 2), block.attn_mask)
        h = window_reverse(windows.unflatten(1, (M, M)), M, W, H)  # H and W swapped
        x = x + torch.roll(h, (s, s), (1, 2))
        return x + block.mlp(block.norm2(x))

    result = check_swin_block_forward(swapped)
    # the map comes back [B, W, H, C]: adding it to x raises, reported with the learner's line
    assert result.status == "error" and "non-square" in result.case and "RuntimeError" in str(result)


def test_block_wrong_shape_and_dtype():
    shape = check_swin_block_forward(lambda block, x: block(x)[:, :, :, :-1])
    assert shape.status == "failed" and "shape" in str(shape) and shape.mistake is None
    dtype = check_swin_block_forward(lambda block, x: block(x).double())
    assert dtype.status == "failed" and "dtype" in str(dtype)


def test_block_unexplained_wrong_answer():
    result = check_swin_block_forward(lambda block, x: block(x) * 1.01)
    assert result.status == "failed" and result.mistake is None
    assert "first at index" in str(result) and "call: swin_block_forward(block, x); block SwinBlock float32" in str(result)


def test_block_not_a_function():
    result = check_swin_block_forward(3)
    assert result.status == "failed" and "expected a function" in str(result)


def test_block_check_leaves_the_global_rng_alone():
    state = torch.get_rng_state()
    check_swin_block_forward(block_einops)
    assert torch.equal(state, torch.get_rng_state())


# ---------------------------------------------------------------------------------------------
# drop_path_rates
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("depths, rate", [((2, 2), 0.1), ((2, 6, 2), 0.1), ((2, 2, 6, 2), 0.2), ((4, 2), 0.0),
                                         ((1,), 0.3)])
def test_rates_reference_is_what_the_model_sets(depths, rate):
    """Including a model with one block, which gets [[0.0]] (linspace(0, r, 1)), as the homework says."""
    model = SwinTransformer(img_size=32, patch_size=2, embed_dim=8, depths=depths, num_heads=(1,) * len(depths),
                            window_size=2, drop_path_rate=rate)
    built = [[block.drop_path1.p for block in stage.blocks] for stage in model.layers]
    assert built == drop_path_rates(depths, rate)
    assert built == [[block.drop_path2.p for block in stage.blocks] for stage in model.layers]


def rates_numpy(depths, rate):
    rates = np.linspace(0, rate, sum(depths))
    return [list(part) for part in np.split(rates, np.cumsum(depths)[:-1])]


def rates_arithmetic(depths, rate):
    n, out, k = sum(depths), [], 0
    for d in depths:
        out.append([rate * (k + i) / (n - 1) if n > 1 else 0.0 for i in range(d)])  # one block: [[0.0]]
        k += d
    return out


def rates_tensors(depths, rate):
    return torch.linspace(0, rate, sum(depths)).split(list(depths))  # a tuple of tensors


@pytest.mark.parametrize("fn", [drop_path_rates, rates_numpy, rates_arithmetic, rates_tensors])
def test_rates_right_answers_pass(fn):
    result = check_drop_path_rates(fn)
    assert result.passed, result.report


def rates_first_nonzero(depths, rate):
    n, out, k = sum(depths), [], 0
    for d in depths:
        out.append([rate * (k + i + 1) / n for i in range(d)])
        k += d
    return out


RATES_WRONG = [
    (lambda depths, r: [[r * i / (d - 1) for i in range(d)] for d in depths], "restarted-per-stage",
     "start again from 0 in every stage"),
    (lambda depths, r: rates_arithmetic(depths, r * (sum(depths) - 1) / sum(depths)), "endpoint-excluded",
     "last block gets less"),
    (rates_first_nonzero, "first-block-nonzero", "first block already has"),
    (lambda depths, r: [[r for _ in range(d)] for d in depths], "same-rate-everywhere",
     "every block gets drop_path_rate"),
    (lambda depths, r: [[r * i / (len(depths) - 1)] * d for i, d in enumerate(depths)], "per-stage-constant",
     "rise per stage, not per block"),
    (lambda depths, r: [rate for stage in rates_arithmetic(depths, r) for rate in stage], "flat-list",
     "one flat list"),
    (lambda d, r: [v[::-1] for v in swin_edu_rates(d, r)][::-1], "reversed", "backwards"),
]


def test_rates_catalogue_is_covered():
    assert {name for _, name, _ in RATES_WRONG} == {m.name for m in RATES_MISTAKES}


@pytest.mark.parametrize("fn, name, phrase", RATES_WRONG, ids=[n for _, n, _ in RATES_WRONG])
def test_rates_mistakes_are_diagnosed(fn, name, phrase):
    result = check_drop_path_rates(fn)
    assert result.status == "failed" and result.mistake == name, result.report
    assert phrase in str(result) and "notebook 06, section Drop path: stochastic depth per block" in str(result)


def test_rates_stubs_errors_and_unexplained_answers():
    def stub(depths, rate):
        raise NotImplementedError()

    def body_ellipsis(depths, rate):
        ...

    for fn in (stub, body_ellipsis, lambda depths, rate: None):
        assert check_drop_path_rates(fn).status == "not attempted"

    def divides_by_zero(depths, rate):
        return [[rate / 0] * d for d in depths]

    error = check_drop_path_rates(divides_by_zero)
    assert error.status == "error" and "ZeroDivisionError" in str(error) and "rate / 0" in str(error)

    squared = check_drop_path_rates(lambda depths, r: [[v ** 2 for v in s] for s in drop_path_rates(depths, r)])
    assert squared.status == "failed" and squared.mistake is None
    assert "item 0: item 1" in str(squared) or "item [0][1]" in str(squared)  # stage 0, block 1

    too_few = check_drop_path_rates(lambda depths, r: drop_path_rates(depths, r)[:-1])
    assert too_few.status == "failed" and "items" in str(too_few)

    strings = check_drop_path_rates(lambda depths, r: [[str(v) for v in s] for s in drop_path_rates(depths, r)])
    assert strings.status == "failed" and "return a number" in str(strings)


# ---------------------------------------------------------------------------------------------
# the question: how many of Swin-T's blocks shift?
# ---------------------------------------------------------------------------------------------

def test_shifted_blocks_answer_is_counted_on_a_whole_swin_t():
    # Swin-T's layout (224x224, depths 2-2-6-2) with the question's window M = 14, few channels
    model = SwinTransformer(embed_dim=24, window_size=14)
    blocks = [block for stage in model.layers for block in stage.blocks]
    shifted = sum(block.shift_size > 0 and block.attn_mask is not None for block in blocks)
    assert check_shifted_blocks_swin_t(lambda: shifted).passed
    assert shifted == 2  # stages 1-2 alternate W-MSA and SW-MSA; stages 3 (14x14) and 4 (7x7) are one window


@pytest.mark.parametrize("value", [2, 2.0, torch.tensor(2)])
def test_shifted_blocks_right_value_passes(value):
    assert check_shifted_blocks_swin_t(lambda: value).passed


@pytest.mark.parametrize("value, name, phrase", [(6, "every-second-block", "min(H, W) <= M"),
                                                 (5, "window-7-count", "count for M = 7"),
                                                 (3, "stage-4-shifts", "stage 4"),
                                                 (10, "unshifted-blocks", "do NOT shift"),
                                                 (12, "all-blocks", "every block")])
def test_shifted_blocks_wrong_values_are_diagnosed(value, name, phrase):
    result = check_shifted_blocks_swin_t(lambda: value)
    assert result.status == "failed" and result.mistake == name and phrase in str(result)


def test_shifted_blocks_stub_error_and_unexplained_value():
    def stub():
        raise NotImplementedError()

    assert check_shifted_blocks_swin_t(stub).status == "not attempted"
    assert check_shifted_blocks_swin_t(lambda: None).status == "not attempted"
    unexplained = check_shifted_blocks_swin_t(lambda: 8)  # explained by no mistake
    assert unexplained.status == "failed" and unexplained.mistake is None and "notebook 06" in str(unexplained)
    error = check_shifted_blocks_swin_t(lambda: 1 // 0)
    assert error.status == "error" and "ZeroDivisionError" in str(error)


def test_block_by_calling_the_block_does_not_pass():
    def whole(block, x):
        return block(x)

    def half(block, x):
        z = x + block.shifted_window_attention(block.norm1(x))
        return z + block.mlp(block.norm2(z))

    for fn, phrase in [(whole, "block(x)"), (half, "block.shifted_window_attention")]:
        result = check_swin_block_forward(fn)
        assert result.status == "failed" and f"calls {phrase}" in str(result), str(result)


# --- issue 16: the block is part of a model; every rule of the task is a case ----------------------------

def test_block_under_no_grad_fails():
    def no_grad(block, x):
        with torch.no_grad():  # notebook 06's step-by-step cell is written like this
            return block_einops(block, x)

    result = check_swin_block_forward(no_grad)
    assert result.status == "failed" and "gradient" in str(result) and "no_grad" in str(result), str(result)


def test_block_rolled_along_dims_0_1_is_named():
    """Notebook 04's 2-D example rolls an [H, W] map along dims (0, 1); copied onto [B, H, W, C] it is wrong."""
    result = check_swin_block_forward(_dims_0_1)
    assert result.status == "failed" and result.mistake == "roll-dims-0-1", str(result)
    assert "dims=(1, 2)" in str(result)


def _dims_0_1(block, x):
    x = x + _msa(block, block.norm1(x), dims=(0, 1))
    return x + block.mlp(block.norm2(x))


def test_rates_one_block_rule_is_checked():
    def divides_by_n_minus_1(depths, rate):  # right for two blocks or more
        n = sum(depths)
        flat = [k * rate / (n - 1) for k in range(n)]
        out, start = [], 0
        for d in depths:
            out.append(flat[start:start + d])
            start += d
        return out

    result = check_drop_path_rates(divides_by_n_minus_1)
    report = str(result)
    assert result.status == "error" and "ZeroDivisionError" in report, report
    assert "call: drop_path_rates(depths=(1,), rate=0.1)" in report, report  # the learner's own names


def test_shifted_blocks_question_is_not_printed_by_the_tutorial():
    """Notebook 06, section 3 prints the shifts of the 224x224, M = 7 model: the question asks another one."""
    import json
    from pathlib import Path
    from swin_edu.exercises.ch06_whole_swin import SHIFTED_BLOCKS_SWIN_T
    cells = json.loads((Path(__file__).resolve().parent.parent / "notebooks" / "06_whole_swin.ipynb").read_text())["cells"]
    printed = "".join("".join(o.get("text", "")) for c in cells if c["cell_type"] == "code" for o in c.get("outputs", []))
    assert "window 14" not in printed
    assert SHIFTED_BLOCKS_SWIN_T.answer == 2


# --- transfer: shifted_window_mask_3d (Video Swin's 3-D shifted windows) ----------------------------

from swin_edu import shifted_window_mask  # noqa: E402
from swin_edu.exercises import check_shifted_window_mask_3d  # noqa: E402
from swin_edu.exercises import ch06_whole_swin as ch06  # noqa: E402


def _partition_3d(x, window):  # Video Swin's window_partition: [B, D, H, W, C] -> [B*nW, N, C]
    B, D, H, W, C = x.shape
    Md, Mh, Mw = window
    x = x.view(B, D // Md, Md, H // Mh, Mh, W // Mw, Mw, C)
    return x.permute(0, 1, 3, 5, 2, 4, 6, 7).reshape(-1, Md * Mh * Mw, C)


def mask3d_video_swin(D, H, W, window, shift):  # Video Swin's compute_mask, as written there
    img_mask = torch.zeros((1, D, H, W, 1))
    cnt = 0
    for d in slice(-window[0]), slice(-window[0], -shift[0]), slice(-shift[0], None):
        for h in slice(-window[1]), slice(-window[1], -shift[1]), slice(-shift[1], None):
            for w in slice(-window[2]), slice(-window[2], -shift[2]), slice(-shift[2], None):
                img_mask[:, d, h, w, :] = cnt
                cnt += 1
    mask_windows = _partition_3d(img_mask, window).squeeze(-1)
    attn_mask = mask_windows.unsqueeze(1) - mask_windows.unsqueeze(2)
    return attn_mask.masked_fill(attn_mask != 0, float(-100.0)).masked_fill(attn_mask == 0, float(0.0))


def mask3d_bands(D, H, W, window, shift):
    def bands(L, m, s):
        r = torch.arange(L)
        return (r >= L - m).long() + (r >= L - s).long() if s else torch.zeros(L, dtype=torch.long)
    labels = (9 * bands(D, window[0], shift[0])[:, None, None] + 3 * bands(H, window[1], shift[1])[None, :, None]
              + bands(W, window[2], shift[2])[None, None, :])
    win = rearrange(labels, "(nd md) (nh mh) (nw mw) -> (nd nh nw) (md mh mw)",
                    md=window[0], mh=window[1], mw=window[2])
    return torch.where(win[:, :, None] == win[:, None, :], 0.0, -100.0)


def mask3d_rolled_positions(D, H, W, window, shift):
    """The naive-windows view: token pairs are kept apart when, before the roll, they were not
    neighbours along some axis (one of them wrapped around, the other not)."""
    wrapped = torch.zeros(D, H, W, dtype=torch.long)
    for axis, (L, s) in enumerate(zip((D, H, W), shift)):
        if s:
            w = (torch.roll(torch.arange(L), -s) < s).long() << axis  # 1 where the rolled index wrapped
            wrapped = wrapped + w.view([-1 if a == axis else 1 for a in range(3)])
    win = _partition_3d(wrapped[None, ..., None], window).squeeze(-1)
    return (win[:, :, None] != win[:, None, :]).to(torch.float32) * -100.0


def test_shifted_window_mask_3d_right_in_other_styles():
    for fn in (mask3d_video_swin, mask3d_bands, mask3d_rolled_positions):
        result = check_shifted_window_mask_3d(fn)
        assert result.passed, f"{fn.__name__}: {result}"


def test_shifted_window_mask_3d_with_one_frame_is_notebook_04s():
    assert torch.equal(ch06._mask_3d(1, 8, 12, (1, 4, 4), (0, 2, 2)), shifted_window_mask(8, 12, 4, 2))


def mask3d_2d_labels(D, H, W, window, shift):
    return mask3d_video_swin(D, H, W, window, (0, shift[1], shift[2]))


def mask3d_unrolled(D, H, W, window, shift):
    img_mask, cnt = torch.zeros(D, H, W), 0
    for d in slice(-window[0]), slice(-window[0], -shift[0]), slice(-shift[0], None):
        for h in slice(-window[1]), slice(-window[1], -shift[1]), slice(-shift[1], None):
            for w in slice(-window[2]), slice(-window[2], -shift[2]), slice(-shift[2], None):
                img_mask[d, h, w] = cnt
                cnt += 1
    img_mask = torch.roll(img_mask, shifts=tuple(shift), dims=(0, 1, 2))  # "undo the roll"
    win = _partition_3d(img_mask[None, ..., None], window).squeeze(-1)
    return torch.where(win[:, :, None] == win[:, None, :], 0.0, -100.0)


def mask3d_windows_time_last(D, H, W, window, shift):
    mask = mask3d_video_swin(D, H, W, window, shift)
    nd, nh, nw = D // window[0], H // window[1], W // window[2]
    return rearrange(mask, "(nd nh nw) i j -> (nh nw nd) i j", nd=nd, nh=nh, nw=nw)


def mask3d_tokens_time_last(D, H, W, window, shift):
    mask = mask3d_video_swin(D, H, W, window, shift)
    Md, Mh, Mw = window
    order = torch.arange(Md * Mh * Mw).view(Md, Mh, Mw).permute(1, 2, 0).flatten()
    return mask[:, order][:, :, order]


def mask3d_inverted(D, H, W, window, shift):
    return torch.where(mask3d_video_swin(D, H, W, window, shift) == 0, -100.0, 0.0)


def mask3d_boolean(D, H, W, window, shift):
    return mask3d_video_swin(D, H, W, window, shift) != 0


MASK3D_WRONG = [(mask3d_2d_labels, "time-not-shifted", "ignore the time axis"),
                (mask3d_unrolled, "labels-unrolled", "placed on the original video"),
                (mask3d_windows_time_last, "windows-time-last", "windows are in the wrong order"),
                (mask3d_tokens_time_last, "tokens-time-last", "frame fastest"),
                (mask3d_inverted, "inverted", "inverted"),
                (mask3d_boolean, "boolean", "boolean mask")]


def test_shifted_window_mask_3d_mistakes_are_named():
    assert {name for _, name, _ in MASK3D_WRONG} == {m.name for m in ch06.MASK_3D_MISTAKES}
    for fn, name, phrase in MASK3D_WRONG:
        result = check_shifted_window_mask_3d(fn)
        assert result.status == "failed" and result.mistake == name, f"{fn.__name__}: {result}"
        assert phrase in str(result) and "(notebook 0" in str(result)
        assert len(str(result).splitlines()) <= 12


def test_shifted_window_mask_3d_stubs_errors_and_odd_answers():
    def stub(D, H, W, window, shift):
        raise NotImplementedError()

    for fn in (stub, lambda *args: None, None):
        assert check_shifted_window_mask_3d(fn).status == "not attempted"
    assert check_shifted_window_mask_3d(lambda D, H, W, window, shift: window[3]).status == "error"
    for odd in (lambda *a: {}, lambda *a: mask3d_bands(*a).double(), lambda *a: mask3d_bands(*a).long(),
                lambda *a: mask3d_bands(*a) * 2, lambda *a: mask3d_bands(*a)[:, :, :1]):
        result = check_shifted_window_mask_3d(odd)
        assert result.status == "failed" and result.mistake is None, str(result)


# --- the student-tester's unnamed attempts, and notebook 06's cell ---------------------------------

def _student_block(prenorm=True, roll=True):
    from einops import rearrange
    from swin_edu import window_partition, window_reverse

    def f(block, x):
        B, H, W, C = x.shape
        M, s = block.window_size, block.shift_size
        h = block.norm1(x) if prenorm else x
        if s and roll:
            h = torch.roll(h, (-s, -s), (1, 2))
        t = block.attn(rearrange(window_partition(h, M), "n a b c -> n (a b) c"), block.attn_mask)
        h = window_reverse(rearrange(t, "n (a b) c -> n a b c", a=M), M, H, W)
        if s and roll:
            h = torch.roll(h, (s, s), (1, 2))
        if not prenorm:
            h = block.norm1(h)
        z = x + h
        return z + block.mlp(block.norm2(z))
    return f


def test_more_block_mistakes_are_named_and_the_roll_back_report_does_not_answer_question_1():
    from swin_edu.exercises import check_swin_block_forward
    assert check_swin_block_forward(_student_block()).passed
    assert check_swin_block_forward(_student_block(prenorm=False)).mistake == "norm-after-attention"
    assert check_swin_block_forward(_student_block(roll=False)).mistake == "no-roll"
    from swin_edu.exercises.ch06_whole_swin import BLOCK_MISTAKES
    roll_back = next(m for m in BLOCK_MISTAKES if m.name == "roll-not-undone")
    assert "W-MSA is right" not in roll_back.diagnosis and "stays rolled" not in roll_back.diagnosis


def test_notebook_06s_block_cell_does_not_answer_exercise_1():
    from einops import rearrange
    from swin_edu import shifted_window_mask, window_partition, window_reverse
    from swin_edu.exercises import check_swin_block_forward

    def swin_block(block, x):  # notebook 06, section 2's cell
        B, H, W, C = x.shape
        M, s = block.window_size, block.shift_size
        h = block.norm1(x)
        if s:
            h = torch.roll(h, shifts=(-s, -s), dims=(1, 2))
        windows = rearrange(window_partition(h, M), "bw m1 m2 c -> bw (m1 m2) c")
        mask = shifted_window_mask(H, W, M, s) if s else None
        windows = block.attn(windows, mask)
        h = window_reverse(rearrange(windows, "bw (m1 m2) c -> bw m1 m2 c", m1=M), M, H, W)
        if s:
            h = torch.roll(h, shifts=(s, s), dims=(1, 2))
        x = x + h
        return x + block.mlp(block.norm2(x))

    result = check_swin_block_forward(swin_block)
    assert result.status == "failed" and "`shifted_window_mask`" in str(result) and "off limits" in str(result)


def test_more_drop_path_and_shifted_block_mistakes_are_named():
    from swin_edu.exercises import check_drop_path_rates, check_shifted_blocks_swin_t

    def forward(depths, r):
        v = torch.linspace(0, r, sum(depths)).tolist()
        out, i = [], 0
        for d in depths:
            out.append(v[i:i + d])
            i += d
        return out

    assert check_drop_path_rates(lambda d, r: [v[::-1] for v in forward(d, r)][::-1]).mistake == "reversed"
    assert check_shifted_blocks_swin_t(lambda: 4).mistake == "all-blocks-of-shifting-stages"
    assert check_shifted_blocks_swin_t(lambda: 1).mistake == "stage-1-only"


def _bands3(L, M, s):
    p = torch.arange(L)
    return torch.zeros(L, dtype=torch.long) if s == 0 else (p >= L - M).long() + (p >= L - s).long()


def _m3(D, H, W, window, shift, order="d h w", tok="a b c", fill=-100.0, unique=True):
    from einops import rearrange
    (Md, Mh, Mw), (sd, sh, sw) = window, shift
    k = (9, 3) if unique else (1, 1)
    lab = (k[0] * _bands3(D, Md, sd)[:, None, None] + k[1] * _bands3(H, Mh, sh)[None, :, None]
           + _bands3(W, Mw, sw)[None, None, :])
    wl = rearrange(lab, f"(d a) (h b) (w c) -> ({order}) ({tok})", a=Md, b=Mh, c=Mw)
    return torch.where(wl[:, :, None] == wl[:, None, :], 0.0, fill)


MASK3D_WRONG += [(lambda D, H, W, w, s: _m3(D, H, W, w, s, order="w h d"), "windows-reversed", "wrong order"),
                 (lambda D, H, W, w, s: _m3(D, H, W, w, s, tok="c b a"), "tokens-reversed", "(w, h, d)"),
                 (lambda D, H, W, w, s: _m3(D, H, W, w, s, fill=float("-inf")), "minus-inf", "-inf"),
                 (lambda D, H, W, w, s: _m3(D, H, W, w, tuple(s)[::-1]), "shift-reversed", "wrong axes"),
                 (lambda D, H, W, w, s: _m3(D, H, W, w, s, unique=False), "labels-not-unique", "same label")]


def test_3d_mask_generic_reports_point_to_notebook_04():
    from swin_edu.exercises import check_shifted_window_mask_3d
    generic = str(check_shifted_window_mask_3d(lambda D, H, W, w, s: _m3(D, H, W, w, s) * 0.5))
    assert "notebook 04, section 4. The regions" in generic and "notebook 06" not in generic, generic




def swin_edu_rates(depths, r):
    v = torch.linspace(0, r, sum(depths)).tolist()
    out, i = [], 0
    for d in depths:
        out.append(v[i:i + d])
        i += d
    return out
