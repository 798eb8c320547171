"""The attention explorer of notebook 07: its logic (query_attention, draw_attention) and its widget."""
import matplotlib

matplotlib.use("Agg")
import pytest  # noqa: E402
import torch  # noqa: E402

from swin_edu import swin_cifar  # noqa: E402
from swin_edu.attention_maps import attention_map  # noqa: E402
from swin_edu.data import normalize  # noqa: E402
from swin_edu.explorers import explore_attention  # noqa: E402
from swin_edu.analysis import query_attention  # noqa: E402
from swin_edu.explorers.attention import draw_attention  # noqa: E402

VISIBLE = 1e-30  # masked pairs get ~e^-100 (a denormal), visible ones far more


@pytest.fixture(scope="module")
def setup():
    torch.manual_seed(0)
    # patch 4: stage 0 on 8x8 (M = 4, depth 4: W, SW, W, SW), stage 1 on 4x4 (one window, depth 2, no shift)
    model = swin_cifar(embed_dim=16, depths=(4, 2), num_heads=(2, 4), patch_size=4).eval()
    with torch.no_grad():  # biases large enough that the heads differ
        for blk in model.layers[0].blocks:
            blk.attn.relative_position_bias_table.normal_(0, 1)
    images = torch.randint(0, 256, (3, 3, 32, 32), dtype=torch.uint8, generator=torch.Generator().manual_seed(1))
    return model, images


@pytest.mark.parametrize("stage, block", [(0, 0), (0, 1), (0, 3), (1, 1)])
def test_query_attention_is_attention_map_of_the_normalised_image(setup, stage, block):
    model, images = setup
    for index, pixel in [(0, (14, 14)), (2, (31, 0)), (1, (3, 29))]:
        maps = query_attention(model, images, index, stage, block, pixel)
        nH = model.layers[stage].blocks[block].attn.num_heads
        side = 8 >> stage
        assert maps.shape == (nH, side, side)
        expected = attention_map(model, normalize(images[index:index + 1]), stage, block, pixel)[0]
        assert torch.equal(maps, expected)
        torch.testing.assert_close(maps.sum((-2, -1)), torch.ones(nH))  # each head: 1 over the window
        assert (maps >= 0).all()


def test_query_attention_support_is_the_query_window(setup):
    model, images = setup
    # W-MSA, token (3, 5): window rows 0-3, columns 4-7; SW-MSA (s = 2): rows 2-5, columns 2-5
    w = (query_attention(model, images, 0, 0, 0, (13, 22)) > VISIBLE).any(0)
    expected = torch.zeros(8, 8, dtype=torch.bool)
    expected[0:4, 4:8] = True
    assert torch.equal(w, expected)
    sw = (query_attention(model, images, 0, 0, 1, (13, 14)) > VISIBLE).any(0)
    expected = torch.zeros(8, 8, dtype=torch.bool)
    expected[2:6, 2:6] = True
    assert torch.equal(sw, expected)
    # the images differ, so the weights differ (the support does not)
    a, b = (query_attention(model, images, i, 0, 1, (13, 14)) for i in (0, 1))
    assert not torch.equal(a, b)


@pytest.mark.parametrize("args, message", [
    ((3, 0, 0, (0, 0)), r"index must be in 0\.\.2"),
    ((0, 2, 0, (0, 0)), r"stage must be in 0\.\.1"),
    ((0, 0, 4, (0, 0)), r"block must be in 0\.\.3: stage 0 \(0-based\) has 4 blocks"),
    ((0, 1, 2, (0, 0)), r"block must be in 0\.\.1: stage 1 \(0-based\) has 2 blocks"),
    ((0, 0, 0, (32, 0)), "outside the 8x8 token grid"),
])
def test_query_attention_rejects_wrong_input(setup, args, message):
    model, images = setup
    with pytest.raises(ValueError, match=message):
        query_attention(model, images, *args)


def test_query_attention_rejects_float_images_and_training_mode(setup):
    model, images = setup
    with pytest.raises(ValueError, match="expected uint8 images"):
        query_attention(model, images.float(), 0, 0, 0, (0, 0))
    with pytest.raises(ValueError, match="takes 32x32 images"):
        query_attention(model, images[..., :16, :16], 0, 0, 0, (0, 0))
    model.train()
    try:
        with pytest.raises(ValueError, match="eval mode"):
            query_attention(model, images, 0, 0, 0, (0, 0))
    finally:
        model.eval()


def test_draw_attention_one_panel_per_head_plus_the_image(setup):
    model, images = setup
    fig = draw_attention(model, images, 1, 0, 1, 14, 14)
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in panels] == ["image", "head 0", "head 1"]
    assert "block 2 (code: stage=0, block=1; SW-MSA, M = 4, s = 2)" in fig._suptitle.get_text()


def test_explorer_redraws_and_the_block_range_follows_the_stage_depth(setup):
    model, images = setup
    explorer = explore_attention(model, images, index=0, stage=0, block=3, pixel=(14, 14))
    first = explorer.image.value
    assert first[:8] == b"\x89PNG\r\n\x1a\n"
    assert explorer.controls["block"].max == 3  # stage 0 has 4 blocks
    for name, value in [("row", 30), ("index", 2), ("block", 2)]:
        before = explorer.image.value
        explorer.controls[name].value = value
        assert explorer.status.value == ""
        assert explorer.image.value != before, name
    assert explorer.image.value != first
    explorer.controls["block"].value = 3
    explorer.controls["stage"].value = 1  # depth 2: block 3 does not exist there
    assert explorer.controls["block"].max == 1 and explorer.controls["block"].value == 1
    assert explorer.status.value == ""  # drawn, no error
    explorer.controls["stage"].value = 0  # back to depth 4: the range widens, the block stays
    assert explorer.controls["block"].max == 3 and explorer.controls["block"].value == 1
    assert explorer.controls["row"].max == explorer.controls["col"].max == 31


def test_explorer_static_output_and_bad_start_values(setup):
    model, images = setup
    bundle = explore_attention(model, images)._repr_mimebundle_()
    assert "image/png" in bundle and "stage=0, block=1, row=14, col=14" in bundle["text/plain"]
    with pytest.raises(ValueError, match="block must be in 0..1"):
        explore_attention(model, images, stage=1, block=2)
    with pytest.raises(ValueError, match="index must be in"):
        explore_attention(model, images, index=3)
