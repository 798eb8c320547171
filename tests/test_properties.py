"""Property tests: the identities that hold for every size."""
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import swin_edu as se


@st.composite
def maps(draw):
    M = draw(st.integers(1, 5))
    H, W = M * draw(st.integers(1, 4)), M * draw(st.integers(1, 4))
    B, C = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    return torch.randn(B, H, W, C), M


@settings(max_examples=50, deadline=None)
@given(maps())
def test_partition_then_reverse_is_identity(sample):
    x, M = sample
    assert torch.equal(se.window_reverse(se.window_partition(x, M), M, x.shape[1], x.shape[2]), x)


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 6), st.integers(1, 4), st.integers(1, 4), st.data())
def test_mask_is_symmetric_with_zero_diagonal(M, nh, nw, data):
    s = data.draw(st.integers(0, M - 1))
    mask = se.shifted_window_mask(M * nh, M * nw, M, s)
    assert torch.equal(mask, mask.transpose(1, 2))
    assert torch.all(mask.diagonal(dim1=1, dim2=2) == 0)
    assert set(mask.unique().tolist()) <= {0.0, -100.0}
