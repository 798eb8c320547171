"""Data augmentation for a whole batch at once, on the device where the batch lives.

No function here loops over images in Python: every per-image random choice becomes a tensor (an op
index, a strength, a rectangle) and the ops are index arithmetic, one ``grid_sample`` or a per-image
blend, kept or not per image with ``torch.where``. A GPU therefore never waits for the CPU.

- :func:`random_crop_flip`: random crop with zero padding and horizontal flip, as index arithmetic.
- :func:`trivial_augment`: TrivialAugment (Müller & Hutter, ICCV 2021): each image gets one of 14 ops
  at a random strength, within RandAugment's ranges (those of AutoAugment's CIFAR policy too): a
  conservative choice; the paper's "wide" ranges (translation up to 32 pixels, rotation up to 135
  degrees) were also designed with CIFAR in mind. uint8 in, uint8 out.
- :func:`random_erasing` (Zhong et al., AAAI 2020): a random rectangle of some images replaced by noise.
  On normalised floats.
- :func:`mixup` (Zhang et al., ICLR 2018) and :func:`cutmix` (Yun et al., ICCV 2019): the batch mixed
  with itself in reverse order (mixup: whole images weighted by lam; cutmix: a box pasted, lam being the
  fraction of pixels kept), the one-hot labels with the same weights, as in timm and DeiT.
- :class:`BatchAugment`: the recipe's choice of these (with crop + flip, :func:`random_crop_flip`), in
  the order :class:`swin_edu.data.DeviceLoader` applies them.

Random numbers: per-image draws come from the ``generator`` passed in (the loader's, on its device);
the per-batch mixing ratio and box come from torch's global CPU generator (no device sync), whose state
:func:`swin_edu.training.fit` checkpoints.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

__all__ = ["random_crop_flip", "TA_OPS", "MAX_TRANSLATE", "MAX_ROTATE", "trivial_augment", "trivial_augment_draws", "apply_op", "random_erasing", "mixup", "cutmix", "BatchAugment"]

#: TrivialAugment's ops, in torchvision's order
TA_OPS = ("identity", "shear_x", "shear_y", "translate_x", "translate_y", "rotate", "brightness", "color",
          "contrast", "sharpness", "posterize", "solarize", "autocontrast", "equalize")
GEOMETRIC_OPS = TA_OPS[1:6]  # shear, translate, rotate: one warp each
BLEND_OPS = TA_OPS[6:10]  # brightness, color, contrast, sharpness: one blend each, with another image
TA_BINS = 31  # strengths 0/30 .. 30/30, as torchvision's TrivialAugmentWide
#: the ops at strength 1 (RandAugment's ranges in torchvision): shear factor, translation as a fraction of
#: the side, rotation in degrees, enhancement factor 1 +- this, bits removed by posterize
MAX_SHEAR, MAX_TRANSLATE, MAX_ROTATE, MAX_ENHANCE, MAX_POSTERIZE = 0.3, 0.45, 30.0, 0.9, 4
GRAY = (0.299, 0.587, 0.114)  # ITU-R 601 luma, as PIL and torchvision


def _per_image(v: torch.Tensor) -> torch.Tensor:
    """[B] -> [B, 1, 1, 1], to broadcast a per-image value over an image batch."""
    return v.view(-1, 1, 1, 1)


def _affine(x, matrix):
    """Warp every image by its 2x3 ``matrix`` (pixel units, origin at the image centre, output -> input),
    nearest neighbour, zeros outside. x float [B, C, H, W], matrix [B, 2, 3] -> [B, C, H, W]."""
    B, _, H, W = x.shape
    half = (W / 2, H / 2)  # to normalised coordinates: D^-1 A D, with D = diag(W/2, H/2); Python floats,
    theta = torch.stack([  # so that no host-to-device copy waits for the GPU
        torch.stack([matrix[:, i, 0] * half[0] / half[i], matrix[:, i, 1] * half[1] / half[i],
                     matrix[:, i, 2] / half[i]], 1) for i in range(2)], 1)
    grid = F.affine_grid(theta, [B, 1, H, W], align_corners=False)
    return F.grid_sample(x, grid, mode="nearest", padding_mode="zeros", align_corners=False)


def _shear_matrix(s, axis):
    m = torch.zeros(len(s), 2, 3, device=s.device, dtype=s.dtype)
    m[:, 0, 0] = m[:, 1, 1] = 1
    m[:, axis, 1 - axis] = s
    return m


def _translate_matrix(pixels, axis):
    m = torch.zeros(len(pixels), 2, 3, device=pixels.device, dtype=pixels.dtype)
    m[:, 0, 0] = m[:, 1, 1] = 1
    m[:, axis, 2] = pixels
    return m


def _rotate_matrix(degrees):
    a = torch.deg2rad(degrees)
    cos, sin, zero = torch.cos(a), torch.sin(a), torch.zeros_like(a)
    return torch.stack([torch.stack([cos, -sin, zero], 1), torch.stack([sin, cos, zero], 1)], 1)


def _rotate(x, degrees):
    return _affine(x, _rotate_matrix(degrees))


def _op_matrix(op: str, strength: torch.Tensor, H: int, W: int) -> torch.Tensor:
    """The warp of a geometric op (see :func:`apply_op`) for every image: [B] strengths -> [B, 2, 3]."""
    axis = 0 if op.endswith("_x") else 1
    if op.startswith("shear"):
        return _shear_matrix(MAX_SHEAR * strength, axis)
    if op.startswith("translate"):
        return _translate_matrix(MAX_TRANSLATE * (W if axis == 0 else H) * strength, axis)
    return _rotate_matrix(MAX_ROTATE * strength)


def _gray(x):
    """Luma [B, 1, H, W] of RGB [B, 3, H, W]."""
    return sum(w * x[:, c:c + 1] for c, w in enumerate(GRAY))


def _blend(x, degenerate, factor):
    """PIL's ImageEnhance: degenerate + factor * (x - degenerate), factor [B]."""
    return (degenerate + _per_image(factor) * (x - degenerate)).clamp(0, 255)


def _smooth(x):
    """PIL's SMOOTH filter (3x3, centre 5, others 1, /13) inside, the border pixels unchanged."""
    C = x.shape[1]
    kernel = torch.ones(3, 3, device=x.device, dtype=x.dtype)
    kernel[1, 1] = 5
    kernel = (kernel / 13).expand(C, 1, 3, 3)
    out = x.clone()
    out[:, :, 1:-1, 1:-1] = F.conv2d(x, kernel, groups=C)
    return out


def _posterize(x, bits):
    """Keep the ``bits`` [B] high bits of every value."""
    step = _per_image(2.0 ** (8 - bits))
    return torch.div(x, step, rounding_mode="floor") * step


def _autocontrast(x):
    """Stretch every channel of every image to 0..255 (levels rounded down, as PIL); constant channels
    unchanged."""
    lo, hi = x.amin((2, 3), keepdim=True), x.amax((2, 3), keepdim=True)  # per image and channel
    stretched = torch.floor((x - lo) * 255 / (hi - lo).clamp_min(1))
    return torch.where(hi > lo, stretched, x)


def _equalize(x):
    """Histogram equalisation per image and channel, as PIL (and torchvision): a lookup table from the
    cumulative histogram, the most frequent last level left out; channels with one level unchanged."""
    B, C, H, W = x.shape
    flat = x.round().long().view(B * C, H * W)  # [BC, HW] levels 0..255
    hist = torch.zeros(B * C, 256, device=x.device, dtype=torch.long).scatter_add_(1, flat, torch.ones_like(flat))
    last_level = torch.where(hist > 0, torch.arange(256, device=x.device), -1).amax(1, keepdim=True)
    step = (H * W - hist.gather(1, last_level)) // 255  # [BC, 1]
    lut = (hist.cumsum(1) + step // 2) // step.clamp_min(1)
    lut = F.pad(lut, (1, 0))[:, :256].clamp(0, 255)  # shifted by one level: lut[0] = 0
    out = lut.gather(1, flat).to(x.dtype)
    return torch.where(step > 0, out, flat.to(x.dtype)).view(B, C, H, W)


def _degenerate(x, op):
    """The image an enhancement op blends with (PIL's ImageEnhance): black, the grey image, its mean grey
    or the smoothed image."""
    if op == "brightness":
        return torch.zeros_like(x)
    if op == "color":
        return _gray(x)
    if op == "contrast":
        return _gray(x).mean((1, 2, 3), keepdim=True)
    return _smooth(x)  # sharpness


def apply_op(x: torch.Tensor, op: str, strength: torch.Tensor) -> torch.Tensor:
    """One TrivialAugment op on every image of a batch, each at its own strength.

    Args:
        x: float [B, C, H, W], values in 0..255 (C = 3 for the colour ops).
        op: one of :data:`TA_OPS`.
        strength: [B] in [-1, 1]; its sign picks the direction of the signed ops. At 1: shear 0.3,
            translation by 0.45 of the side, rotation by 30 degrees, enhancement factor 1 +- 0.9,
            posterize to 4 bits, solarize above 0 (RandAugment's ranges).

    Returns:
        float [B, C, H, W] in 0..255 (the enhancement ops give fractions; :func:`trivial_augment` rounds).
    """
    if op == "identity":
        return x
    if op in GEOMETRIC_OPS:
        return _affine(x, _op_matrix(op, strength, *x.shape[-2:]))
    if op in BLEND_OPS:
        return _blend(x, _degenerate(x, op), 1 + MAX_ENHANCE * strength)
    if op == "posterize":
        return _posterize(x, 8 - (strength.abs() * MAX_POSTERIZE).round())
    if op == "solarize":
        threshold = _per_image(255 * (1 - strength.abs()))
        return torch.where(x >= threshold, 255 - x, x)
    if op == "autocontrast":
        return _autocontrast(x)
    if op == "equalize":
        return _equalize(x)
    raise ValueError(f"unknown op {op!r}; choose one of {', '.join(TA_OPS)}")


def trivial_augment_draws(n: int, device: torch.device | str = "cpu",
                          generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The random choices of :func:`trivial_augment` for ``n`` images, in the order it makes them: the op
    (an index into :data:`TA_OPS`, uniform over all 14: ``translate_x`` and ``translate_y`` are two ops,
    so a translation of either kind has odds 2/14) and the strength (one of 31 levels 0/30 .. 30/30,
    with a random sign).

    Shapes: -> op int64 [n], strength float [n] in [-1, 1].
    """
    op = torch.randint(0, len(TA_OPS), (n,), device=device, generator=generator)
    level = torch.randint(0, TA_BINS, (n,), device=device, generator=generator)
    sign = torch.randint(0, 2, (n,), device=device, generator=generator) * 2 - 1
    return op, level / (TA_BINS - 1) * sign


def trivial_augment(images: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """TrivialAugment for a batch: every image gets one op drawn uniformly from :data:`TA_OPS`, at a
    strength drawn uniformly from 31 levels (0/30 .. 30/30) with a random sign (see :func:`apply_op`).

    No loop over images: the five geometric ops are one warp of the whole batch, each image by its own
    matrix, and the four enhancement ops one blend, each image with its own degenerate image; the other
    four ops run on the whole batch and are kept for the images that drew them: 240 tensor ops for a batch
    instead of 368 with one pass per op (the launches a GPU pays for), and the same result, bit for bit,
    as :func:`apply_op` with each image's own op (tested).

    Shapes: images uint8 [B, 3, H, W] -> uint8 [B, 3, H, W].
    """
    if images.dtype != torch.uint8 or images.dim() != 4 or images.shape[1] != 3:
        raise ValueError(f"trivial_augment expects uint8 RGB images [B, 3, H, W], got {images.dtype} "
                         f"{tuple(images.shape)}")
    op, strength = trivial_augment_draws(len(images), images.device, generator)
    x = images.float()
    B, _, H, W = x.shape

    def drew(name: str) -> torch.Tensor:  # [B] bool: which images drew op ``name``
        return op == TA_OPS.index(name)

    matrix = torch.eye(2, 3, device=x.device).expand(B, 2, 3)  # the identity for the images not warped
    degenerate = torch.zeros_like(x)  # brightness blends with black
    for name in GEOMETRIC_OPS:
        matrix = torch.where(drew(name).view(B, 1, 1), _op_matrix(name, strength, H, W), matrix)
    for name in BLEND_OPS[1:]:
        degenerate = torch.where(_per_image(drew(name)), _degenerate(x, name), degenerate)
    geometric = (op >= TA_OPS.index(GEOMETRIC_OPS[0])) & (op <= TA_OPS.index(GEOMETRIC_OPS[-1]))  # in TA_OPS's order
    blend = (op >= TA_OPS.index(BLEND_OPS[0])) & (op <= TA_OPS.index(BLEND_OPS[-1]))
    out = torch.where(_per_image(geometric), _affine(x, matrix), x)
    out = torch.where(_per_image(blend), _blend(x, degenerate, 1 + MAX_ENHANCE * strength), out)
    for name in ("posterize", "solarize", "autocontrast", "equalize"):
        out = torch.where(_per_image(drew(name)), apply_op(x, name, strength), out)
    return out.round().clamp(0, 255).to(torch.uint8)


def random_erasing(x: torch.Tensor, generator: torch.Generator | None = None, p: float = 0.25,
                   scale: tuple[float, float] = (0.02, 1 / 3), ratio: tuple[float, float] = (0.3, 3.3)) -> torch.Tensor:
    """Random erasing, timm's "pixel" mode: with probability ``p`` an image gets one rectangle of
    standard normal noise (on normalised images: noise around the dataset mean). Its area is a
    fraction ``scale`` of the image and its aspect ratio h / w lies in ``ratio`` (log-uniform); a
    rectangle larger than the image is clipped to it.

    Shapes: x float [B, C, H, W] (normalised) -> float [B, C, H, W].
    """
    if not 0 <= p <= 1:
        raise ValueError(f"random_erasing: p must lie in [0, 1], got {p}")
    B, C, H, W = x.shape
    dev = x.device

    def uniform(lo, hi):
        return lo + (hi - lo) * torch.rand(B, device=dev, generator=generator)

    area = uniform(*scale) * H * W
    aspect = torch.exp(uniform(math.log(ratio[0]), math.log(ratio[1])))
    h = (area * aspect).sqrt().round().clamp(1, H).long()
    w = (area / aspect).sqrt().round().clamp(1, W).long()
    top = (uniform(0, 1) * (H - h + 1)).floor().long()
    left = (uniform(0, 1) * (W - w + 1)).floor().long()
    chosen = torch.rand(B, device=dev, generator=generator) < p
    rows, cols = torch.arange(H, device=dev), torch.arange(W, device=dev)
    inside_rows = (rows >= top[:, None]) & (rows < (top + h)[:, None])  # [B, H]
    inside_cols = (cols >= left[:, None]) & (cols < (left + w)[:, None])  # [B, W]
    mask = inside_rows[:, None, :, None] & inside_cols[:, None, None, :] & _per_image(chosen)  # [B, 1, H, W]
    noise = torch.randn(x.shape, device=dev, generator=generator, dtype=x.dtype)
    return torch.where(mask, noise, x)


def mixup(x: torch.Tensor, targets: torch.Tensor, lam: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Mixup: image b becomes ``lam * x[b] + (1 - lam) * x[B-1-b]`` (its partner in the reversed batch),
    its target the same mixture of the two targets.

    Shapes: x float [B, C, H, W], targets float [B, K] (one-hot or already soft) -> the same shapes.
    """
    if not 0 <= lam <= 1:
        raise ValueError(f"mixup: lam must lie in [0, 1], got {lam}")
    return lam * x + (1 - lam) * x.flip(0), lam * targets + (1 - lam) * targets.flip(0)


def cutmix(x: torch.Tensor, targets: torch.Tensor, lam: float,
           center: tuple[float, float]) -> tuple[torch.Tensor, torch.Tensor, float]:
    """CutMix: the same box of every image is replaced by its partner's (the reversed batch). The box
    has sides sqrt(1 - lam) * (H, W), is centred at ``center`` (fractions of H and W) and clipped to
    the image; the targets are mixed by the area really pasted.

    Returns:
        x [B, C, H, W], targets [B, K], and the weight of each image's own target
        (1 - box area / image area, equal to ``lam`` unless the box was clipped).
    """
    if not 0 <= lam <= 1:
        raise ValueError(f"cutmix: lam must lie in [0, 1], got {lam}")
    H, W = x.shape[-2:]
    cut_h, cut_w = round(H * math.sqrt(1 - lam)), round(W * math.sqrt(1 - lam))
    cy, cx = round(center[0] * H), round(center[1] * W)
    y0, y1 = max(cy - cut_h // 2, 0), min(cy - cut_h // 2 + cut_h, H)
    x0, x1 = max(cx - cut_w // 2, 0), min(cx - cut_w // 2 + cut_w, W)
    out = x.clone()
    out[:, :, y0:y1, x0:x1] = x.flip(0)[:, :, y0:y1, x0:x1]
    kept = 1 - (y1 - y0) * (x1 - x0) / (H * W)
    return out, kept * targets + (1 - kept) * targets.flip(0), kept


def random_crop_flip(images: torch.Tensor, generator: torch.Generator, padding: int = 4,
                     flip: bool = True) -> torch.Tensor:
    """Random crop with zero padding and random horizontal flip, for a whole batch in one gather.

    Every image b gets offsets (dy_b, dx_b) in [0, 2*padding] on the zero-padded image and
    reads rows dy_b + i and columns dx_b + j (or dx_b + W-1-j when flipped): index arithmetic,
    no loop over images.

    Shapes: images [B, C, H, W] (any dtype, on any device) -> same shape and dtype.
    """
    B, C, H, W = images.shape
    dev = images.device
    padded = torch.nn.functional.pad(images, (padding,) * 4)  # [B, C, H+2p, W+2p]
    dy = torch.randint(0, 2 * padding + 1, (B, 1), device=dev, generator=generator)
    dx = torch.randint(0, 2 * padding + 1, (B, 1), device=dev, generator=generator)
    i, j = torch.arange(H, device=dev), torch.arange(W, device=dev)
    rows = dy + i  # [B, H]
    cols = dx + j  # [B, W]
    if flip:
        flipped = torch.rand(B, 1, device=dev, generator=generator) < 0.5
        cols = torch.where(flipped, dx + (W - 1 - j), cols)
    b = torch.arange(B, device=dev)[:, None, None]
    out = padded[b, :, rows[:, :, None], cols[:, None, :]]  # [B, H, W, C]: advanced indices first
    return out.permute(0, 3, 1, 2).contiguous()


@dataclass(frozen=True)
class BatchAugment:
    """The augmentations of a training recipe, for :class:`swin_edu.data.DeviceLoader`.

    Args:
        crop_padding: random crop with this zero padding (0: no crop); see ``random_crop_flip``.
        flip: random horizontal flip.
        trivial_augment: :func:`trivial_augment` after crop and flip.
        erasing: probability of :func:`random_erasing` per image (0: off).
        mixup_alpha, cutmix_alpha: Beta(alpha, alpha) for the mixing ratio of :func:`mixup` and
            :func:`cutmix` (0: off). With both on, each batch gets one of them, at even odds.
        num_classes: length of the soft targets that mixing produces.
    """

    crop_padding: int = 4
    flip: bool = True
    trivial_augment: bool = False
    erasing: float = 0.0
    mixup_alpha: float = 0.0
    cutmix_alpha: float = 0.0
    num_classes: int = 10

    @property
    def mixes(self) -> bool:
        """Whether batches get soft targets [B, K] instead of class indices [B]."""
        return self.mixup_alpha > 0 or self.cutmix_alpha > 0

    def pixels(self, images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """The uint8 stage: crop, flip, TrivialAugment. uint8 [B, 3, H, W] -> uint8 [B, 3, H, W]."""
        if self.crop_padding or self.flip:
            images = random_crop_flip(images, generator, self.crop_padding, self.flip)
        if self.trivial_augment:
            images = trivial_augment(images, generator)
        return images

    def batch(self, x: torch.Tensor, labels: torch.Tensor,
              generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """The float stage, after normalisation: erasing, then mixup or cutmix.

        Shapes: x float [B, 3, H, W], labels int64 [B] -> x [B, 3, H, W] and labels [B], or soft
        targets float [B, K] when mixing."""
        if self.erasing:
            x = random_erasing(x, generator, self.erasing)
        if not self.mixes:
            return x, labels
        targets = F.one_hot(labels, self.num_classes).to(x.dtype)
        use_cutmix = self.cutmix_alpha > 0 and (self.mixup_alpha == 0 or torch.rand(()).item() < 0.5)
        alpha = self.cutmix_alpha if use_cutmix else self.mixup_alpha
        lam = torch.distributions.Beta(alpha, alpha).sample().item()  # global CPU generator: no device sync
        if use_cutmix:
            x, targets, _ = cutmix(x, targets, lam, tuple(torch.rand(2).tolist()))
            return x, targets
        return mixup(x, targets, lam)
