"""Notebook 06's plotting helpers: the block diagram; gradient footprints, the 'reached' threshold, the
figures."""
import matplotlib

matplotlib.use("Agg")
import pytest  # noqa: E402
import torch  # noqa: E402

from torch import nn  # noqa: E402

from swin_edu import SwinBlock  # noqa: E402
from swin_edu.analysis import (REACH_THRESHOLD, block_stack, gradient_footprint, reached_tokens,  # noqa: E402
                               stage_footprints)
from swin_edu.plotting import plot_block_pair, plot_receptive_field, plot_stage_receptive_field  # noqa: E402
from swin_edu.plotting.model import COLOUR_FLOOR, NOT_REACHED  # noqa: E402


def test_reached_tokens_counts_real_paths_not_mask_leaks():
    f = torch.tensor([[1.0, 1e-13], [4e-44, 0.0]])  # peak, a real small path, a -100 leak, no path
    assert torch.equal(reached_tokens(f), torch.tensor([[True, True], [False, False]]))
    assert torch.equal(f > 0, torch.tensor([[True, True], [True, False]]))  # what > 0 would say
    assert REACH_THRESHOLD == 1e-20


@pytest.mark.parametrize("args, message", [
    ((torch.ones(1, 2, 2),), r"\[H, W\]"),
    ((torch.ones(2, 2), 0.0), "0 < threshold < 1"),
    ((torch.ones(2, 2), 1.5), "0 < threshold < 1"),
])
def test_reached_tokens_rejects_wrong_input(args, message):
    with pytest.raises(ValueError, match=message):
        reached_tokens(*args)


@pytest.fixture(scope="module")
def stack():
    blocks = block_stack(14, 7, depth=2, dim=8, num_heads=2, seed=0)  # 2x2 windows, s = 3
    x = torch.randn(1, 14, 14, 8, generator=torch.Generator().manual_seed(0))
    return blocks, x


def test_one_wmsa_block_reaches_exactly_the_window_with_exact_zeros(stack):
    blocks, x = stack
    f = gradient_footprint(blocks[:1], x, (9, 2))  # window rows 7..13, columns 0..6
    window = torch.zeros(14, 14, dtype=torch.bool)
    window[7:, :7] = True
    assert torch.equal(reached_tokens(f), window)
    assert f[~window].max() == 0


def test_masked_pairs_leak_but_are_not_reached(stack):
    blocks, x = stack
    # token (1, 1) after W + SW: its shifted window wraps around to rows/columns 10..13, masked
    f = gradient_footprint(blocks, x, (1, 1))
    window = torch.zeros(14, 14, dtype=torch.bool)
    window[:7, :7] = True
    assert torch.equal(reached_tokens(f), window)
    assert f[~window].double().max() < 1e-38 * f.double().max()


def test_gradient_footprint_rejects_wrong_input(stack):
    blocks, x = stack
    with pytest.raises(ValueError, match=r"\[1, H, W, C\]"):
        gradient_footprint(blocks, x.expand(2, -1, -1, -1), (0, 0))
    with pytest.raises(ValueError, match="outside the 14x14 output map"):
        gradient_footprint(blocks, x, (14, 0))


def test_stage_footprints_token_above_the_patch():
    maps = stage_footprints(img_size=64, patch_size=4, window_size=4, depths=(2, 2), position=(5, 9))
    assert [m.shape for m in maps] == [(16, 16), (16, 16)]
    first = reached_tokens(maps[0])  # token (5, 9): W window rows 4..7, cols 8..11; SW (s = 2) rows 2..5, cols 6..9
    rows, cols = first.any(1).nonzero().flatten(), first.any(0).nonzero().flatten()
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (0, 7, 4, 11)
    assert reached_tokens(maps[1]).sum() > first.sum()
    with pytest.raises(ValueError, match="outside the 16x16 patch grid"):
        stage_footprints(img_size=64, patch_size=4, window_size=4, depths=(2, 2), position=(16, 0))


def test_figures_have_one_shared_colour_bar_and_a_legend():
    fig = plot_receptive_field(size=14, window_size=7, depths=(1, 2), dim=8)
    assert len(fig.axes) == 3 and len(fig.legends) == 1  # 2 panels + 1 colour bar for both
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels[0] == "W-MSA windows" and "SW-MSA" in labels[1] and labels[-1].startswith("grey: not reached")
    norms = [ax.images[0].norm for ax in fig.axes[:2]]
    assert all((n.vmin, n.vmax) == (COLOUR_FLOOR, 1.0) for n in norms)  # the same scale in every panel
    fig = plot_stage_receptive_field(img_size=64, patch_size=4, window_size=4, depths=(2, 2), position=(5, 9))
    assert len(fig.axes) == 3 and len(fig.legends) == 1


def _windows_per_axis(r: int, side: int, M: int, s: int) -> list[int]:
    """W-MSA window indices along one axis reached by position r after W-MSA + SW-MSA: two when its
    shifted window (rows s + M k ... s + M k + M - 1) lies inside the map, one when it wraps around."""
    if s <= r < side - M + s:
        return [(r - s) // M, (r - s) // M + 1]
    return [r // M]


@pytest.mark.slow
def test_wmsa_then_swmsa_reaches_four_two_or_one_windows_on_a_non_square_map():
    H, W, M, dim = 14, 21, 7, 8
    s = M // 2
    torch.manual_seed(0)
    blocks = nn.Sequential(SwinBlock(dim, (H, W), 2, M, 0), SwinBlock(dim, (H, W), 2, M, s)).eval()
    x = torch.randn(1, H, W, dim, generator=torch.Generator().manual_seed(0))
    counts = {}
    for r in range(H):
        for c in range(W):
            expected = torch.zeros(H, W, dtype=torch.bool)
            rows, cols = _windows_per_axis(r, H, M, s), _windows_per_axis(c, W, M, s)
            for a in rows:
                for b in cols:
                    expected[a * M:(a + 1) * M, b * M:(b + 1) * M] = True
            assert torch.equal(reached_tokens(gradient_footprint(blocks, x, (r, c))), expected), (r, c)
            counts[len(rows) * len(cols)] = counts.get(len(rows) * len(cols), 0) + 1
    assert counts == {4: 7 * 14, 2: 7 * 7 + 7 * 14, 1: 7 * 7}  # interior, edge, corner tokens


def test_corner_leak_in_float64_reaches_the_four_corner_windows_but_is_not_reached(stack):
    blocks, x = stack
    import copy
    f = gradient_footprint(copy.deepcopy(blocks).double(), x.double(), (1, 1))
    corners = torch.zeros(14, 14, dtype=torch.bool)
    corners[:7, :7] = corners[:7, 7:] = corners[7:, :7] = corners[7:, 7:] = True
    assert torch.equal(f > 0, corners)  # 14x14, M = 7: the 4 windows are the whole map
    own = torch.zeros(14, 14, dtype=torch.bool)
    own[:7, :7] = True
    assert torch.equal(reached_tokens(f), own)


@pytest.mark.slow
def test_stage_footprints_num_heads():
    kwargs = dict(img_size=32, patch_size=4, window_size=4, depths=(2, 2), position=(1, 1))
    assert torch.equal(stage_footprints(**kwargs)[1], stage_footprints(**kwargs, num_heads=(1, 2))[1])
    assert not torch.equal(stage_footprints(**kwargs)[1], stage_footprints(**kwargs, num_heads=(2, 4))[1])
    with pytest.raises(ValueError, match="one head count per stage"):
        stage_footprints(**kwargs, num_heads=(1, 2, 4))


def _luminance(rgb):
    return 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]


def test_light_means_large_and_both_ends_stand_out_from_not_reached():
    """The series' convention: heat maps light = large (not a reversed map), grey = not reached."""
    import numpy as np
    from matplotlib.colors import to_rgb
    fig = plot_receptive_field(size=14, window_size=7, depths=(1,), dim=8)
    cmap = fig.axes[0].images[0].get_cmap()
    values = np.linspace(0, 1, 11)
    luminance = [_luminance(cmap(v)) for v in values]
    assert all(a < b for a, b in zip(luminance, luminance[1:]))  # lighter with every step up
    grey = np.array(to_rgb(NOT_REACHED))
    for end in (0.0, 1.0):
        assert np.abs(np.array(cmap(end)[:3]) - grey).max() > 0.25  # neither end looks like 'not reached'
    assert grey.max() - grey.min() == 0
    assert np.allclose(cmap.get_bad()[:3], grey)


def test_block_pair_draws_two_pre_norm_blocks():
    fig = plot_block_pair()
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts.count("LN") == 4 and texts.count("MLP") == 2 and texts.count("+") == 4
    assert texts.count("W-MSA") == 1 and texts.count("SW-MSA") == 1
    assert texts.index("W-MSA") < texts.index("SW-MSA")  # W-MSA first, then SW-MSA


def test_the_token_mark_is_hollow_so_that_its_own_colour_shows():
    """The text says the lightest spot is the token itself: the mark must not cover it."""
    fig = plot_receptive_field(size=14, window_size=7, depths=(1,), dim=8)
    (mark,) = [line for line in fig.axes[0].get_lines() if line.get_marker() not in ("None", None, "")]
    assert mark.get_markerfacecolor() == "none" and mark.get_marker() == "o"
