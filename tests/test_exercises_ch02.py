"""The checks of notebook 02's exercises: right answers in any style pass, every catalogued mistake
(written again here, independently) gets its own diagnosis, and nothing a learner writes makes a
check raise."""
import pytest
import torch
from einops import rearrange

import swin_edu
from swin_edu.exercises import check_merge_patches, check_merging_params, check_stage_shapes
from swin_edu.exercises import ch02_patch_merging as ch02

# ---------------------------------------------------------------------------------------------
# merge_patches
# ---------------------------------------------------------------------------------------------


def merge_slices(x):  # the notebook's four slices
    return torch.cat([x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2]], dim=-1)


def merge_reshape_permute(x):  # timm's style
    B, H, W, C = x.shape
    x = x.reshape(B, H // 2, 2, W // 2, 2, C)          # b h h2 w w2 c
    return x.permute(0, 1, 3, 4, 2, 5).reshape(B, H // 2, W // 2, 4 * C)  # b h w (w2 h2 c)


def merge_loops(x):
    B, H, W, C = x.shape
    out = torch.empty(B, H // 2, W // 2, 4 * C, dtype=x.dtype, device=x.device)
    for i in range(H // 2):
        for j in range(W // 2):
            for k, (dh, dw) in enumerate([(0, 0), (1, 0), (0, 1), (1, 1)]):
                out[:, i, j, k * C:(k + 1) * C] = x[:, 2 * i + dh, 2 * j + dw]
    return out


def merge_ellipsis_and_stack(x):  # torchvision's slices, stacked on a new axis before the channels
    pieces = [x[..., 0::2, 0::2, :], x[..., 1::2, 0::2, :], x[..., 0::2, 1::2, :], x[..., 1::2, 1::2, :]]
    return torch.stack(pieces, dim=-2).flatten(-2)


def merge_einops(x):
    return rearrange(x, "b (h h2) (w w2) c -> b h w (w2 h2 c)", h2=2, w2=2)


@pytest.mark.parametrize("fn", [swin_edu.merge_patches, merge_slices, merge_reshape_permute, merge_loops,
                                merge_ellipsis_and_stack, merge_einops])
def test_merge_right_answers_pass(fn):
    result = check_merge_patches(fn)
    assert result.passed, result.report
    assert "6 cases" in str(result)


def merge_row_major(x):
    return torch.cat([x[:, 0::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 0::2], x[:, 1::2, 1::2]], dim=-1)


def merge_row_major_einops(x):
    return rearrange(x, "b (h h2) (w w2) c -> b h w (h2 w2 c)", h2=2, w2=2)


def merge_interleaved(x):
    B, H, W, C = x.shape
    pieces = torch.stack([x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2]], dim=-1)
    return pieces.reshape(B, H // 2, W // 2, 4 * C)     # [.., C, 4] flattened: (c piece)


def merge_plain_reshape(x):
    B, H, W, C = x.shape
    return x.view(B, H // 2, W // 2, 4 * C)


def merge_quadrants(x):
    B, H, W, C = x.shape
    h, w = H // 2, W // 2
    return torch.cat([x[:, :h, :w], x[:, h:, :w], x[:, :h, w:], x[:, h:, w:]], dim=-1)


def merge_sliced_batch(x):  # the notebook's table, x[0::2, 0::2], typed on a [B, H, W, C] tensor
    return torch.cat([x[0::2, 0::2], x[1::2, 0::2], x[0::2, 1::2], x[1::2, 1::2]], dim=-1)


@pytest.mark.parametrize("fn, mistake, phrase", [
    (merge_row_major, "row-major", "concatenated row-major"),
    (merge_row_major_einops, "row-major", "Swin's order is x0, x1, x2, x3"),
    (merge_interleaved, "interleaved", "channels are interleaved"),
    (merge_plain_reshape, "reshape-without-permute", "without moving the axes"),
    (merge_quadrants, "quadrants", "four quadrants"),
    (merge_sliced_batch, "slices-on-batch", "act on the batch"),
])
def test_merge_mistakes_are_diagnosed(fn, mistake, phrase):
    result = check_merge_patches(fn)
    assert result.status == "failed" and result.mistake == mistake, result.report
    assert phrase in str(result) and "(notebook 02, section 2. Four interleaved sub-grids)" in str(result)


def test_merge_report_draws_where_the_tokens_go():
    report = str(check_merge_patches(merge_row_major))
    assert "4x4 map" in report and "piece (0 = x0" in report
    assert "0 2 0 2  | 0 1 0 1" in report and "1 3 1 3  | 2 3 2 3" in report
    assert "merged token (row-major)" in str(check_merge_patches(merge_quadrants))


def test_every_merge_mistake_differs_from_the_reference_somewhere():
    cases = ch02._merge_cases()
    for mistake in ch02.MERGE_MISTAKES:
        assert any(ch02.MERGE_PATCHES.diagnose(c, swin_edu.merge_patches(*c.args)) is not mistake
                   for c in cases), mistake.name


def test_merge_other_failures_are_reported():
    def raises(x):
        return torch.cat([x[:, 0::2], x[:, 1::2, 0::2]], dim=-1)

    def stub(x):
        raise NotImplementedError()

    def dots(x):
        ...

    def wrong_shape(x):  # three pieces only (stacking the four is a named mistake)
        return torch.cat([x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2]], dim=-1)

    def wrong_dtype(x):
        return merge_slices(x).half()

    def unexplained(x):  # x3 and x2 swapped
        return torch.cat([x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 1::2, 1::2], x[:, 0::2, 1::2]], dim=-1)

    result = check_merge_patches(raises)
    assert result.status == "error" and "RuntimeError" in str(result) and "4x4 map" in str(result)
    for fn in (stub, dots, lambda x: None):
        assert check_merge_patches(fn).status == "not attempted"
    result = check_merge_patches(wrong_shape)
    assert result.status == "failed" and "shape" in str(result)
    result = check_merge_patches(wrong_dtype)
    assert result.status == "failed" and "dtype" in str(result)
    result = check_merge_patches(unexplained)
    assert result.status == "failed" and result.mistake is None and "first at index [0, 0, 0, 4]" in str(result)
    assert "piece (0 = x0" in str(result)  # the picture still shows where x2 and x3 went
    assert check_merge_patches(swin_edu.merge_patches(torch.zeros(1, 2, 2, 1))).status == "failed"


def test_merge_check_reports_a_learner_that_modifies_its_input():
    def in_place(x):
        out = merge_slices(x)
        x.zero_()
        return out
    result = check_merge_patches(in_place)
    assert result.status == "failed" and "changed its input `x` in place" in str(result)
    assert check_merge_patches(merge_slices).passed


# ---------------------------------------------------------------------------------------------
# stage_shapes
# ---------------------------------------------------------------------------------------------


def stages_loop(H, W, patch_size, embed_dim, num_stages):
    h, w, c = H // patch_size, W // patch_size, embed_dim
    shapes = []
    for i in range(num_stages):
        if i > 0:
            h, w, c = h // 2, w // 2, 2 * c
        shapes.append((h, w, c))
    return shapes


def stages_closed_form(H, W, patch_size, embed_dim, num_stages):
    return [[H // (patch_size * 2**i), W // (patch_size * 2**i), embed_dim * 2**i] for i in range(num_stages)]


def stages_by_running_the_layers(H, W, patch_size, embed_dim, num_stages):
    with torch.no_grad():
        x = swin_edu.PatchEmbed(patch_size, 3, embed_dim)(torch.zeros(1, 3, H, W))
        shapes = [tuple(x.shape[1:])]
        for _ in range(num_stages - 1):
            x = swin_edu.PatchMerging(x.shape[-1])(x)
            shapes.append(tuple(x.shape[1:]))
    return shapes


@pytest.mark.parametrize("fn", [ch02.stage_shapes, stages_loop, stages_closed_form, stages_by_running_the_layers])
def test_stage_shapes_right_answers_pass(fn):
    result = check_stage_shapes(fn)
    assert result.passed, result.report


def test_stage_shapes_reference_is_what_the_model_does():
    assert ch02.stage_shapes(224, 224, 4, 96, 4) == [(56, 56, 96), (28, 28, 192), (14, 14, 384), (7, 7, 768)]
    for img, P, heads in [(224, 4, (1, 1, 1, 1)), (32, 2, (1, 1, 1))]:
        model = swin_edu.SwinTransformer(img_size=img, patch_size=P, embed_dim=6, depths=(2,) * len(heads),
                                         num_heads=heads, window_size=7 if img == 224 else 4).eval()
        shapes = []
        with torch.no_grad():
            x = model.patch_embed(torch.zeros(1, 3, img, img))
            for stage in model.layers:
                x = stage(x)
                shapes.append(tuple(x.shape[1:]))
        assert ch02.stage_shapes(img, img, P, 6, len(heads)) == shapes
    # non-square: the package's layers themselves, run on real tensors
    for case in ch02._stage_cases():
        assert ch02.stage_shapes(*case.args) == stages_by_running_the_layers(*case.args)


def stages_halved_at_1(H, W, patch_size, embed_dim, num_stages):
    return [(H // patch_size // 2 ** (i + 1), W // patch_size // 2 ** (i + 1), embed_dim * 2**i)
            for i in range(num_stages)]


def stages_channels_fixed(H, W, patch_size, embed_dim, num_stages):
    h, w = H // patch_size, W // patch_size
    return [(h >> i, w >> i, embed_dim) for i in range(num_stages)]


def stages_channels_4x(H, W, patch_size, embed_dim, num_stages):
    shapes, h, w, c = [], H // patch_size, W // patch_size, embed_dim
    for _ in range(num_stages):
        shapes.append((h, w, c))
        h, w, c = h // 2, w // 2, 4 * c
    return shapes


def stages_channels_doubled_at_1(H, W, patch_size, embed_dim, num_stages):
    shapes, h, w, c = [], H // patch_size, W // patch_size, embed_dim
    for _ in range(num_stages):
        c *= 2
        shapes.append((h, w, c))
        h, w = h // 2, w // 2
    return shapes


def stages_pixels(H, W, patch_size, embed_dim, num_stages):
    return [(H >> i, W >> i, embed_dim << i) for i in range(num_stages)]


def stages_with_embedding(H, W, patch_size, embed_dim, num_stages):
    h, w, c = H // patch_size, W // patch_size, embed_dim
    shapes = [(h, w, c)]  # "patch embedding", then the stages, as the notebook prints them
    for i in range(num_stages):
        if i > 0:
            h, w, c = h // 2, w // 2, 2 * c
        shapes.append((h, w, c))
    return shapes


def stages_square(H, W, patch_size, embed_dim, num_stages):
    side = H // patch_size
    return [(side // 2**i, side // 2**i, embed_dim * 2**i) for i in range(num_stages)]


@pytest.mark.parametrize("fn, mistake, phrase", [
    (stages_halved_at_1, "halved-at-stage-1", "halved the map at stage 1 too"),
    (stages_channels_fixed, "channels-not-doubled", "channels stay at C"),
    (stages_channels_4x, "channels-times-4", "kept the 4C channels"),
    (stages_channels_doubled_at_1, "channels-doubled-at-stage-1", "doubled the channels at stage 1 too"),
    (stages_pixels, "no-patch-size", "forgot the patch size"),
    (stages_with_embedding, "embedding-as-stage", "patch embedding as a stage"),
    (stages_square, "square-only", "square images only"),
])
def test_stage_shapes_mistakes_are_diagnosed(fn, mistake, phrase):
    result = check_stage_shapes(fn)
    assert result.status == "failed" and result.mistake == mistake, result.report
    assert phrase in str(result) and "(notebook 02, section" in str(result)


def test_every_stage_shapes_mistake_differs_from_the_reference_somewhere():
    cases = ch02._stage_cases()
    for mistake in ch02.STAGE_MISTAKES:
        assert any(ch02.STAGE_SHAPES.diagnose(c, ch02.stage_shapes(*c.args)) is not mistake
                   for c in cases), mistake.name


def test_stage_shapes_other_failures_are_reported():
    def raises(H, W, patch_size, embed_dim, num_stages):
        return [(H / patch_size,) * 3 for _ in range(num_stages)][num_stages]

    def stub(H, W, patch_size, embed_dim, num_stages):
        raise NotImplementedError()

    def unexplained(H, W, patch_size, embed_dim, num_stages):
        shapes = stages_loop(H, W, patch_size, embed_dim, num_stages)
        shapes[-1] = (shapes[-1][0] + 1, shapes[-1][1], shapes[-1][2])
        return shapes

    def floats(H, W, patch_size, embed_dim, num_stages):
        return [(H / patch_size / 2**i, W / patch_size / 2**i, embed_dim * 2**i) for i in range(num_stages)]

    def odd_floats(H, W, patch_size, embed_dim, num_stages):  # sizes that are not whole numbers
        return [(H / patch_size / 3**i, W / patch_size / 3**i, embed_dim * 2**i) for i in range(num_stages)]

    result = check_stage_shapes(raises)
    assert result.status == "error" and "IndexError" in str(result)
    assert check_stage_shapes(stub).status == "not attempted"
    assert check_stage_shapes(lambda *args: None).status == "not attempted"
    result = check_stage_shapes(unexplained)
    assert result.status == "failed" and result.mistake is None and "item [1][0]: expected 2, got 3" in str(result)
    assert check_stage_shapes(floats).passed  # 56.0 is 56
    result = check_stage_shapes(odd_floats)
    assert result.status == "failed" and "whole number" in str(result)
    assert check_stage_shapes(lambda *args: torch.zeros(2, 3)).status == "failed"


# ---------------------------------------------------------------------------------------------
# merging_params
# ---------------------------------------------------------------------------------------------


def test_merging_params_answer_is_swin_ts():
    model = swin_edu.swin_t()
    count = sum(p.numel() for m in model.modules() if isinstance(m, swin_edu.PatchMerging) for p in m.parameters())
    assert ch02.MERGING_PARAMS.answer == count


@pytest.mark.parametrize("value", [sum(8 * C * C + 8 * C for C in (96, 192, 384)), 1553664.0])
def test_merging_params_right_values_pass(value):
    assert check_merging_params(lambda: value).passed


@pytest.mark.parametrize("value, mistake", [
    (sum(4 * C * 2 * C for C in (96, 192, 384)), "no-layernorm"),
    (sum(4 * C * 2 * C + 2 * C + 2 * 4 * C for C in (96, 192, 384)), "bias-counted"),
    (sum(4 * C * 2 * C + 4 * C for C in (96, 192, 384)), "layernorm-4C"),
    (sum(4 * C * 2 * C + 2 * 4 * C for C in (192, 384, 768)), "output-channels"),
])
def test_merging_params_wrong_values_are_diagnosed(value, mistake):
    result = check_merging_params(lambda: value)
    assert result.status == "failed" and result.mistake == mistake, result.report
    assert "(notebook 02, section" in str(result)


def test_merging_params_other_answers():
    def stub():
        raise NotImplementedError()

    result = check_merging_params(lambda: 1553665)
    assert result.status == "failed" and result.mistake is None
    assert check_merging_params(stub).status == "not attempted"
    assert check_merging_params(lambda: None).status == "not attempted"
    assert check_merging_params(lambda: [].pop()).status == "error"


def test_chapter_lists_its_exercises_in_notebook_order():
    assert [ex.name for ex in ch02.EXERCISES] == ["merge_patches", "stage_shapes", "merging_params",
                                                  "merge_patches_3d"]
    assert set(ch02.__all__) == {"check_merge_patches", "check_stage_shapes", "check_merging_params",
                                 "check_merge_patches_3d"}


def test_numpy_integers_are_accepted():
    import numpy as np
    def shapes_numpy(H, W, P, C, n):
        return [(np.int64(H // P >> i), np.int64(W // P >> i), np.int64(C << i)) for i in range(n)]
    assert check_stage_shapes(shapes_numpy).passed
    assert check_merging_params(lambda: np.int64(ch02.MERGING_PARAMS.answer)).passed


# --- transfer: merge_patches_3d (a video's tokens merged t x 2 x 2) ---------------------------------

from swin_edu.exercises import check_merge_patches_3d  # noqa: E402


def merge3d_slices(x, t):  # notebook 02's four slices, for each frame offset
    pieces = []
    for dt in range(t):
        f = x[:, dt::t]
        pieces += [f[:, :, 0::2, 0::2], f[:, :, 1::2, 0::2], f[:, :, 0::2, 1::2], f[:, :, 1::2, 1::2]]
    return torch.cat(pieces, dim=-1)


def merge3d_view_permute(x, t):
    B, D, H, W, C = x.shape
    x = x.view(B, D // t, t, H // 2, 2, W // 2, 2, C)          # b d pt h ph w pw c
    return x.permute(0, 1, 3, 5, 2, 6, 4, 7).reshape(B, D // t, H // 2, W // 2, 4 * t * C)


def merge3d_loops(x, t):
    B, D, H, W, C = x.shape
    out = x.new_zeros(B, D // t, H // 2, W // 2, 4 * t * C)
    for dt in range(t):
        for dw in range(2):
            for dh in range(2):
                k = 4 * dt + 2 * dw + dh
                out[..., k * C:(k + 1) * C] = x[:, dt::t, dh::2, dw::2]
    return out


def test_merge_patches_3d_right_in_other_styles():
    for fn in (merge3d_slices, merge3d_view_permute, merge3d_loops):
        result = check_merge_patches_3d(fn)
        assert result.passed, f"{fn.__name__}: {result}"


def test_merge_patches_3d_with_t_1_is_video_swins_merging():
    """Video Swin's PatchMerging (1x2x2): x[:, :, 0::2, 0::2], x[:, :, 1::2, 0::2], x[:, :, 0::2, 1::2],
    x[:, :, 1::2, 1::2] concatenated, i.e. swin_edu.merge_patches applied to every frame."""
    x = torch.randn(2, 3, 4, 6, 5)
    frames = torch.stack([swin_edu.merge_patches(x[:, d]) for d in range(3)], dim=1)
    assert torch.equal(ch02._merge_3d(x, 1), frames)


def merge3d_reading_order(x, t):
    return rearrange(x, "b (d pt) (h ph) (w pw) c -> b d h w (pt ph pw c)", pt=t, ph=2, pw=2)


def merge3d_time_fastest(x, t):
    pieces = [x[:, dt::t, dh::2, dw::2] for dw in range(2) for dh in range(2) for dt in range(t)]
    return torch.cat(pieces, dim=-1)


def merge3d_stacked(x, t):
    return torch.stack([x[:, dt::t, dh::2, dw::2] for dt in range(t) for dw in range(2) for dh in range(2)],
                       dim=-1).flatten(-2)


def merge3d_per_frame(x, t):
    return merge3d_slices(x, 1)


def merge3d_even_frames(x, t):
    return merge3d_slices(x[:, ::t], 1)


def merge3d_notebook_slices(x, t):
    return torch.cat([x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2]], dim=-1)


MERGE3D_WRONG = [(merge3d_reading_order, "row-major-pieces", "reading order"),
                 (merge3d_time_fastest, "time-fastest", "frame offset changes fastest"),
                 (merge3d_stacked, "interleaved", "interleaved"),
                 (merge3d_per_frame, "time-not-merged", "merged each frame on its own"),
                 (merge3d_even_frames, "odd-frames-dropped", "every second frame"),
                 (merge3d_notebook_slices, "2-D-slices-on-D-and-H", "slices act on D and H")]


def test_merge_patches_3d_mistakes_are_named():
    assert {name for _, name, _ in MERGE3D_WRONG} == {m.name for m in ch02.MERGE_3D_MISTAKES}
    for fn, name, phrase in MERGE3D_WRONG:
        result = check_merge_patches_3d(fn)
        assert result.status == "failed" and result.mistake == name, f"{fn.__name__}: {result}"
        assert phrase in str(result) and "(notebook 02, section" in str(result)
        assert len(str(result).splitlines()) <= 12


def test_merge_patches_3d_report_shows_where_the_pieces_come_from():
    report = str(check_merge_patches_3d(merge3d_time_fastest))
    assert "expected: (0,0,0) (0,1,0) (0,0,1) (0,1,1) (1,0,0)" in report


def test_merge_patches_3d_stubs_errors_and_odd_answers():
    def stub(x, t):
        raise NotImplementedError()

    for fn in (stub, lambda *args: None, None):
        assert check_merge_patches_3d(fn).status == "not attempted"
    assert check_merge_patches_3d(lambda x, t: x.view(7, -1)).status == "error"
    for odd in (lambda x, t: (1, 2), lambda x, t: torch.zeros(3), lambda x, t: merge3d_slices(x, t).double(),
                lambda x, t: merge3d_slices(x, t) * 2, lambda x, t: merge3d_slices(x, t)[:, :, :, :, :-1]):
        result = check_merge_patches_3d(odd)
        assert result.status == "failed" and result.mistake is None, str(result)


def test_merge_patches_3d_must_let_the_gradient_through():
    result = check_merge_patches_3d(lambda x, t: merge3d_slices(x.detach(), t))
    assert result.status == "failed" and "gradient" in str(result), str(result)


# --- the student-tester's unnamed attempts --------------------------------------------------------

def _pieces(x):
    return [x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2]]


def test_merge_grid_transposed_and_stacked_pieces_are_named():
    result = check_merge_patches(lambda x: torch.cat(_pieces(x), -1).transpose(1, 2))
    assert result.mistake == "grid-transposed", str(result)
    result = check_merge_patches(lambda x: torch.stack(_pieces(x), -2))
    assert result.mistake == "stacked" and "torch.cat" in str(result), str(result)


def test_more_stage_shapes_mistakes_are_named():
    for fn, name in [
            (lambda H, W, P, C, n: [(H // P // 2**(i + 1), W // P // 2**(i + 1), C * 2**(i + 1)) for i in range(n)],
             "one-stage-late"),
            (lambda H, W, P, C, n: [(H // P // 2**i, W // P // 2**i, C * 2**i) for i in range(1, n + 1)],
             "one-stage-late"),
            (lambda H, W, P, C, n: [(W // P // 2**i, H // P // 2**i, C * 2**i) for i in range(n)], "H-W-swapped"),
            (lambda H, W, P, C, n: [(H // P // 2**i, W // P // 2**i, C * 2**i) for i in range(n - 1)],
             "one-stage-missing")]:
        result = check_stage_shapes(fn)
        assert result.mistake == name, str(result)


def test_more_merging_params_mistakes_are_named():
    for value, name in [(sum(8 * C + 8 * C * C for C in (96, 192, 384, 768)), "four-mergings"),
                        (3 * (8 * 96 + 8 * 96 * 96), "same-C"), (sum(8 * C + 4 * C * C for C in (96, 192, 384)),
                                                                 "reduction-to-C")]:
        assert check_merging_params(lambda: value).mistake == name
    assert "Swin V2" in str(check_merging_params(lambda: sum(4 * C + 8 * C * C for C in (96, 192, 384))))


def merge3d_frames_strided(x, t):
    return rearrange(x, "b (pt d) (h p1) (w p2) c -> b d h w (pt p2 p1 c)", pt=t, p1=2, p2=2)


def merge3d_grid_transposed(x, t):
    return rearrange(x, "b (d pt) (h p1) (w p2) c -> b d w h (pt p2 p1 c)", pt=t, p1=2, p2=2)


MERGE3D_WRONG += [(merge3d_frames_strided, "frames-strided", "not neighbours"),
                  (merge3d_grid_transposed, "grid-transposed", "transposed")]


def test_stage_shapes_instructions_follow_the_one_type_rule():
    # floats compare by value (DTYPE_POLICY): the instructions must not demand ints the check does not demand
    import json
    from pathlib import Path
    nb = json.loads((Path(__file__).parents[1] / "notebooks/homework/source/swin/hw02_patch_merging.ipynb").read_text())
    text = "".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    assert "so that they are ints, as shapes must be" not in text
    assert check_stage_shapes(lambda H, W, P, C, n: [(H / P / 2**i, W / P / 2**i, C * 2.0**i) for i in range(n)]).passed
