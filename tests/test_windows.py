"""Windows, masks and relative position index equal timm's and torchvision's."""
import pytest
import torch
from timm.models import swin_transformer as timm_swin

import swin_edu as se


@pytest.mark.parametrize("H,W,M", [(56, 56, 7), (8, 12, 4), (4, 4, 2)])
def test_window_partition_and_reverse_equal_timm(H, W, M):
    x = torch.randn(2, H, W, 5)
    windows = se.window_partition(x, M)
    assert windows.shape == (2 * (H // M) * (W // M), M, M, 5)
    assert torch.equal(windows, timm_swin.window_partition(x, (M, M)))
    assert torch.equal(se.window_reverse(windows, M, H, W), timm_swin.window_reverse(windows, (M, M), H, W))


def test_windows_are_ordered_batch_first_then_row_major():
    x = torch.arange(2 * 4 * 4).view(2, 4, 4, 1)
    windows = se.window_partition(x, 2)
    assert windows[1, 0, 0, 0] == x[0, 0, 2, 0]  # second window of image 0: top right
    assert windows[2, 0, 0, 0] == x[0, 2, 0, 0]  # third: bottom left
    assert windows[4, 0, 0, 0] == x[1, 0, 0, 0]  # fifth: first window of image 1


@pytest.mark.parametrize("M", [1, 2, 7, 12])
def test_relative_position_index_equals_timm_and_torchvision(M):
    index = se.relative_position_index(M)
    assert index.dtype == torch.int64 and index.shape == (M * M, M * M)
    assert torch.equal(index, timm_swin.get_relative_position_index(M, M))
    from torchvision.models.swin_transformer import ShiftedWindowAttention

    tv = ShiftedWindowAttention(dim=8, window_size=[M, M], shift_size=[0, 0], num_heads=2)
    assert torch.equal(index.flatten(), tv.relative_position_index)


@pytest.mark.parametrize("H,M,s", [(56, 7, 3), (28, 7, 3), (14, 7, 3), (4, 2, 1)])
def test_shifted_window_mask_equals_timm_block_buffer(H, M, s):
    block = timm_swin.SwinTransformerBlock(dim=8, input_resolution=(H, H), num_heads=2, window_size=M, shift_size=s)
    mask = se.shifted_window_mask(H, H, M, s)
    assert mask.shape == ((H // M) ** 2, M * M, M * M)
    assert torch.equal(mask, block.attn_mask)
    assert set(mask.unique().tolist()) == {0.0, -100.0}


def test_region_map_labels_the_rolled_map_in_a_3x3_grid():
    regions = se.region_map(8, 8, 4, 2)
    assert regions.unique().tolist() == list(range(9))
    assert regions[0, 0] == 0 and regions[0, 4] == 1 and regions[0, 6] == 2 and regions[7, 7] == 8
    assert torch.equal(se.region_map(8, 8, 4, 0), torch.zeros(8, 8, dtype=torch.int64))
    # the top-right window of the rolled map mixes labels 1 and 2 (regions 5 and 3 when numbered on the original map)
    assert se.region_map(8, 8, 4, 2)[:4, 4:].unique().tolist() == [1, 2]


def test_mask_blocks_exactly_the_pairs_from_different_regions():
    H, M, s = 8, 4, 2
    labels = se.window_partition(se.region_map(H, H, M, s)[None, :, :, None], M).flatten(1)
    mask = se.shifted_window_mask(H, H, M, s)
    same = labels[:, :, None] == labels[:, None, :]
    assert torch.equal(mask == 0, same)

