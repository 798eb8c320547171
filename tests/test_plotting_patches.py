"""The figures of notebooks 00-02: what they label is what they draw."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from einops import rearrange  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from swin_edu.analysis import zoom_box  # noqa: E402
from swin_edu.plotting import plot_hierarchy, plot_patch_grid, plot_pipeline  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.mark.parametrize("H, W, token, expected", [
    (224, 224, (20, 23), (64, 76, 32)),    # notebook 01: rows 64..95, columns 76..107
    (224, 224, (0, 0), (0, 0, 32)),        # clamped at the top-left corner
    (224, 224, (55, 55), (192, 192, 32)),  # clamped at the bottom-right corner
    (64, 128, (15, 2), (32, 0, 32)),       # non-square image
])
def test_zoom_box_contains_the_token_and_stays_inside(H, W, token, expected):
    top, left, side = zoom_box(H, W, 4, token, 8)
    assert (top, left, side) == expected
    assert top <= 4 * token[0] and 4 * token[0] + 4 <= top + side
    assert left <= 4 * token[1] and 4 * token[1] + 4 <= left + side
    assert 0 <= top and top + side <= H and 0 <= left and left + side <= W


@pytest.mark.parametrize("args, message", [
    ((226, 224, 4, (0, 0), 8), "multiples of the patch size"),
    ((224, 224, 4, (56, 0), 8), "outside the 56x56 grid"),
    ((224, 224, 4, (0, -1), 8), "outside"),
    ((32, 64, 4, (0, 0), 9), "between 1 and 8"),
])
def test_zoom_box_rejects_bad_input(args, message):
    with pytest.raises(ValueError, match=message):
        zoom_box(*args)


def test_patch_grid_labels_the_pixels_it_zooms_into():
    torch.manual_seed(0)
    image = torch.rand(3, 96, 128)
    token = (3, 25)
    top, left, side = zoom_box(96, 128, 4, token, 8)
    fig = plot_patch_grid(image, patch_size=4, token=token, zoom_patches=8)
    _, ax_zoom, ax_patch, ax_vals = fig.axes
    title = ax_zoom.get_title()
    assert f"rows {top}..{top + side - 1}" in title and f"columns {left}..{left + side - 1}" in title
    assert list(ax_zoom.get_xticks()) == [left, left + side - 1]
    assert list(ax_zoom.get_yticks()) == [top, top + side - 1]
    # the zoom panel shows exactly those pixels
    shown = torch.as_tensor(ax_zoom.get_images()[0].get_array().data)
    assert torch.equal(shown, rearrange(image[:, top:top + side, left:left + side], "c h w -> h w c"))
    assert "rows 12..15, columns 100..103" in ax_patch.get_title()
    # the bars are the token's 48 values in (p1 p2 c) order, coloured R, G, B with a legend
    heights = torch.tensor([bar.get_height() for bar in ax_vals.patches], dtype=torch.float32)
    expected = rearrange(image[:, 12:16, 100:104], "c p1 p2 -> (p1 p2 c)")
    torch.testing.assert_close(heights, expected)
    assert [t.get_text() for t in ax_vals.get_legend().get_texts()] == ["red", "green", "blue"]


def test_patch_figures_reject_images_that_are_not_rgb():
    with pytest.raises(ValueError, match=r"\[3, H, W\]"):
        plot_patch_grid(torch.rand(224, 224, 3))
    with pytest.raises(ValueError, match=r"\[3, S, S\]"):
        plot_hierarchy(torch.rand(3, 224, 192))


@pytest.mark.parametrize("kwargs, sides", [
    ({}, [224, 56, 56, 28, 14, 7, 1, 1]),
    ({"img_size": 32, "patch_size": 2, "depths": (2, 6, 2), "num_classes": 10}, [32, 16, 16, 8, 4, 1, 1]),
])
def test_pipeline_box_heights_are_proportional_to_the_side(kwargs, sides):
    fig = plot_pipeline(**kwargs)
    heights = [p.get_height() for p in fig.axes[0].patches if isinstance(p, Rectangle)]
    assert len(heights) == len(sides)
    ratios = torch.tensor(heights) / torch.tensor(sides, dtype=torch.float64)
    torch.testing.assert_close(ratios, torch.full_like(ratios, ratios[0].item()))
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert f"{sides[3]}x{sides[3]}x" in " ".join(texts)


def test_pipeline_rejects_sizes_that_cannot_be_halved():
    with pytest.raises(ValueError, match="multiple of patch_size"):
        plot_pipeline(img_size=100)


def test_patch_merging_figure_shows_the_4C_concatenation_and_names_its_colours():
    from matplotlib.colors import to_hex

    from swin_edu import merge_patches
    from swin_edu.plotting import SUBGRID_COLORS, plot_patch_merging

    fig = plot_patch_merging(4, 6)
    ax_cat = fig.axes[-1]
    title = ax_cat.get_title()
    assert "[2, 3, 4C]" in title and "2C" not in title  # the panel draws the concatenation, not the Linear
    # the legend names the colours x0..x3 in concatenation order
    legend = fig.legends[0]
    labels = [t.get_text() for t in legend.get_texts()]
    assert [label.split(":")[0] for label in labels] == ["x0", "x1", "x2", "x3"]
    assert "offset (1, 0)" in labels[1] and "bottom left" in labels[1]
    assert [to_hex(h.get_facecolor()) for h in legend.legend_handles] == [c.lower() for c in SUBGRID_COLORS]
    # the stripes of each merged token, left to right, are the tokens merge_patches puts in its channels
    merged = merge_patches(torch.arange(24).view(1, 4, 6, 1))[0]           # [2, 3, 4]
    stripes = sorted((round(t.get_position()[1] - 0.5), t.get_position()[0], int(t.get_text())) for t in ax_cat.texts)
    assert torch.equal(torch.tensor([s[2] for s in stripes]).view(2, 3, 4), merged)


def test_patch_merging_figure_rejects_odd_sides():
    from swin_edu.plotting import plot_patch_merging

    with pytest.raises(ValueError, match="even H and W"):
        plot_patch_merging(4, 5)


def test_embedding_idea_shows_the_patch_its_numbers_and_the_shapes():
    from swin_edu.plotting import plot_embedding_idea

    torch.manual_seed(0)
    image = torch.rand(3, 48, 64)
    fig = plot_embedding_idea(image, patch_size=4, embed_dim=24, token=(3, 10))
    ax_img, ax_flow = fig.axes
    assert "48x64 image: 12x16 = 192 patches of 4x4 pixels" in ax_img.get_title()
    # the outlined patch on the image is the followed one
    box = [p for p in ax_img.patches if isinstance(p, Rectangle)][0]
    assert box.get_xy() == (10 * 4 - 0.5, 3 * 4 - 0.5) and box.get_width() == 4
    patch_img, column = ax_flow.get_images()
    expected = image[:, 12:16, 40:44]
    assert torch.equal(torch.as_tensor(patch_img.get_array().data), rearrange(expected, "c h w -> h w c"))
    # the column of numbers: value k of the (p1 p2 c) vector in colour channel k % 3, the other two zero
    values = torch.as_tensor(column.get_array().data)[:, 0, :]  # [48, 3]
    flat = rearrange(expected, "c p1 p2 -> (p1 p2 c)")
    assert torch.equal(values[torch.arange(48), torch.arange(48) % 3], flat)
    assert values.sum() == flat.sum()
    texts = " ".join(t.get_text() for t in ax_flow.texts)
    assert "48 numbers" in texts and "Linear(48, 24)" in texts and "C = 24 numbers" in texts and "[12, 16, 24]" in texts


@pytest.mark.parametrize("image, token, message", [
    (torch.rand(3, 30, 32), (0, 0), "multiples of the patch size"),
    (torch.rand(3, 32, 32), (8, 0), "outside the 8x8 grid"),
    (torch.rand(32, 32, 3), (0, 0), r"\[3, H, W\]"),
])
def test_embedding_idea_rejects_bad_input(image, token, message):
    from swin_edu.plotting import plot_embedding_idea

    with pytest.raises(ValueError, match=message):
        plot_embedding_idea(image, patch_size=4, token=token)


@pytest.mark.parametrize("H, W", [(4, 4), (6, 10), (2, 8)])
def test_merging_idea_lists_the_four_tokens_of_every_block(H, W):
    from swin_edu.plotting import plot_merging_idea

    fig = plot_merging_idea(H, W)
    ax_in, _, ax_out = fig.axes
    assert f"[{H}, {W}, C]" in ax_in.get_title() and f"[{H // 2}, {W // 2}, 2C]" in ax_out.get_title()
    tokens = torch.arange(H * W).view(H, W)
    for t in ax_out.texts:  # centred on its block, listing the block's tokens as they sit
        x, y = t.get_position()
        i, j = int(y) // 2, int(x) // 2
        block = tokens[2 * i:2 * i + 2, 2 * j:2 * j + 2]
        assert [list(map(int, line.split())) for line in t.get_text().splitlines()] == block.tolist()
    assert len(ax_out.texts) == H * W // 4
    # each token on the left has the colour of its merged token on the right
    left = {(int(p.get_y()), int(p.get_x())): p.get_facecolor() for p in ax_in.patches if p.get_fill()}
    right = {(int(p.get_y()) // 2, int(p.get_x()) // 2): p.get_facecolor() for p in ax_out.patches}
    assert all(color == right[(i // 2, j // 2)] for (i, j), color in left.items())
    # neighbouring blocks differ, and only in grey: no hue that plot_patch_merging uses for a piece x0..x3
    for (i, j), color in right.items():
        assert color[0] == color[1] == color[2]
        if (i, j + 1) in right:
            assert right[(i, j + 1)] != color
        if (i + 1, j) in right:
            assert right[(i + 1, j)] != color
    assert "which tokens merge, not their channel order" in ax_out.get_title()


def test_merging_idea_rejects_odd_sides():
    from swin_edu.plotting import plot_merging_idea

    with pytest.raises(ValueError, match="even H and W"):
        plot_merging_idea(5, 4)
