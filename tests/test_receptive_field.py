"""Notebook 06's receptive-field helpers: gradient footprints, the 'reached' threshold, the figures."""
import matplotlib

matplotlib.use("Agg")
import pytest  # noqa: E402
import torch  # noqa: E402

from swin_edu.plotting import (REACH_THRESHOLD, block_stack, gradient_footprint, plot_receptive_field,  # noqa: E402
                               plot_stage_receptive_field, reached_tokens, stage_footprints)


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


def test_figures_have_a_colour_bar_per_panel_and_a_legend():
    fig = plot_receptive_field(size=14, window_size=7, depths=(1, 2), dim=8)
    assert len(fig.axes) == 4 and len(fig.legends) == 1  # 2 panels + 2 colour bars
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels[0] == "W-MSA windows" and "SW-MSA" in labels[1] and labels[-1].startswith("white: not reached")
    fig = plot_stage_receptive_field(img_size=64, patch_size=4, window_size=4, depths=(2, 2), position=(5, 9))
    assert len(fig.axes) == 4 and len(fig.legends) == 1
