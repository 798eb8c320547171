"""swin_edu.augment: what each batched augmentation does, checked on the CPU (PIL as the reference where
it has the op)."""
import numpy as np
import pytest
import torch
from PIL import Image, ImageOps

from swin_edu.augment import (MAX_ROTATE, MAX_TRANSLATE, TA_OPS, BatchAugment, _rotate, apply_op, cutmix, mixup,
                              random_erasing, trivial_augment, trivial_augment_draws)
from swin_edu.data import DeviceLoader


def images(n: int = 8, size: int = 32, seed: int = 0) -> torch.Tensor:
    """uint8 [n, 3, size, size]: smooth gradients plus noise, so that every op changes something."""
    g = torch.Generator().manual_seed(seed)
    ramp = torch.linspace(0, 160, size)
    base = ramp[None, None, :, None] + ramp[None, None, None, :] * torch.rand(n, 3, 1, 1, generator=g)
    return (base * 0.7 + torch.randint(0, 60, (n, 3, size, size), generator=g)).clamp(0, 255).to(torch.uint8)


def to_pil(img: torch.Tensor) -> Image.Image:
    return Image.fromarray(img.permute(1, 2, 0).numpy())


def from_pil(img: Image.Image) -> torch.Tensor:
    return torch.from_numpy(np.array(img)).permute(2, 0, 1)


# ---------------------------------------------------------------- TrivialAugment ops

@pytest.mark.parametrize("op", TA_OPS)
def test_every_op_keeps_shape_and_value_range(op):
    x = images().float()
    for strength in (torch.full((8,), 1.0), torch.full((8,), -1.0), torch.linspace(-1, 1, 8)):
        out = apply_op(x, op, strength)
        assert out.shape == x.shape and out.dtype == torch.float32
        assert out.min() >= 0 and out.max() <= 255, op


@pytest.mark.parametrize("op", ["shear_x", "shear_y", "translate_x", "translate_y", "rotate", "posterize"])
def test_geometric_ops_and_posterize_are_exact_identity_at_strength_0(op):
    x = images().float()
    assert torch.equal(apply_op(x, op, torch.zeros(8)), x)


@pytest.mark.parametrize("op", ["brightness", "color", "contrast", "sharpness"])
def test_enhance_ops_are_identity_at_strength_0_and_change_the_image_otherwise(op):
    x = images().float()
    torch.testing.assert_close(apply_op(x, op, torch.zeros(8)), x, atol=1e-4, rtol=0)
    assert (apply_op(x, op, torch.full((8,), 0.8)) - x).abs().mean() > 1


def test_translate_moves_by_whole_pixels_and_fills_zeros():
    x = images(2).float()
    step = 8 / (MAX_TRANSLATE * 32)
    out = apply_op(x, "translate_x", torch.tensor([step, -step]))  # +-8 pixels
    moved = [torch.equal(o[..., 8:], i[..., :-8]) or torch.equal(o[..., :-8], i[..., 8:]) for o, i in zip(out, x)]
    assert all(moved)
    assert (out[0][..., :8] == 0).all() or (out[0][..., -8:] == 0).all()
    assert not torch.equal(out[0], out[1])  # the sign picks the direction


def test_rotation_by_90_degrees_is_rot90_and_rotate_goes_to_max_rotate():
    x = images(2).float()
    out = _rotate(x, torch.tensor([90.0, -90.0]))  # the warp behind rotate, about the image centre
    k = 1 if torch.equal(out[0], torch.rot90(x[0], 1, (1, 2))) else -1
    assert torch.equal(out[0], torch.rot90(x[0], k, (1, 2))) and torch.equal(out[1], torch.rot90(x[1], -k, (1, 2)))
    assert torch.equal(apply_op(x, "rotate", torch.tensor([1.0, -0.5])), _rotate(x, torch.tensor([MAX_ROTATE, -MAX_ROTATE / 2])))


def test_shear_keeps_the_centre_row_and_moves_the_others():
    x = images(1).float()
    out = apply_op(x, "shear_x", torch.tensor([0.5]))
    # rows at the centre (y = +-0.5 pixel from it) shift by a quarter pixel at most: unchanged
    assert torch.equal(out[..., 15:17, :], x[..., 15:17, :])
    assert not torch.equal(out[..., :4, :], x[..., :4, :])


@pytest.mark.parametrize("op, pil", [
    ("equalize", ImageOps.equalize),
    ("autocontrast", ImageOps.autocontrast),
    ("posterize", lambda im: ImageOps.posterize(im, 5)),
    ("solarize", lambda im: ImageOps.solarize(im, 128)),
])
def test_pixel_ops_match_pil(op, pil):
    x = images(4)
    x[3] = x[3] // 4 + 100  # a narrow range: autocontrast and equalize have something to stretch
    x[2, 1] = 77  # one channel of a single level: left unchanged by both
    # posterize to 8 - 0.75 * 4 = 5 bits; solarize from 255 * (1 - 0.5) = 127.5, i.e. levels >= 128
    strength = {"posterize": torch.full((4,), 0.75), "solarize": torch.full((4,), 0.5)}.get(op, torch.ones(4))
    out = apply_op(x.float(), op, strength).round().to(torch.int16)
    expected = torch.stack([from_pil(pil(to_pil(img))) for img in x]).to(torch.int16)
    assert not torch.equal(out, x.to(torch.int16))
    if op == "autocontrast":  # PIL computes the stretch in doubles and truncates: off by one at times
        assert (out - expected).abs().max() <= 1 and (out == expected).float().mean() > 0.95
    else:
        assert torch.equal(out, expected), op


def test_unknown_op_is_value_error():
    with pytest.raises(ValueError, match="identity"):
        apply_op(images().float(), "blur", torch.zeros(8))


@pytest.mark.parametrize("crop", [None, (17, 29)])  # square, and a non-square crop (translations per axis)
def test_trivial_augment_applies_one_op_per_image(crop):
    x = images(64) if crop is None else images(64)[:, :, :crop[0], :crop[1]].contiguous()
    out = trivial_augment(x, torch.Generator().manual_seed(5))
    assert out.shape == x.shape and out.dtype == torch.uint8
    g = torch.Generator().manual_seed(5)  # the same draws as inside trivial_augment
    op = torch.randint(0, len(TA_OPS), (64,), generator=g)
    level = torch.randint(0, 31, (64,), generator=g)
    sign = torch.randint(0, 2, (64,), generator=g) * 2 - 1
    strength = level / 30 * sign
    assert len(op.unique()) > 10  # most ops drawn at least once
    for b in range(64):  # the reference: the drawn op applied to that image alone
        alone = apply_op(x[b:b + 1].float(), TA_OPS[op[b]], strength[b:b + 1]).round().to(torch.uint8)
        assert torch.equal(out[b:b + 1], alone), (b, TA_OPS[op[b]])
    assert torch.equal(out, trivial_augment(x, torch.Generator().manual_seed(5)))


def test_trivial_augment_draws_are_those_of_trivial_augment():
    g = torch.Generator().manual_seed(5)
    op = torch.randint(0, len(TA_OPS), (64,), generator=g)
    level = torch.randint(0, 31, (64,), generator=g)
    sign = torch.randint(0, 2, (64,), generator=g) * 2 - 1
    draws = trivial_augment_draws(64, "cpu", torch.Generator().manual_seed(5))
    assert torch.equal(draws[0], op) and torch.equal(draws[1], level / 30 * sign)


def test_trivial_augment_op_histogram_is_uniform_over_the_14_ops():
    """14,000 seeded draws: every op about 1,000 times (chi-square, 13 degrees of freedom, below its 0.1 %
    critical value 34.5; each count within 5 standard deviations). translate_x and translate_y are two of
    the 14 ops: a translation of some kind has odds 2/14, any geometric op (2 shears, 2 translations,
    rotation; all fill with black) 5/14."""
    n = 14_000
    op, strength = trivial_augment_draws(n, "cpu", torch.Generator().manual_seed(0))
    counts = torch.bincount(op, minlength=len(TA_OPS)).double()
    assert len(counts) == len(TA_OPS) == 14
    expected = n / len(TA_OPS)
    assert ((counts - expected) ** 2 / expected).sum() < 34.5, counts.tolist()
    assert ((counts - expected).abs() < 5 * (expected * 13 / 14) ** 0.5).all(), counts.tolist()
    levels = torch.bincount((strength.abs() * 30).round().long(), minlength=31)
    assert len(levels) == 31 and levels.min() > 0
    assert abs((strength > 0).double().mean() - 0.5 * (1 - (levels[0] / n))) < 0.02  # signs balanced
    geometric = sum(counts[TA_OPS.index(name)] for name in ("shear_x", "shear_y", "translate_x", "translate_y", "rotate"))
    assert abs(geometric / n - 5 / 14) < 0.02


def test_trivial_augment_checks_input():
    with pytest.raises(ValueError, match="uint8"):
        trivial_augment(images().float())


# ---------------------------------------------------------------- erasing, mixup, cutmix

def test_random_erasing_replaces_one_rectangle_per_chosen_image():
    x = torch.full((32, 3, 16, 16), 100.0)  # far from N(0, 1) noise: erased pixels are easy to find
    out = random_erasing(x, torch.Generator().manual_seed(0), p=1.0, scale=(0.1, 0.3))
    for b in range(32):
        erased = (out[b] != 100).all(0)  # [H, W]
        rows, cols = erased.any(1).nonzero().flatten(), erased.any(0).nonzero().flatten()
        box = erased[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
        assert box.all() and erased.sum() == box.numel()  # one filled rectangle
        assert 0.05 * 256 <= erased.sum() <= 0.4 * 256  # about the asked area (rounded sides)
    assert out[out != 100].abs().mean() < 1.5  # standard normal noise
    assert torch.equal(random_erasing(x, torch.Generator(), p=0.0), x)
    half = random_erasing(x, torch.Generator().manual_seed(1), p=0.5)
    assert 4 < (half != 100).flatten(1).any(1).sum() < 28
    with pytest.raises(ValueError, match="p must"):
        random_erasing(x, p=1.5)


def test_mixup_mixes_images_and_labels_in_the_same_proportion():
    x, y = torch.randn(6, 3, 8, 8), torch.eye(10)[torch.tensor([0, 1, 2, 3, 4, 5])]
    out, targets = mixup(x, y, 0.7)
    torch.testing.assert_close(out[0], 0.7 * x[0] + 0.3 * x[5])
    torch.testing.assert_close(targets.sum(1), torch.ones(6))
    assert targets[0, 0] == pytest.approx(0.7) and targets[0, 5] == pytest.approx(0.3)
    assert torch.equal(mixup(x, y, 1.0)[0], x)
    with pytest.raises(ValueError, match="lam"):
        mixup(x, y, 1.2)


@pytest.mark.parametrize("lam, center", [(0.75, (0.5, 0.5)), (0.36, (0.3, 0.6)), (0.5, (0.0, 0.0))])
def test_cutmix_box_area_matches_the_label_weights(lam, center):
    B = 4
    x = torch.arange(B, dtype=torch.float32).view(B, 1, 1, 1).expand(B, 3, 20, 20).clone()  # image b is all b
    y = torch.eye(10)[torch.arange(B)]
    out, targets, kept = cutmix(x, y, lam, center)
    from_partner = (out[0, 0] == B - 1).float().mean().item()  # image 0's partner is image B-1
    assert from_partner == pytest.approx(1 - kept)
    torch.testing.assert_close(targets.sum(1), torch.ones(B))
    assert targets[0, 0] == pytest.approx(kept) and targets[0, B - 1] == pytest.approx(1 - kept)
    if center == (0.5, 0.5):
        assert kept == pytest.approx(lam, abs=0.01)  # a box inside the image: the drawn ratio
    else:
        assert kept >= lam - 0.01  # clipped at the border: less pasted
    assert ((out[0, 0] == 0) | (out[0, 0] == B - 1)).all()


def test_batch_augment_gives_soft_targets_when_mixing():
    x, y = images(16), torch.arange(16) % 10
    g = torch.Generator().manual_seed(0)
    plain = BatchAugment()
    assert not plain.mixes and torch.equal(plain.batch(x.float(), y, g)[1], y)
    strong = BatchAugment(trivial_augment=True, erasing=0.5, mixup_alpha=0.8, cutmix_alpha=1.0)
    torch.manual_seed(0)
    xb, targets = strong.batch(strong.pixels(x, g).float(), y, g)
    assert xb.shape == (16, 3, 32, 32) and targets.shape == (16, 10)
    torch.testing.assert_close(targets.sum(1), torch.ones(16))
    assert (targets > 0).sum(1).max() <= 2  # each image mixes (at most) two labels


def test_device_loader_with_batch_augment():
    x, y = images(40), torch.arange(40) % 10
    loader = DeviceLoader(x, y, 8, train=True, augment=BatchAugment(cutmix_alpha=1.0), seed=0)
    xb, targets = next(iter(loader))
    assert xb.dtype == torch.float32 and targets.shape == (8, 10)
    torch.testing.assert_close(targets.sum(1), torch.ones(8))
    test = DeviceLoader(x, y, 8, train=False, augment=BatchAugment(cutmix_alpha=1.0))
    assert next(iter(test))[1].shape == (8,)  # the test loader never augments
    with pytest.raises(ValueError, match="BatchAugment"):
        DeviceLoader(x, y, 8, train=True, augment="strong")
