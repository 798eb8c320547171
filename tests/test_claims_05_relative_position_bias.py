"""The general claims of notebook 05 (relative position bias), proven over several window sizes, offsets and
table sizes. The notebook states them and shows them on its own example; equality of the index with timm's and
torchvision's is in tests/test_windows.py."""
import warnings

import pytest
import torch
import torch.nn.functional as F
from einops import rearrange

from swin_edu import SwinBlock, WindowAttention, relative_position_bias, relative_position_index
from swin_edu.analysis import resize_bias_table, same_offset_pair

WINDOWS = [1, 2, 3, 4, 5, 7, pytest.param(12, marks=pytest.mark.slow)]


def _offsets(M):
    """(dy, dx), each [N, N]: query i minus key j, tokens row-major."""
    t = torch.arange(M * M)
    y, x = t // M, t % M
    return y[:, None] - y[None, :], x[:, None] - x[None, :]


# --- the index (sections 2 and Going deeper, "Swin's window, M = 7") -----------------------------------------

@pytest.mark.parametrize("M", WINDOWS)
def test_index_is_the_formula_and_uses_every_row_once_per_offset(M):
    index, (dy, dx) = relative_position_index(M), _offsets(M)
    assert torch.equal(index, (dy + M - 1) * (2 * M - 1) + (dx + M - 1))
    rows = (2 * M - 1) ** 2
    assert index.min() == 0 and index.max() == rows - 1 and index.unique().numel() == rows  # every row is read
    # one row per offset: two pairs read the same row exactly when their offsets are equal
    pair_offset = torch.stack([dy.flatten(), dx.flatten()], 1)  # [N*N, 2]
    same_row = index.flatten()[:, None] == index.flatten()[None, :]
    same_offset = (pair_offset[:, None] == pair_offset[None, :]).all(-1)
    assert torch.equal(same_row, same_offset)


@pytest.mark.parametrize("M", WINDOWS)
def test_index_diagonal_corners_and_symmetry(M):
    index = relative_position_index(M)
    centre, last = (M - 1) * (2 * M - 1) + (M - 1), (2 * M - 1) ** 2 - 1
    assert (index.diagonal() == centre).all()  # a token with itself: offset (0, 0), the centre row
    assert index[0, -1] == 0 and index[-1, 0] == last  # offsets (-(M-1), -(M-1)) and (M-1, M-1)
    assert torch.equal(index + index.T, torch.full_like(index, 2 * centre))  # offset of (j, i) = -(offset of (i, j))


@pytest.mark.parametrize("M", [2, 3, 5, 7])
def test_index_blocks_count_down_and_repeat_along_diagonals(M):
    blocks = rearrange(relative_position_index(M), "(a m1) (b m2) -> a b m1 m2", m1=M, m2=M)
    assert (blocks[..., :, :-1] - blocks[..., :, 1:] == 1).all()  # key one column right: dx drops by 1
    assert torch.equal(blocks[1:, 1:], blocks[:-1, :-1])  # blocks share dy along each diagonal of blocks


@pytest.mark.parametrize("M", WINDOWS)
def test_each_offset_occurs_m_minus_abs_dy_times_m_minus_abs_dx(M):
    counts = torch.bincount(relative_position_index(M).flatten(), minlength=(2 * M - 1) ** 2)
    offsets = torch.arange(-(M - 1), M)
    expected = (M - offsets.abs())[:, None] * (M - offsets.abs())[None, :]
    assert torch.equal(counts.view(2 * M - 1, 2 * M - 1), expected)
    assert counts.sum() == M ** 4


@pytest.mark.parametrize("M", [2, 3, 4, 7, 12])
def test_multiplier_m_instead_of_2m_minus_1_makes_offsets_collide(M):
    dy, dx = _offsets(M)
    wrong = (dy + M - 1) * M + (dx + M - 1)
    assert wrong.unique().numel() < (2 * M - 1) ** 2
    # shifted offsets (0, M) and (1, 0) both read row M (for M = 2: (0, 2) and (1, 0), row 2)
    assert ((wrong == M) & (dy + M - 1 == 0) & (dx + M - 1 == M)).any()
    assert ((wrong == M) & (dy + M - 1 == 1) & (dx + M - 1 == 0)).any()


# --- the bias depends only on the offset (sections 1 and 3) ---------------------------------------------------

@pytest.mark.parametrize("M, nH", [(2, 1), (3, 3), (5, 2), (7, 4)])
def test_pairs_with_the_same_offset_get_the_same_bias_in_every_head(M, nH):
    table = torch.randn((2 * M - 1) ** 2, nH)  # distinct values: different offsets get different biases
    bias = relative_position_bias(table, relative_position_index(M))
    dy, dx = _offsets(M)
    for oy in range(-(M - 1), M):
        for ox in range(-(M - 1), M):
            values = bias[:, (dy == oy) & (dx == ox)]  # [nH, pairs with this offset]
            assert (values == values[:, :1]).all()
            assert torch.equal(values[:, 0], table[(oy + M - 1) * (2 * M - 1) + ox + M - 1])


@pytest.mark.parametrize("M", [2, 3, 5, 7])
def test_same_offset_pair_keeps_the_offset_and_stays_inside(M):
    for qy in range(M):
        for qx in range(M):
            for ky in range(M):
                for kx in range(M):
                    moved = same_offset_pair(M, (qy, qx), (ky, kx))
                    if abs(qy - ky) == abs(qx - kx) == M - 1:  # opposite corners: the only pair with this offset
                        assert moved is None
                        continue
                    (my, mx), (ny, nx) = moved
                    assert (my - ny, mx - nx) == (qy - ky, qx - kx) and ((my, mx), (ny, nx)) != ((qy, qx), (ky, kx))
                    assert all(0 <= v < M for v in (my, mx, ny, nx))


@pytest.mark.parametrize("M", [2, 3, 4, 7])
def test_attention_is_permutation_equivariant_only_without_the_bias(M):
    nH, C, N = 2, 8, M * M
    attn = WindowAttention(C, nH, M)
    x = torch.randn(3, N, C)
    perm = (torch.arange(N) + 1) % N
    with torch.no_grad():
        attn.relative_position_bias_table.zero_()
        torch.testing.assert_close(attn(x)[:, perm], attn(x[:, perm]), atol=1e-6, rtol=0)
        attn.relative_position_bias_table.normal_(std=0.5)
        assert not torch.allclose(attn(x)[:, perm], attn(x[:, perm]), atol=1e-6)


# --- translation (section 4) ----------------------------------------------------------------------------------

@pytest.mark.parametrize("M, windows, moves", [(2, 3, [(0, 1), (1, 0), (2, 2)]), (3, 2, [(1, 1), (0, 1)]),
                                               (4, 3, [(2, 1), (1, 2)]), (7, 2, [(1, 1)])])
def test_a_pattern_moved_by_whole_windows_gives_the_same_w_msa_output(M, windows, moves):
    """A window-level property: the bias is defined on window positions and shared by all windows. It does not
    need offsets: an absolute embedding per window position (the same in every window) passes too; only an
    embedding over the whole map (ViT's) fails."""
    C, nH, H = 8, 2, M * windows
    block = SwinBlock(C, (H, H), nH, window_size=M, shift_size=0)
    with torch.no_grad():
        block.attn.relative_position_bias_table.normal_(std=0.5)
    pattern = torch.randn(M, M, C)
    ape = 0.5 * torch.randn(1, H, H, C)  # an absolute embedding over the map
    per_window = (0.5 * torch.randn(M, M, C)).repeat(windows, windows, 1)[None]  # one vector per window position
    for wy, wx in moves:
        x = torch.randn(1, H, H, C)
        x[0, :M, :M] = pattern
        x[0, wy * M:(wy + 1) * M, wx * M:(wx + 1) * M] = pattern
        with torch.no_grad():
            out, out_ape = block.shifted_window_attention(x), block.shifted_window_attention(x + ape)
            out_window = block.shifted_window_attention(x + per_window)
        moved = (slice(wy * M, (wy + 1) * M), slice(wx * M, (wx + 1) * M))
        torch.testing.assert_close(out[0, :M, :M], out[0][moved], atol=1e-6, rtol=0)
        torch.testing.assert_close(out_window[0, :M, :M], out_window[0][moved], atol=1e-6, rtol=0)
        assert not torch.allclose(out_ape[0, :M, :M], out_ape[0][moved], atol=1e-6)


@pytest.mark.parametrize("M, k, moves", [(2, 1, [(1, 1), (0, 1)]), (3, 2, [(1, 1), (1, 0)]), (4, 2, [(2, 2), (1, 2)]),
                                         (5, 4, [(1, 1)]), (7, 3, [(4, 4), (2, 3)])])
def test_a_pattern_moved_inside_a_window_keeps_its_output_only_with_the_relative_bias(M, k, moves):
    """What needs offsets (section 4): a k x k pattern kept to itself by a 0 / -100 mask, as a region of SW-MSA,
    gives the same outputs wherever it sits in the window; with an absolute embedding per window position it
    does not."""
    C, nH, N = 8, 2, M * M
    attn = WindowAttention(C, nH, M)
    with torch.no_grad():
        attn.relative_position_bias_table.normal_(std=0.5)
    pattern, E = torch.randn(k, k, C), 0.5 * torch.randn(M, M, C)

    def outputs(top, left, embedding):
        x = torch.randn(1, M, M, C)
        x[0, top:top + k, left:left + k] = pattern
        inside = torch.zeros(M, M, dtype=torch.bool)
        inside[top:top + k, left:left + k] = True
        inside = inside.flatten()
        mask = torch.where(inside[:, None] == inside[None, :], 0.0, -100.0)[None]
        with torch.no_grad():
            return attn((x + embedding).view(1, N, C), mask)[0, inside]

    for top, left in moves:
        torch.testing.assert_close(outputs(0, 0, 0.0), outputs(top, left, 0.0), atol=1e-6, rtol=0)
        assert not torch.allclose(outputs(0, 0, E), outputs(top, left, E), atol=1e-6)


# --- resizing the table (Going deeper) ------------------------------------------------------------------------

RESIZES = [(7, 12), (7, 8), (4, 6), (12, 7), (2, 5)]


def _resize(table, new_M, mode="bicubic"):
    side = round(table.shape[0] ** 0.5)
    grid = rearrange(table, "(a b) h -> 1 h a b", a=side)
    corners = {"align_corners": False} if mode in ("bilinear", "bicubic") else {}
    grid = F.interpolate(grid, size=(2 * new_M - 1, 2 * new_M - 1), mode=mode, **corners)
    return rearrange(grid, "1 h a b -> (a b) h")


@pytest.mark.parametrize("M, new_M", RESIZES)
def test_bicubic_resize_equals_timm_simple_and_keeps_offset_zero(M, new_M):
    from timm.layers import resize_rel_pos_bias_table_simple

    table = torch.randn((2 * M - 1) ** 2, 3)
    resized = _resize(table, new_M)
    assert resized.shape == ((2 * new_M - 1) ** 2, 3)
    torch.testing.assert_close(resized, resize_rel_pos_bias_table_simple(table, (new_M, new_M), resized.shape))
    torch.testing.assert_close(resized, resize_bias_table(table, new_M))  # the package's figure uses the same resize
    old_centre = rearrange(table, "(a b) h -> h a b", a=2 * M - 1)[:, M - 1, M - 1]
    new_centre = rearrange(resized, "(a b) h -> h a b", a=2 * new_M - 1)[:, new_M - 1, new_M - 1]
    torch.testing.assert_close(new_centre, old_centre, atol=1e-5, rtol=0)
    big = WindowAttention(12, 3, new_M)
    big.load_state_dict({**big.state_dict(), "relative_position_bias_table": resized})  # the index is not loaded
    assert "relative_position_index" not in big.state_dict()


@pytest.mark.parametrize("old_side, new_side", [(13, 23), (7, 11), (13, 15), (23, 13)])
def test_modes_that_read_at_p_plus_half_times_scale_minus_half(old_side, new_side):
    one_head = torch.randn(1, 1, old_side, old_side)
    rule = (torch.arange(new_side) + 0.5) * old_side / new_side - 0.5
    at = (rule + 0.5) * 2 / old_side - 1  # grid_sample's units
    gy, gx = torch.meshgrid(at, at, indexing="ij")
    where = torch.stack([gx, gy], dim=-1)[None]
    for mode, read_as, follows in [("bilinear", "bilinear", True), ("bicubic", "bicubic", True),
                                   ("nearest-exact", "nearest", True), ("nearest", "nearest", False)]:
        corners = {"align_corners": False} if mode in ("bilinear", "bicubic") else {}
        out = F.interpolate(one_head, size=(new_side, new_side), mode=mode, **corners)
        read = F.grid_sample(one_head, where, mode=read_as, padding_mode="border", align_corners=False)
        assert torch.allclose(out, read, atol=1e-5) == follows, mode
    legacy = F.interpolate(torch.arange(float(old_side))[None, None], size=new_side, mode="nearest")[0, 0]
    assert torch.equal(legacy, torch.floor(torch.arange(new_side) * old_side / new_side))  # row floor(p * scale)


@pytest.mark.parametrize("old_side, new_side", [(13, 23), (7, 11), (5, 9)])
def test_area_mode_averages_the_old_rows_a_new_row_overlaps(old_side, new_side):
    rows = torch.randn(1, 1, old_side)
    area = F.interpolate(rows, size=new_side, mode="area")[0, 0]
    overlapped = [rows[0, 0, p * old_side // new_side:-(-(p + 1) * old_side // new_side)].mean()
                  for p in range(new_side)]
    torch.testing.assert_close(area, torch.stack(overlapped))


@pytest.mark.parametrize("M, new_M", [(7, 12), (4, 6)])
def test_bilinear_resize_stretches_offsets_by_the_ratio_of_table_sides(M, new_M):
    old_side, new_side = 2 * M - 1, 2 * new_M - 1
    ramp = torch.arange(-(M - 1.0), M).expand(old_side, old_side).reshape(-1, 1)  # entry = its dx
    read = _resize(ramp, new_M, mode="bilinear").view(new_side, new_side)[new_M - 1]  # the old dx each new dx reads
    new = torch.arange(-(new_M - 1.0), new_M)
    inside = (new * old_side / new_side).abs() <= M - 1  # away from the clamped border
    torch.testing.assert_close(read[inside], new[inside] * old_side / new_side)
    assert (read[~inside].abs() == M - 1).all()  # past the old edge: the border row


@pytest.mark.parametrize("M, new_M", [(7, 12), (4, 6)])
def test_timm_swin_checkpoint_filter_resizes_beit_style_not_bicubic(M, new_M):
    from timm.layers import resize_rel_pos_bias_table
    from timm.models.swin_transformer import WindowAttention as TimmWindowAttention
    from timm.models.swin_transformer import checkpoint_filter_fn

    table = torch.randn((2 * M - 1) ** 2, 3)
    holder = torch.nn.Module()
    holder.attn = TimmWindowAttention(12, 3, window_size=new_M)
    shape = holder.attn.relative_position_bias_table.shape
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # timm's interpolation helper warns about torch internals
        filtered = checkpoint_filter_fn({"attn.relative_position_bias_table": table}, holder)
        beit = resize_rel_pos_bias_table(table, new_window_size=(new_M, new_M), new_bias_shape=shape)
        ramp = torch.arange(-(M - 1.0), M).expand(2 * M - 1, 2 * M - 1).reshape(-1, 1)
        ramp_read = resize_rel_pos_bias_table(ramp, (new_M, new_M), ((2 * new_M - 1) ** 2, 1))
    filtered = filtered["attn.relative_position_bias_table"]
    assert torch.equal(filtered, beit)
    assert not torch.allclose(filtered, _resize(table, new_M), atol=1e-2)  # not the official bicubic
    row = ramp_read.view(2 * new_M - 1, 2 * new_M - 1)[new_M - 1]
    torch.testing.assert_close(row[new_M - 2:new_M + 1], torch.tensor([-1.0, 0.0, 1.0]))  # offsets 0, ±1 stay put
    torch.testing.assert_close(row[[0, -1]], torch.tensor([-(M - 1.0), M - 1.0]))  # the old edge maps to the new edge
