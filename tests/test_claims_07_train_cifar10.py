"""Claims of notebook 07 that hold beyond its example, proven over several geometries; and the notebook's
attention-map cells run on a device other than the CPU (the meta device stands in for a GPU: it keeps
shapes and devices but no values, so any tensor made on the wrong device fails there as on CUDA)."""
import itertools
import json
import math
from pathlib import Path
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from swin_edu import WindowAttention, region_map, swin_cifar  # noqa: E402
from swin_edu.attention_maps import attention_map, relative_position_bias_image  # noqa: E402
from swin_edu.augment import cutmix  # noqa: E402
from swin_edu.data import DeviceLoader  # noqa: E402
from swin_edu.training import warmup_cosine  # noqa: E402

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "07_train_cifar10.ipynb"
VISIBLE = 1e-30  # "receives attention": masked pairs get ~e^-100 ~ 1e-44, far below

# (image side, patch, M): the cpu recipe's stage 1 (8x8, M = 4), the gpu recipe's (16x16, M = 4), and
# windows where M - s differs from s (M = 3, 5) or s = 3 (M = 6, 7)
GEOMETRIES = [(32, 4, 4), (32, 2, 4), (24, 4, 3), (40, 4, 5), (48, 4, 6), (28, 2, 7)]


def _model(img_size, patch, M, seed=0):
    torch.manual_seed(seed)
    model = swin_cifar(img_size=img_size, embed_dim=16, depths=(2,), num_heads=(2,), patch_size=patch,
                       window_size=M).eval()
    with torch.no_grad():  # biases large enough to matter
        for blk in model.layers[0].blocks:
            blk.attn.relative_position_bias_table.normal_(0, 1)
    return model


def _window(H, W, M, shift, q):
    """[H, W] bool: the tokens of the (shifted) window holding token q, in image order."""
    ys, xs = torch.meshgrid(torch.arange(H), torch.arange(W), indexing="ij")
    return ((((ys - shift) % H) // M == ((q[0] - shift) % H) // M)
            & (((xs - shift) % W) // M == ((q[1] - shift) % W) // M))


@pytest.mark.parametrize("img_size, patch, M", GEOMETRIES)
def test_a_token_attends_exactly_inside_its_window_within_its_region(img_size, patch, M):
    """Section 7's claim, for every query: W-MSA support = the query's window; SW-MSA support = the
    shifted window, cut to the query's region; every head's map sums to 1."""
    model = _model(img_size, patch, M)
    images = torch.randn(1, 3, img_size, img_size)
    H = W = img_size // patch
    s = model.layers[0].blocks[1].shift_size
    assert s == M // 2 > 0
    regions = torch.roll(region_map(H, W, M, s), (s, s), dims=(0, 1))
    for qy, qx in itertools.product(range(H), range(W)):
        pixel = (qy * patch + patch - 1, qx * patch)
        for block, shift in [(0, 0), (1, s)]:
            maps = attention_map(model, images, 0, block, pixel)[0]
            torch.testing.assert_close(maps.sum((-2, -1)), torch.ones(2))
            expected = _window(H, W, M, shift, (qy, qx))
            if shift:
                expected &= regions == regions[qy, qx]
            assert torch.equal((maps > VISIBLE).any(0), expected), (qy, qx, block)
            assert maps[:, ~expected].max() < 1e-40  # masked keys: ~e^-100, far below the threshold


@pytest.mark.parametrize("img_size, patch, M", GEOMETRIES[:3])
def test_where_a_query_attends_does_not_depend_on_the_weights(img_size, patch, M):
    """Section 7's claim "the windows and the mask alone, not training": two models with other weights
    (another initialisation, and biases and projections scaled up) give every query the same support."""
    a, b = _model(img_size, patch, M, seed=0), _model(img_size, patch, M, seed=1)
    with torch.no_grad():
        for blk in b.layers[0].blocks:
            blk.attn.qkv.weight.mul_(3)
            blk.attn.relative_position_bias_table.mul_(3)
    images = torch.randn(1, 3, img_size, img_size)
    H = img_size // patch
    for qy, qx in itertools.product(range(H), repeat=2):
        pixel = (qy * patch, qx * patch)
        for block in (0, 1):
            support_a = (attention_map(a, images, 0, block, pixel)[0] > VISIBLE).any(0)
            support_b = (attention_map(b, images, 0, block, pixel)[0] > VISIBLE).any(0)
            assert torch.equal(support_a, support_b), (qy, qx, block)


@pytest.mark.parametrize("M, seed", [(4, 0), (3, 1), (7, 2)])
def test_the_mask_multiplies_a_masked_keys_exponential_by_e_minus_100(M, seed):
    """Section 7 and Going deeper: -100 on a logit multiplies its term of the softmax by e^-100, so a masked
    key's weight is e^-100 * exp(logit) / (sum over the query's region): in float64 exactly that, far below
    1e-30; in float32, with logits as spread as a trained model's, often exactly 0."""
    torch.manual_seed(seed)
    H = W = 2 * M
    s = M // 2
    model = swin_cifar(img_size=H * 4, embed_dim=16, depths=(2,), num_heads=(2,), patch_size=4, window_size=M).eval()
    blk = model.layers[0].blocks[1]
    with torch.no_grad():
        blk.attn.relative_position_bias_table.normal_(0, 1)
    x = torch.randn(4, M * M, 16)  # the 4 windows of one 2M x 2M map
    mask = blk.attn_mask  # [nW, N, N], 0 / -100
    masked = mask < -1
    attn64 = blk.attn.double()
    unmasked = attn64.attention_weights(x.double())  # [nW, nH, N, N]: the same logits, no mask
    weights = attn64.attention_weights(x.double(), mask.double())
    region_share = (unmasked * ~masked[:, None]).sum(-1, keepdim=True)  # sum over the query's region
    expected = torch.where(masked[:, None], math.exp(-100) * unmasked, unmasked) / region_share
    torch.testing.assert_close(weights, expected, rtol=1e-9, atol=0)
    assert weights[masked[:, None].expand_as(weights)].max() < 1e-30
    blk.attn.float()
    with torch.no_grad():
        blk.attn.qkv.weight.mul_(4)  # spread-out logits, as after training
    weights32 = blk.attn.attention_weights(x, mask)
    values = weights32[masked[:, None].expand_as(weights32)]
    assert (values == 0).any() and values.max() < 1e-30
    assert s > 0


@pytest.mark.parametrize("H, W, M", [(8, 8, 4), (6, 6, 3), (10, 10, 5), (56, 56, 7), (8, 12, 4), (12, 8, 4),
                                     (14, 21, 7), (16, 16, 4)])
def test_corner_region_and_where_it_lands_without_the_roll_back(H, W, M):
    """Going deeper's corner rule: the bottom-right query's region is the last M - s rows and columns;
    without the roll by +s it lands s tokens up-left, on rows H-M .. H-s-1 and columns W-M .. W-s-1."""
    s = M // 2
    labels = torch.roll(region_map(H, W, M, s), (s, s), dims=(0, 1))
    region = labels == labels[H - 1, W - 1]
    ys, xs = region.nonzero(as_tuple=True)
    assert (ys.min(), ys.max(), xs.min(), xs.max()) == (H - M + s, H - 1, W - M + s, W - 1)
    assert region.sum() == (M - s) ** 2
    ly, lx = torch.roll(region, (-s, -s), dims=(0, 1)).nonzero(as_tuple=True)
    assert (ly.min(), ly.max(), lx.min(), lx.max()) == (H - M, H - s - 1, W - M, W - s - 1)


@pytest.mark.parametrize("img_size, patch, M", GEOMETRIES)
def test_corner_query_of_a_model_attends_to_its_region_only(img_size, patch, M):
    model = _model(img_size, patch, M)
    H = img_size // patch
    s = M // 2
    maps = attention_map(model, torch.randn(1, 3, img_size, img_size), 0, 1, (img_size - 1, img_size - 1))[0]
    expected = torch.zeros(H, H, dtype=torch.bool)
    expected[H - M + s:, H - M + s:] = True
    assert torch.equal((maps > VISIBLE).any(0), expected)


@pytest.mark.parametrize("M", [2, 3, 4, 7])
def test_bias_image_is_indexed_by_query_minus_key(M):
    """Section 8: entry [h, M-1 + Δy, M-1 + Δx] is the bias of every pair with Δ = query - key."""
    torch.manual_seed(M)
    attn = WindowAttention(dim=8, window_size=M, num_heads=2)
    with torch.no_grad():
        attn.relative_position_bias_table.normal_()
    image = relative_position_bias_image(attn)
    bias = attn.relative_position_bias().detach()  # [nH, N, N]: query i, key j
    assert image.shape == (2, 2 * M - 1, 2 * M - 1)
    for i, j in itertools.product(range(M * M), repeat=2):
        dy, dx = i // M - j // M, i % M - j % M
        assert torch.equal(image[:, M - 1 + dy, M - 1 + dx], bias[:, i, j])


@pytest.mark.parametrize("n, batch", [(1000, 128), (777, 100), (500, 500), (640, 128), (50, 7)])
def test_an_epoch_is_the_full_batches_and_the_dropped_images_change(n, batch):
    """Going deeper's loader rule: floor(n / batch) batches, distinct images, the last n mod batch of
    each epoch's permutation dropped, other ones each epoch."""
    images = torch.zeros(n, 3, 2, 2, dtype=torch.uint8)
    loader = DeviceLoader(images, torch.arange(n), batch, train=True, augment=None, seed=1)
    assert len(loader) == n // batch
    dropped = []
    for _ in range(3):
        seen = torch.cat([y for _, y in loader])
        assert len(seen) == n // batch * batch and len(seen.unique()) == len(seen)
        dropped.append(set(range(n)) - set(seen.tolist()))
        assert len(dropped[-1]) == n % batch
    if n % batch:
        assert dropped[0] != dropped[1] or dropped[1] != dropped[2]


@pytest.mark.parametrize("lam, center, size", [(0.6, (0.5, 0.5), (32, 32)), (0.1, (0.3, 0.7), (32, 32)),
                                               (0.95, (0.5, 0.5), (24, 40)), (0.5, (0.0, 1.0), (32, 32)),
                                               (0.3, (0.9, 0.1), (16, 48))])
def test_cutmix_pastes_one_box_of_the_partner_and_returns_the_area_kept(lam, center, size):
    H, W = size
    B = 4
    x = torch.randn(B, 3, H, W)
    markers = torch.arange(1.0, B + 1).view(B, 1, 1, 1).expand(B, 1, H, W)
    onehot = F.one_hot(torch.arange(B), 10).float()
    out, targets, kept = cutmix(x, onehot, lam, center)
    for b in range(B):
        box = cutmix(markers, onehot, lam, center)[0][b, 0] != b + 1
        rows, cols = box.any(1).nonzero().flatten(), box.any(0).nonzero().flatten()
        assert box.sum() == len(rows) * len(cols)  # one full rectangle
        assert torch.equal(out[b][:, box], x[B - 1 - b][:, box]) and torch.equal(out[b][:, ~box], x[b][:, ~box])
        assert math.isclose(kept, 1 - box.sum().item() / (H * W))
    torch.testing.assert_close(targets.sum(1), torch.ones(B))


@pytest.mark.parametrize("warmup", [1, 5, 117, 485])
def test_warm_up_does_not_depend_on_the_total(warmup):
    """Going deeper: a time budget changes the total number of steps during the warm-up; the warm-up's
    learning rates do not depend on it, so the curve stays one warm-up and one whole cosine to 0."""
    for total in (warmup + 1, 2 * warmup, 10 * warmup + 3):
        for step in range(warmup):
            assert warmup_cosine(step, warmup, total) == warmup_cosine(step, warmup, 7 * total)
        assert warmup_cosine(warmup - 1, warmup, total) == 1.0
        assert warmup_cosine(total, warmup, total) == pytest.approx(0.0)


@pytest.mark.parametrize("K, eps", [(10, 0.1), (2, 0.1), (100, 0.3)])
def test_label_smoothing_floor_is_the_smoothed_targets_entropy(K, eps):
    """Section 6: no training loss goes below the smoothed target's entropy (0.50 for K = 10, eps = 0.1);
    a prediction equal to the smoothed target reaches it."""
    target = (1 - eps) * F.one_hot(torch.tensor(0), K) + eps / K
    floor = -(target * target.log()).sum()
    torch.manual_seed(K)
    logits = torch.randn(1000, K) * 5
    losses = F.cross_entropy(logits, torch.zeros(1000, dtype=torch.long), label_smoothing=eps, reduction="none")
    assert (losses >= floor - 1e-5).all()
    best = F.cross_entropy(target.log()[None], torch.tensor([0]), label_smoothing=eps)
    torch.testing.assert_close(best, floor)
    if (K, eps) == (10, 0.1):
        assert f"{floor:.2f}" == "0.50"


# ---------------------------------------------------------------------------------------------------
# The notebook's own attention-map cells, on any device
# ---------------------------------------------------------------------------------------------------

def _cells():
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    text = ["".join(c["source"]) for c in cells]
    start = next(i for i, t in enumerate(text) if t.startswith("## 7."))
    stop = next(i for i, t in enumerate(text) if t.startswith("## 8."))
    imports = next(t for c, t in zip(cells, text) if c["cell_type"] == "code" and "import torch" in t)
    section = [t for c, t in zip(cells[start:stop], text[start:stop]) if c["cell_type"] == "code"]
    return imports, section


def _run_section_7(device, recipe_model, pixel, image_index=1, cells=None):
    imports, section = _cells()
    namespace = {}
    exec(imports, namespace)
    torch.manual_seed(0)
    namespace.update(model=swin_cifar(**recipe_model).to(device), DEVICE=torch.device(device), IMAGE_INDEX=image_index,
                     PIXEL=pixel, test_x=torch.randint(0, 256, (3, 3, 32, 32), dtype=torch.uint8),
                     recipe=SimpleNamespace(model=recipe_model))
    for source in section[:cells]:
        exec(source, namespace)
        plt.close("all")
    return namespace


def test_attention_cells_use_one_device_meta():
    """The hand-built map and its check against attention_map (the first two code cells of section 7)
    with the model and the images on the meta device: a tensor made on the CPU next to them (e.g. an
    expected `torch.ones(1, nH)`) fails as it would next to CUDA tensors."""
    cpu_recipe = dict(embed_dim=32, depths=(2, 2), num_heads=(2, 4), patch_size=4)
    ns = _run_section_7("meta", cpu_recipe, (14, 14), cells=2)
    assert ns["ours"].device.type == "meta" and ns["maps"].device.type == "meta"
    assert ns["ours"].shape == (1, 2, 8, 8)
    # the check itself catches device mixing (the GPU-review finding): an expected tensor on the CPU fails
    with pytest.raises(AssertionError, match="device"):
        torch.testing.assert_close(ns["maps"].sum((-2, -1)), torch.ones(1, 2))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU")
def test_attention_cells_run_on_cuda():
    ns = _run_section_7("cuda", dict(embed_dim=32, depths=(2, 2), num_heads=(2, 4), patch_size=4), (14, 14))
    assert ns["maps"].device.type == "cuda"


@pytest.mark.parametrize("recipe_model, pixel", [
    (dict(embed_dim=32, depths=(2, 2), num_heads=(2, 4), patch_size=4), (14, 14)),   # the cpu recipe's model
    (dict(embed_dim=32, depths=(2, 2), num_heads=(2, 4), patch_size=4), [30, 6]),    # a border query, a list
    (dict(embed_dim=24, depths=(2, 2), num_heads=(3, 6), patch_size=2), (31, 0)),    # the gpu recipe's patch 2
])
def test_attention_cells_run_for_other_models_and_queries(recipe_model, pixel):
    """Every code cell of section 7 (the explorer included) runs for another query or model: the learner
    changing the parameters gets new maps, never an AssertionError about the default example."""
    ns = _run_section_7("cpu", recipe_model, pixel)
    assert ns["w_ok"] and ns["sw_ok"]
