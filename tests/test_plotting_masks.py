"""The figures of notebook 04 and the two region numberings they draw (official labels, original map)."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from swin_edu import region_map, shifted_window_mask  # noqa: E402
from swin_edu.analysis import original_region_map, region_views, window_name  # noqa: E402
from swin_edu.plotting import masks  # noqa: E402


@pytest.mark.parametrize("H, W, M", [(8, 8, 4), (56, 56, 7), (12, 16, 4), (14, 7, 7)])
def test_original_numbering_is_the_code_labels_rolled_back(H, W, M):
    s = M // 2
    code = region_map(H, W, M, s)
    i, j = code // 3, code % 3
    as_original = 3 * ((i + 1) % 3) + (j + 1) % 3
    assert torch.equal(torch.roll(as_original, (s, s), (0, 1)), original_region_map(H, W, M, s))


def test_top_right_window_holds_original_map_regions_5_and_3():
    original = torch.roll(original_region_map(8, 8, 4, 2), (-2, -2), (0, 1))
    assert original[:4, 4:].unique().tolist() == [3, 5]
    assert region_map(8, 8, 4, 2)[:4, 4:].unique().tolist() == [1, 2]


@pytest.mark.parametrize("name", sorted(masks.FIGURES))
def test_registered_figures_draw(name):
    fig = masks.FIGURES[name]()
    assert isinstance(fig, Figure)
    plt.close(fig)


def test_weights_and_reach_figures_draw():
    weights = torch.full((16, 16), 1 / 16)
    labels = torch.tensor([5, 5, 3, 3] * 4)
    for fig in (masks.plot_window_weights(weights, labels),
                masks.plot_reach(torch.ones(2, 8, 8, dtype=torch.bool), ["a", "b"], 4, (3, 3))):
        assert isinstance(fig, Figure)
        plt.close(fig)


# --- region_views: the logic of the region figures and of the shift explorer -------------------------

GEOMETRIES = [(8, 8, 4, 2, 1), (8, 8, 4, 1, 3), (12, 8, 4, 3, 5), (8, 12, 4, 1, 0), (7, 14, 7, 3, 1),
              (14, 21, 7, 3, 5), (56, 56, 7, 3, 63), (6, 9, 3, 2, 4)]


@pytest.mark.parametrize("H, W, M, s, window", GEOMETRIES)
def test_region_views_agree_with_the_package_and_the_modulo_formula(H, W, M, s, window):
    views = region_views(H, W, M, s, window)
    code = region_map(H, W, M, s)
    assert torch.equal(views.code, code)
    assert torch.equal(views.original, original_region_map(H, W, M, s))
    assert torch.equal(views.original_rolled, torch.roll(views.original, (-s, -s), (0, 1)))
    assert torch.equal(views.code_back, torch.roll(code, (s, s), (0, 1)))
    i, j = code // 3, code % 3  # the formula: code label 3i + j is original-map region 3((i+1) % 3) + (j+1) % 3
    assert torch.equal(views.original_rolled, 3 * ((i + 1) % 3) + (j + 1) % 3)
    # the chosen window: its tokens on the rolled map, their labels row-major, its mask
    assert views.window == window and int(views.inside.sum()) == M * M
    row, col = divmod(window, W // M)
    assert views.inside[row * M:(row + 1) * M, col * M:(col + 1) * M].all()
    assert torch.equal(views.code_in_window, code[row * M:(row + 1) * M, col * M:(col + 1) * M].flatten())
    assert torch.equal(views.original_in_window, views.original_rolled[views.inside])
    assert torch.equal(views.mask, shifted_window_mask(H, W, M, s)[window])
    # both numberings name the same regions: the original-map numbers give the same mask
    same = views.original_in_window[:, None] == views.original_in_window[None, :]
    assert torch.equal(views.mask == 0, same)


def test_region_views_default_window_is_the_top_right_one():
    views = region_views(8, 12, 4, 2)
    assert views.window == 2 and views.inside[:4, 8:].all()
    assert sorted(region_views(8, 8, 4, 2).original_in_window.unique().tolist()) == [3, 5]
    assert region_views(8, 8, 4, 2).code_in_window.unique().tolist() == [1, 2]


@pytest.mark.parametrize("args, message", [
    ((10, 10, 4, 2, 0), "multiples of the window size"),
    ((8, 8, 4, 0, 0), "1 <= s < M"),
    ((8, 8, 4, 4, 0), r"shift must be in \[0, window_size\)"),
    ((8, 8, 4, 2, 4), "nW = 4 windows"),
    ((8, 8, 4, 2, -1), "nW = 4 windows"),
])
def test_region_views_rejects_what_the_package_does_not_accept(args, message):
    with pytest.raises(ValueError, match=message):
        region_views(*args)
    with pytest.raises(ValueError, match=message):
        masks.plot_shift_explorer(*args)


def test_original_region_map_rejects_a_zero_shift():
    with pytest.raises(ValueError, match="1 <= s < M"):
        original_region_map(8, 8, 4, 0)


@pytest.mark.parametrize("H, W, M, s, window", [(8, 8, 4, 2, 1), (7, 14, 7, 3, 0), (12, 8, 4, 1, 5)])
def test_shift_explorer_figure_draws(H, W, M, s, window):
    fig = masks.plot_shift_explorer(H, W, M, s, window)
    assert isinstance(fig, Figure)
    assert f"{window_name(H, W, M, window)} holds" in fig.get_suptitle().lower()
    plt.close(fig)


@pytest.mark.parametrize("H, W, M, window, name", [
    (8, 8, 4, 1, "the top-right window (window 1)"),
    (12, 16, 4, 3, "the top-right window (window 3)"),
    (12, 16, 4, 0, "the top-left window (window 0)"),
    (12, 16, 4, 11, "the bottom-right window (window 11)"),
    (12, 16, 4, 5, "window 5 (window row 1, column 1)"),
    (4, 8, 4, 1, "the top-right window (window 1)"),
])
def test_window_name_follows_the_geometry(H, W, M, window, name):
    assert window_name(H, W, M, window) == name


@pytest.mark.parametrize("H, W, M, s, window", [(8, 8, 4, 2, None), (12, 16, 4, 2, None), (12, 16, 4, 1, 5)])
def test_text_and_titles_name_the_window_the_same_way(H, W, M, s, window):
    """The window the figures draw is named as the notebook's text names it, for any geometry."""
    views = region_views(H, W, M, s, window)
    name = window_name(H, W, M, views.window)
    for fig in (masks.plot_mask_window(H, W, M, s, window), masks.plot_shift_explorer(H, W, M, s, window)):
        titles = " ".join([fig.get_suptitle()] + [ax.get_title() for ax in fig.axes]).lower()
        assert name.lower() in titles
        plt.close(fig)
    if window is None:
        assert name.startswith("the top-right window")


def test_mask_figure_draws_masked_pairs_grey_and_the_rest_white():
    """The series' convention: light = large (0 added), grey = masked (-100)."""
    fig = masks.plot_mask_window(8, 8, 4, 2)
    image = fig.axes[1].images[0]
    rgba = image.to_rgba(image.get_array())
    mask = region_views(8, 8, 4, 2).mask
    grey = rgba[mask.numpy() != 0][:, :3]
    white = rgba[mask.numpy() == 0][:, :3]
    assert (abs(grey - grey[:, :1]) < 1e-6).all() and 0.4 < grey.min() and grey.max() < 0.8  # neutral grey
    assert (white > 0.99).all()
    assert "grey -100 = masked" in fig.axes[1].get_title()
    plt.close(fig)


def test_shift_idea_title_claims_only_what_holds():
    """Corner pieces of the shifted grid lie inside one W-MSA window: the title must not say every one straddles."""
    fig = masks.plot_shift_idea(8, 8, 4, 2)
    title = fig.axes[0].get_title()
    assert "each shifted window" not in title and "crosses a W-MSA border" in title
    plt.close(fig)


def test_region_maps_show_both_numberings_and_count_the_regions():
    fig = masks.plot_region_maps(8, 8, 4, 2)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[0].startswith("numbered on the original map") and titles[3].startswith("official labels")
    plt.close(fig)
    # a side equal to M empties that axis's first band: 9 regions, 6 with one such side, 4 with both
    counts = {(H, W): region_views(H, W, 4, 2).original.unique().numel()
              for H, W in [(8, 8), (4, 8), (8, 4), (4, 4)]}
    assert counts == {(8, 8): 9, (4, 8): 6, (8, 4): 6, (4, 4): 4}


@pytest.mark.parametrize("H, W, M, s, window", [(8, 8, 4, 2, None), (12, 16, 4, 2, 2), (14, 21, 7, 3, 0)])
def test_main_line_figures_draw_one_numbering(H, W, M, s, window):
    """The main line's figures show only the official labels: no panel names the other numbering."""
    for fig in (masks.plot_shift_idea(H, W, M, s), masks.plot_regions(H, W, M, s, window),
                masks.plot_mask_window(H, W, M, s, window), masks.plot_shift_explorer(H, W, M, s, window)):
        assert isinstance(fig, Figure)
        titles = " ".join(ax.get_title() for ax in fig.axes)
        assert "numbered on the original map" not in titles and "the same numbers" not in titles
        plt.close(fig)


def test_regions_figure_writes_the_official_labels():
    fig = masks.plot_regions(8, 8, 4, 2)
    rolled = fig.axes[1]
    assert sorted(int(t.get_text()) for t in rolled.texts) == list(range(9))
    plt.close(fig)


def test_shift_idea_rejects_what_the_package_does_not_accept():
    with pytest.raises(ValueError, match="multiples of the window size"):
        masks.plot_shift_idea(10, 8, 4, 2)
    with pytest.raises(ValueError, match="1 <= s < M"):
        masks.plot_shift_idea(8, 8, 4, 0)


def _window_lines(fig):
    """(colour, line style, has a black edge) of every line drawn in the figure's panels and legends."""
    lines = [line for ax in fig.axes for line in ax.get_lines()]
    for legend in fig.legends + [ax.get_legend() for ax in fig.axes if ax.get_legend()]:
        lines += [h for h in legend.legend_handles if isinstance(h, matplotlib.lines.Line2D)]
    return [(line.get_color(), line.get_linestyle(), bool(line.get_path_effects())) for line in lines
            if line.get_linestyle() not in ("None", "none", "")]


def test_one_line_convention_for_the_windows_in_notebooks_04_and_06():
    """W-MSA windows solid white, SW-MSA windows dashed cyan, both edged in black, in every figure and legend
    of notebooks 04 and 06; the explorer's highlighted window is a third style (thick red, no edge)."""
    from matplotlib.colors import same_color

    from swin_edu.plotting import model
    figs = [masks.plot_shift_idea(8, 8, 4, 2), masks.plot_shift_explorer(8, 8, 4, 2),
            masks.plot_region_maps(8, 8, 4, 2),
            masks.plot_reach(torch.ones(2, 8, 8, dtype=torch.bool), ["a", "b"], 4, (3, 3)),
            model.plot_receptive_field(size=14, window_size=7, depths=(1, 2), dim=8),
            model.plot_stage_receptive_field(img_size=64, patch_size=4, window_size=4, depths=(2, 2), position=(5, 9))]
    for fig in figs:
        kinds = _window_lines(fig)
        assert kinds
        for colour, style, edged in kinds:
            if same_color(colour, masks._HIGHLIGHT):
                assert style == "-" and not edged  # the highlighted window
            else:
                assert edged and ((same_color(colour, "white") and style == "-")
                                  or (same_color(colour, "cyan") and style == "--")), (fig, colour, style)
        plt.close(fig)
    explorer = masks.plot_shift_explorer(8, 8, 4, 2)
    assert any(same_color(c, masks._HIGHLIGHT) for c, _, _ in _window_lines(explorer))
    assert any(same_color(c, "cyan") for c, _, _ in _window_lines(explorer))
    plt.close(explorer)
