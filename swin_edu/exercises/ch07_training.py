"""Exercises for notebook 07 (training on CIFAR-10): the warm-up + cosine learning-rate schedule,
and random crop + flip written as index arithmetic on a whole batch.

The schedule check calls the learner's ``warmup_cosine(step, warmup_steps, total_steps)`` at every
step of a run (and a few steps past its end) and compares the whole curve with
``swin_edu.training.warmup_cosine``; a failure names the first step that differs.

The crop check gives the offsets and flips explicitly (the package's
``swin_edu.augment.random_crop_flip`` draws them from a generator; :func:`crop_flip` here is the same
gather with the draws as arguments, and the tests prove the two agree). Channel 0 of the small
images holds each pixel's position code h*W + w + 1 (0 is the zero padding), so a failure report can
draw where every output pixel was read from, expected beside got.
"""
from __future__ import annotations

import math
import numbers

import torch
import torch.nn.functional as F

from ._core import Case, Exercise, Mistake, Result, grid_side_by_side

__all__ = ["check_warmup_cosine", "check_crop_flip"]

NOTEBOOK = "07_train_cifar10"
SCHEDULE_SECTION = "4. Parameter groups and the learning-rate schedule"
CROP_SECTION = "3. Augmentation on the device"


class _Wrapped:
    """A learner's function seen through ``adapter(fn, *case_args)``; keeps the learner's ``__code__``
    (and ``__closure__``, ``__globals__``) so that an exception is reported at the learner's own line
    and a look at the names the code uses sees the learner's code."""

    def __init__(self, fn, adapter):
        self.fn, self.adapter, self.__code__ = fn, adapter, getattr(fn, "__code__", None)
        self.__closure__, self.__globals__ = getattr(fn, "__closure__", None), getattr(fn, "__globals__", {})

    def __call__(self, *args):
        return self.adapter(self.fn, *args)


# ---------------------------------------------------------------------------------------------
# Exercise 1: the learning-rate multiplier, warm-up then half a cosine
# ---------------------------------------------------------------------------------------------

def _curve(fn, warmup_steps: int, total_steps: int, last_step: int):
    """[fn(0, ...), ..., fn(last_step, ...)] as a float64 tensor. A stub's None (or ...) is returned
    as it is; any other value that is not one number raises a TypeError that says so."""
    values = []
    for step in range(last_step + 1):
        v = fn(step, warmup_steps, total_steps)
        if v is None or v is Ellipsis:
            return v
        if isinstance(v, torch.Tensor) and v.numel() == 1:
            v = v.item()
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            what = (f"a tensor of shape {list(v.shape)}" if isinstance(v, torch.Tensor)
                    else f"{type(v).__name__} {v!r}"[:80])
            raise TypeError(f"warmup_cosine({step}, {warmup_steps}, {total_steps}) returned {what}: "
                            "return one number, the multiplier at that step")
        values.append(float(v))
    return torch.tensor(values, dtype=torch.float64)


def schedule_curve(warmup_steps: int, total_steps: int, last_step: int) -> torch.Tensor:
    """The package's multiplier at steps 0..last_step: float64 [last_step + 1]."""
    from ..training import warmup_cosine  # at call time: training.py may be reloaded while we run

    return _curve(warmup_cosine, warmup_steps, total_steps, last_step)


def _schedule_cases() -> list[Case]:
    return [
        Case("warmup_steps 2, total_steps 6, steps 0..7", (2, 6, 7)),
        Case("warmup_steps 4, total_steps 12, steps 0..14", (4, 12, 14)),
        Case("warmup_steps 1, total_steps 10, steps 0..11", (1, 10, 11)),
        Case("warmup_steps 10, total_steps 50, steps 0..60", (10, 50, 60)),
        Case("warmup_steps 117, total_steps 2730 (a run of a few thousand steps), steps 0..2740", (117, 2730, 2740)),
    ]


def _schedule(warmup_fn, cosine_fn):
    """A per-step multiplier from a warm-up rule and a decay rule, wrapped to give the curve."""
    def multiplier(step, warmup_steps, total_steps):
        if step < warmup_steps:
            return warmup_fn(step, warmup_steps, total_steps)
        return cosine_fn(step, warmup_steps, total_steps)

    def curve(warmup_steps, total_steps, last_step):
        return _curve(multiplier, warmup_steps, total_steps, last_step)
    return curve


def _warm(step, w, t):
    return (step + 1) / w


def _cos(step, w, t):
    progress = (step - w) / max(1, t - w)
    return 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))



def _decay(rule):
    """A decay rule written as learners write it: the rule up to total_steps, 0 after."""
    return lambda s, w, t: 0.0 if s >= t else rule(s, w, t)


def _boundary_curve(warmup_steps, total_steps, last_step):
    def multiplier(step, w, t):
        return (step + 1) / w if step <= w else _cos(step, w, t)
    return _curve(multiplier, warmup_steps, total_steps, last_step)


SCHEDULE_MISTAKES = (
    Mistake(
        "warmup-from-zero", _schedule(lambda s, w, t: s / w, _cos),
        "your warm-up starts at 0: at step 0 the multiplier is 1 / warmup_steps, (step + 1) / warmup_steps, "
        "so that the very first step already learns and the last warm-up step (warmup_steps - 1) reaches "
        f"exactly 1 (notebook 07, section {SCHEDULE_SECTION}).",
    ),
    Mistake(
        "warmup-one-step-too-long", _boundary_curve,
        "your warm-up lasts one step too long (step <= warmup_steps instead of step < warmup_steps): at "
        "step warmup_steps the multiplier goes above 1. Steps 0 .. warmup_steps - 1 warm up, the cosine "
        f"starts at 1 at step warmup_steps (notebook 07, section {SCHEDULE_SECTION}).",
    ),
    Mistake(
        "cosine-not-offset",
        _schedule(_warm, lambda s, w, t: 0.5 * (1 + math.cos(math.pi * min(s / t, 1.0)))),
        "your cosine starts at step 0 instead of at the end of the warm-up, so it drops below 1 right "
        "after the warm-up: measure progress from the warm-up's end, (step - warmup_steps) / "
        f"(total_steps - warmup_steps) (notebook 07, section {SCHEDULE_SECTION}).",
    ),
    Mistake(
        "progress-over-total",
        _schedule(_warm, lambda s, w, t: 0.5 * (1 + math.cos(math.pi * min((s - w) / t, 1.0)))),
        "your cosine does not reach 0 at total_steps: the decay lasts total_steps - warmup_steps steps, so "
        "divide (step - warmup_steps) by (total_steps - warmup_steps), not by total_steps "
        f"(notebook 07, section {SCHEDULE_SECTION}).",
    ),
    Mistake(
        "full-cosine",
        _schedule(_warm, lambda s, w, t: 0.5 * (1 + math.cos(2 * math.pi * min((s - w) / max(1, t - w), 1.0)))),
        "your decay is a full cosine period, which comes back up to 1 at the end: Swin uses half a "
        f"cosine, 0.5 * (1 + cos(pi * progress)), from 1 down to 0 (notebook 07, section {SCHEDULE_SECTION}).",
    ),
    Mistake(
        "cosine-not-rescaled",
        _schedule(_warm, lambda s, w, t: math.cos(math.pi * min((s - w) / max(1, t - w), 1.0))),
        "your decay goes down to -1 (a negative learning rate in the second half): cos(pi * progress) "
        "runs from 1 to -1, rescale it to 0.5 * (1 + cos(pi * progress)), from 1 to 0 "
        f"(notebook 07, section {SCHEDULE_SECTION}).",
    ),
    Mistake(
        "no-clamp",
        _schedule(_warm, lambda s, w, t: 0.5 * (1 + math.cos(math.pi * (s - w) / max(1, t - w)))),
        "the curve is right until total_steps, but after it your multiplier climbs again (the cosine "
        "goes on): clamp the progress at 1, min(progress, 1.0), so that the multiplier stays 0 "
        f"(notebook 07, section {SCHEDULE_SECTION}).",
    ),
    Mistake(
        "progress-over-total-then-zero", _schedule(_warm, _decay(lambda s, w, t: 0.5 * (1 + math.cos(math.pi * (s - w) / t)))),
        "your cosine is still above 0 just before total_steps and then drops to 0: the decay lasts "
        "total_steps - warmup_steps steps, so divide (step - warmup_steps) by (total_steps - warmup_steps), "
        f"not by total_steps (notebook 07, section {SCHEDULE_SECTION}).",
    ),
    Mistake(
        "one-minus-cos", _schedule(_warm, _decay(lambda s, w, t: 0.5 * (1 - math.cos(math.pi * (s - w) / (t - w))))),
        "your decay RISES from 0 to 1: 0.5 * (1 - cos(pi * progress)) is the cosine upside down; after the "
        "warm-up the multiplier starts at 1 and falls to 0, 0.5 * (1 + cos(pi * progress)) "
        f"(notebook 07, section {SCHEDULE_SECTION}).",
    ),
    Mistake(
        "quarter-cosine", _schedule(_warm, _decay(lambda s, w, t: math.cos(math.pi / 2 * (s - w) / (t - w)))),
        "your decay is a quarter cosine, cos(pi/2 * progress): it falls slowly at first and steeply at the end. "
        "Swin's is half a cosine rescaled to [0, 1], 0.5 * (1 + cos(pi * progress)) "
        f"(notebook 07, section {SCHEDULE_SECTION}).",
    ),
    Mistake(
        "progress-one-step-ahead",
        _schedule(_warm, _decay(lambda s, w, t: 0.5 * (1 + math.cos(math.pi * (s - w + 1) / (t - w))))),
        "your progress is one step ahead, (step - warmup_steps + 1): at step warmup_steps the cosine must "
        "still be at 1 (progress 0), so progress = (step - warmup_steps) / (total_steps - warmup_steps) "
        f"(notebook 07, section {SCHEDULE_SECTION}).",
    ),
    Mistake(
        "denominator-minus-one",
        _schedule(_warm, _decay(lambda s, w, t: 0.5 * (1 + math.cos(math.pi * (s - w) / max(1, t - w - 1))))),
        "your cosine reaches 0 one step early, at total_steps - 1: divide by (total_steps - warmup_steps), "
        "so that the multiplier is 0 at step total_steps "
        f"(notebook 07, section {SCHEDULE_SECTION}).",
    ),
)


def _proportional(expected, got) -> bool:
    """True when ``got`` is ``expected`` times one constant other than 1 (a learning rate, not the multiplier)."""
    if not isinstance(got, torch.Tensor) or got.shape != expected.shape or expected.abs().max() == 0:
        return False
    k = float(got.abs().max() / expected.abs().max())
    return abs(k - 1) > 1e-6 and torch.allclose(got.double(), k * expected.double(), rtol=1e-6, atol=1e-12)


SCALED = Mistake(
    "learning-rate-not-multiplier", None,
    "your curve has the right shape but another scale: you return the learning rate (the multiplier times a "
    "peak rate), or scale it by a constant. Return the multiplier itself, 1 at the end of the warm-up; the "
    f"optimizer multiplies it by the base learning rate (notebook 07, section {SCHEDULE_SECTION}).",
)


class _ScheduleExercise(Exercise):
    """After the catalogue, a curve proportional to the right one is diagnosed as a learning rate."""

    def diagnose(self, case: Case, got, **context):
        found = super().diagnose(case, got, **context)
        if found is None and _proportional(self.reference(*case.args), got):
            return SCALED
        return found


def _explain_schedule(case: Case, expected: torch.Tensor, got) -> str:
    """The multiplier at the steps that matter, expected beside got."""
    if not isinstance(got, torch.Tensor) or got.shape != expected.shape:
        return ""
    warmup, total, last = case.args
    wrong = (~torch.isclose(got, expected, atol=1e-5, rtol=1e-4)).nonzero().flatten().tolist()
    steps = sorted({0, 1, warmup - 1, warmup, (warmup + total) // 2, total - 1, total, last,
                    *(wrong[:1] if wrong else [])} & set(range(last + 1)))
    lines = ["  step     expected   got   (… : steps left out)"]
    for before, s in zip([None] + steps, steps):
        if before is not None and s > before + 1:
            lines.append("      …")
        mark = "   <- differs" if s in wrong else ""
        lines.append(f"  {s:5d}   {expected[s].item():9.4f}   {got[s].item():9.4f}{mark}")
    return "\n".join(lines)


WARMUP_COSINE = _ScheduleExercise(
    name="warmup_cosine",
    notebook=NOTEBOOK,
    section=SCHEDULE_SECTION,
    reference=schedule_curve,
    cases=_schedule_cases,
    mistakes=SCHEDULE_MISTAKES,
    explain=_explain_schedule,
    atol=1e-6,
    rtol=1e-5,
    call=lambda case: (f"warmup_cosine(step, warmup_steps={case.args[0]}, total_steps={case.args[1]}) "
                       f"for step = 0, 1, ..., {case.args[2]}"),
    summary="the learning-rate multiplier: linear warm-up to 1, then half a cosine down to 0",
)


def check_warmup_cosine(fn) -> Result:
    """Check a learner's ``warmup_cosine(step, warmup_steps, total_steps) -> float``.

    The check calls it at every step 0..last_step of each case and compares the whole curve with
    :func:`swin_edu.training.warmup_cosine`; a failure names the first step that differs ("index [k]"
    is step k) and prints the curve at the steps that matter. A number (float, int or a one-element
    tensor) per step is expected.

    Cases: (warmup_steps, total_steps) = (2, 6), (4, 12), (1, 10), (10, 50), (117, 2730), each a few
    steps past total_steps; every case has 1 <= warmup_steps < total_steps (the homework says the
    learner may assume it), so a decay divided by total_steps - warmup_steps never divides by 0. Recognised mistakes: the warm-up starting at 0, the warm-up one step too
    long (<=), the cosine not offset by the warm-up, progress divided by total_steps, a full cosine
    period, cos(pi p) not rescaled to 0..1, no clamp after total_steps.
    """
    if callable(fn):
        fn = _Wrapped(fn, _curve)
    return WARMUP_COSINE.check(fn)


# ---------------------------------------------------------------------------------------------
# Exercise 2: random crop + horizontal flip, as one gather
# ---------------------------------------------------------------------------------------------

def _gather(source: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
    """out[b, c, i, j] = source[b, c, rows[b, i], cols[b, j]]: [B, C, h, w] with rows [B, H], cols [B, W]."""
    b = torch.arange(source.shape[0], device=source.device)[:, None, None]
    return source[b, :, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2).contiguous()


def crop_flip(images: torch.Tensor, dy: torch.Tensor, dx: torch.Tensor, flip: torch.Tensor,
              padding: int) -> torch.Tensor:
    """Zero-pad every image by ``padding``, crop H x W at offset (dy[b], dx[b]) of the padded image,
    and mirror it left-right where flip[b]: one gather, no loop over images.

    Shapes: images [B, C, H, W] (any dtype), dy and dx int64 [B] in 0..2*padding, flip bool [B]
    -> [B, C, H, W], same dtype and device. With the offsets and flips that
    :func:`swin_edu.augment.random_crop_flip` draws, the two give the same batch.
    """
    B, C, H, W = images.shape
    padded = F.pad(images, (padding,) * 4)  # [B, C, H+2p, W+2p]
    i = torch.arange(H, device=images.device)
    j = torch.arange(W, device=images.device)
    rows = dy[:, None] + i  # [B, H]
    cols = torch.where(flip[:, None], dx[:, None] + (W - 1 - j), dx[:, None] + j)  # [B, W]
    return _gather(padded, rows, cols)


def _crop_images(B: int, C: int, H: int, W: int, dtype, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    if dtype == torch.uint8:
        x = torch.randint(1, 256, (B, C, H, W), generator=g, dtype=torch.uint8)
    else:
        x = torch.rand(B, C, H, W, generator=g, dtype=dtype) + 0.5
    if H * W < 255:  # channel 0: where each pixel comes from, h*W + w + 1 (0 = padding)
        x[:, 0] = (torch.arange(H * W) + 1).view(H, W).to(dtype)
    return x


def _draws(B: int, padding: int, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed + 1000)
    dy = torch.randint(0, 2 * padding + 1, (B,), generator=g)
    dx = torch.randint(0, 2 * padding + 1, (B,), generator=g)
    flip = torch.rand(B, generator=g) < 0.5
    return dy, dx, flip


def _crop_cases() -> list[Case]:
    t = torch.tensor
    cases = [
        Case("1 image 4x4, padding 1, dy 0, dx 2, no flip, uint8",
             (_crop_images(1, 1, 4, 4, torch.uint8, 0), t([0]), t([2]), t([False]), 1)),
        Case("2 images 4x4, padding 1, the second flipped, uint8",
             (_crop_images(2, 1, 4, 4, torch.uint8, 1), t([2, 1]), t([1, 0]), t([False, True]), 1)),
    ]
    specs = [  # label, B, C, H, W, padding, dtype
        ("3 images 4x6 (non-square), 3 channels, padding 2, uint8", 3, 3, 4, 6, 2, torch.uint8),
        ("4 images 8x8, 3 channels, padding 3, float32", 4, 3, 8, 8, 3, torch.float32),
        ("3 images 5x7 (non-square), 2 channels, padding 2, float64", 3, 2, 5, 7, 2, torch.float64),
        ("8 images 32x32 (CIFAR-10), 3 channels, padding 4, uint8", 8, 3, 32, 32, 4, torch.uint8),
    ]
    for k, (label, B, C, H, W, p, dtype) in enumerate(specs):
        cases.append(Case(label, (_crop_images(B, C, H, W, dtype, k + 2), *_draws(B, p, k + 2), p)))
    return cases


def _zero_pad(images: torch.Tensor, left: int, right: int, top: int, bottom: int) -> torch.Tensor:
    """Zero padding without F.pad (which the exercise watches for): the catalogue's wrong answers must not
    trip the learner's rule."""
    B, C, H, W = images.shape
    out = images.new_zeros(B, C, H + top + bottom, W + left + right)
    out[:, :, top:top + H, left:left + W] = images
    return out


def _reflect(k: torch.Tensor, L: int) -> torch.Tensor:
    """Index k of an axis of length L reflected back into 0..L-1 (reflect padding, edge not repeated)."""
    k = k.abs()
    return torch.where(k > L - 1, 2 * (L - 1) - k, k)


def _mistake(rows_fn, cols_fn, source="padded"):
    """A wrong crop_flip: rows_fn(dy, dx, flip, p, H, W) -> [B, H], cols_fn(...) -> [B, W] indices
    into the zero-padded images (or, with source="clamp"/"wrap", into the original ones)."""
    def wrong(images, dy, dx, flip, p):
        B, C, H, W = images.shape
        rows, cols = rows_fn(dy, dx, flip, p, H, W), cols_fn(dy, dx, flip, p, H, W)
        if source == "padded":
            return _gather(_zero_pad(images, p, p, p, p), rows, cols)
        if source == "clamp":  # replicate padding: the border pixels repeated
            return _gather(images, (rows - p).clamp(0, H - 1), (cols - p).clamp(0, W - 1))
        return _gather(images, (rows - p) % H, (cols - p) % W)  # "wrap": a cyclic shift, torch.roll
    return wrong


def _i(H, like):
    return torch.arange(H, device=like.device)


def _rows(dy, dx, f, p, H, W):
    return dy[:, None] + _i(H, dy)


def _cols(dy, dx, f, p, H, W):
    j = _i(W, dx)
    return torch.where(f[:, None], dx[:, None] + (W - 1 - j), dx[:, None] + j)


CROP_MISTAKES = (
    Mistake(
        "flip-inverted",
        _mistake(_rows, lambda dy, dx, f, p, H, W: _cols(dy, dx, ~f, p, H, W)),
        "you mirrored exactly the images that must not be mirrored: flip[b] True means flipped (check the "
        f"order of the two branches of torch.where) (notebook 07, section {CROP_SECTION}).",
    ),
    Mistake(
        "flip-ignored",
        _mistake(_rows, lambda dy, dx, f, p, H, W: dx[:, None] + _i(W, dx)),
        "the crops are right but no image is mirrored: where flip[b] is True read the columns backwards, "
        f"dx + (W - 1 - j) (notebook 07, section {CROP_SECTION}).",
    ),
    Mistake(
        "flip-rows",
        _mistake(lambda dy, dx, f, p, H, W: torch.where(f[:, None], dy[:, None] + (H - 1 - _i(H, dy)),
                                                        dy[:, None] + _i(H, dy)),
                 lambda dy, dx, f, p, H, W: dx[:, None] + _i(W, dx)),
        "you flipped upside down (the rows, the H axis): a horizontal flip mirrors left and right, so it "
        f"reverses the columns, the W axis (notebook 07, section {CROP_SECTION}).",
    ),
    Mistake(
        "flip-before-crop",
        _mistake(_rows, lambda dy, dx, f, p, H, W: torch.where(
            f[:, None], (W + 2 * p - 1) - (dx[:, None] + _i(W, dx)), dx[:, None] + _i(W, dx))),
        "you flipped the padded image and then cropped at (dy, dx): the task crops first, at (dy, dx), then "
        f"mirrors the crop, column dx + (W - 1 - j) (notebook 07, section {CROP_SECTION}).",
    ),
    Mistake(
        "dy-dx-swapped",
        _mistake(lambda dy, dx, f, p, H, W: _rows(dx, dy, f, p, H, W),
                 lambda dy, dx, f, p, H, W: _cols(dx, dy, f, p, H, W)),
        "your dy and dx are swapped: dy moves the crop down (it is added to the row index i), dx moves it "
        f"right (added to the column index j) (notebook 07, section {CROP_SECTION}).",
    ),
    Mistake(
        "replicate-padding",
        _mistake(_rows, _cols, source="clamp"),
        "where the crop goes past the image your pixels repeat the image's border (clamped indices, or "
        "replicate padding): outside the image the crop reads zeros "
        f"(notebook 07, section {CROP_SECTION}).",
    ),
    Mistake(
        "rolled-not-padded",
        _mistake(_rows, _cols, source="wrap"),
        "where the crop goes past the image your pixels wrap around from the opposite side (a cyclic "
        "shift, like torch.roll, or indices modulo H and W): the crop reads a zero-padded image, so "
        f"those pixels are 0 (notebook 07, section {CROP_SECTION}).",
    ),
    Mistake(
        "mirror-off-by-one",
        _mistake(_rows, lambda dy, dx, f, p, H, W: torch.where(f[:, None], dx[:, None] + (W - _i(W, dx)),
                                                               dx[:, None] + _i(W, dx))),
        "your mirrored columns are shifted by one: column j of a flipped crop is dx + (W - 1 - j), so that "
        f"j = 0 reads the crop's last column, dx + W - 1 (notebook 07, section {CROP_SECTION}).",
    ),
    Mistake(
        "padding-one-side",
        lambda images, dy, dx, f, p: _gather(_zero_pad(images, 0, 2 * p, 0, 2 * p), _rows(dy, dx, f, p, *images.shape[2:]),
                                             _cols(dy, dx, f, p, *images.shape[2:])),
        "your crop is placed as if all the padding were at the bottom and right: the padding is p pixels on each "
        "of the four sides, so row dy + i of the padded image is row dy + i - p of the image "
        f"(notebook 07, section {CROP_SECTION}).",
    ),
    Mistake(
        "channels-last",
        lambda images, dy, dx, f, p: _gather(_zero_pad(images, p, p, p, p), _rows(dy, dx, f, p, *images.shape[2:]),
                                             _cols(dy, dx, f, p, *images.shape[2:])).permute(0, 2, 3, 1),
        "your crops are right but channels last, [B, H, W, C]: indexing padded[b, :, rows, cols] with "
        "advanced indices around the ':' moves the channel axis to the end. Permute back to [B, C, H, W] "
        f"(notebook 07, section {CROP_SECTION}).",
    ),
    Mistake(
        "reflect-padding",
        lambda images, dy, dx, f, p: _gather(images, _reflect(_rows(dy, dx, f, p, *images.shape[2:]) - p, images.shape[2]),
                                             _reflect(_cols(dy, dx, f, p, *images.shape[2:]) - p, images.shape[3])),
        "where the crop goes past the image your pixels mirror the image (reflect padding): outside the image "
        f"the crop reads zeros (notebook 07, section {CROP_SECTION}).",
    ),
    Mistake(
        "offsets-minus-padding",
        _mistake(lambda dy, dx, f, p, H, W: _rows(dy, dx, f, p, H, W) - p,
                 lambda dy, dx, f, p, H, W: _cols(dy, dx, f, p, H, W) - p),
        "your crop sits `padding` pixels up and left of the right one: dy and dx are offsets in the "
        "padded image, 0 .. 2*padding, and (padding, padding) is the centred crop; index the padded "
        f"image at dy + i, dx + j without subtracting the padding (notebook 07, section {CROP_SECTION}).",
    ),
)


def _explain_crop(case: Case, expected: torch.Tensor, got) -> str:
    images = case.args[0]
    B, C, H, W = images.shape
    if H * W >= 255 or H > 16 or W > 16 or not isinstance(got, torch.Tensor) or got.shape != expected.shape:
        return ""
    exp, g = expected[:, 0].double(), got[:, 0].detach().double()
    differs = [b for b in range(B) if not torch.allclose(exp[b], g[b])]
    if not differs:
        return ""
    b = differs[0]
    return grid_side_by_side(exp[b].round().long(), g[b].round().long(),
                             f"  image {b}, channel 0: which pixel h*W + w + 1 of the image each output pixel "
                             "shows (0 = padding):")


CROP_FLIP = Exercise(
    name="crop_flip",
    notebook=NOTEBOOK,
    section=CROP_SECTION,
    reference=crop_flip,
    cases=_crop_cases,
    mistakes=CROP_MISTAKES,
    explain=_explain_crop,
    params=("images", "dy", "dx", "flip", "padding"),
    summary="random crop with zero padding + horizontal flip for a whole batch, as index arithmetic",
    # notebook 07's cell pads a copy of the batch and gathers from it: the homework reads the original images
    # and writes the zeros itself, so that copying the cell does not answer it
    forbidden=lambda *args: [(F.pad, "F.pad, which this exercise puts off limits: read the original images "
                                     "and put 0 where the crop goes past them (no padded copy of the batch)"),
                             (torch.constant_pad_nd, "torch.constant_pad_nd, which this exercise puts off limits: "
                                                     "read the original images and put 0 where the crop goes "
                                                     "past them")],
)


def check_crop_flip(fn) -> Result:
    """Check a learner's ``crop_flip(images, dy, dx, flip, padding)``: [B, C, H, W] -> [B, C, H, W].

    dy, dx: int64 [B], offsets of each crop in the zero-padded image (0 .. 2*padding); flip: bool [B];
    the output keeps the images' dtype (uint8 or float) and device.

    Cases: 1 to 8 images, 1 to 3 channels, square and non-square (4x4, 4x6, 8x8, 5x7, 32x32), padding 1
    to 4, uint8, float32 and float64. Recognised mistakes: flips inverted, flips ignored, flipped upside
    down, flipped before cropping, dy and dx swapped, border pixels repeated instead of zeros, wrapped
    around instead of zeros, offsets shifted by the padding, the mirror off by one, the padding on one
    side, channels last, reflect padding. F.pad (and torch.constant_pad_nd) are off limits: the learner
    reads the original images and writes the zeros (notebook 07's cell, which pads a copy, is not the
    answer).
    """
    return CROP_FLIP.check(fn)


EXERCISES = [WARMUP_COSINE, CROP_FLIP]


# ---------------------------------------------------------------------------------------------
# Transfer exercise: the label-smoothed cross-entropy, by hand
# ---------------------------------------------------------------------------------------------

TRAINING_SECTION = "5. Training"
_WHERE_LOSS = f"(notebook 07, section {TRAINING_SECTION})"


def _smoothed_ce(logits: torch.Tensor, targets: torch.Tensor, eps: float) -> torch.Tensor:
    """The reference: F.cross_entropy(logits, targets, label_smoothing=eps), a 0-d tensor of the logits'
    dtype: the mean over the batch of -sum_k q_k log p_k, with q = (1 - eps) one_hot + eps / K."""
    return F.cross_entropy(logits, targets, label_smoothing=eps)


def _logits(B: int, K: int, scale: float, seed: int, dtype=torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(B, K, generator=g, dtype=dtype) * scale, torch.randint(0, K, (B,), generator=g)


def _loss_cases() -> list[Case]:
    specs = [  # label, B, K, scale, eps, dtype
        ("2 images, 3 classes, eps = 0.1", 2, 3, 1.0, 0.1, torch.float32),
        ("4 images, 10 classes, eps = 0.1 (the recipes' value)", 4, 10, 2.0, 0.1, torch.float32),
        ("3 images, 5 classes, eps = 0 (no smoothing: plain cross-entropy)", 3, 5, 1.0, 0.0, torch.float32),
        ("8 images, 10 classes, eps = 0.3, float64", 8, 10, 3.0, 0.3, torch.float64),
        ("5 images, 4 classes, eps = 1 (the target is uniform)", 5, 4, 1.0, 1.0, torch.float32),
        ("16 images, 100 classes, eps = 0.1, logits between -172 and 166 (a confident model)",
         16, 100, 50.0, 0.1, torch.float32),
    ]
    return [Case(label, (*_logits(B, K, scale, seed=k, dtype=dtype), eps))
            for k, (label, B, K, scale, eps, dtype) in enumerate(specs)]


def _log_p(logits):
    return torch.log_softmax(logits, dim=-1)


def _loss_with(logits, targets, on_target, elsewhere, log_p=None, reduce="mean"):
    """-sum_k q_k log p_k with q = on_target at the target, elsewhere at the other classes."""
    log_p = _log_p(logits) if log_p is None else log_p
    one_hot = F.one_hot(targets, logits.shape[-1]).to(logits.dtype)
    q = one_hot * on_target + (1 - one_hot) * elsewhere
    per_image = -(q * log_p).sum(-1)
    return per_image.mean() if reduce == "mean" else per_image.sum()


LOSS_MISTAKES = (
    Mistake(
        "eps-over-K-minus-1",
        lambda logits, t, eps: _loss_with(logits, t, 1 - eps, eps / (logits.shape[-1] - 1)),
        "you gave the target class 1 - eps and spread eps over the OTHER K-1 classes. PyTorch's "
        "label_smoothing (and the Inception paper's) mixes the one-hot target with the uniform "
        "distribution over ALL K classes: q = (1 - eps) one_hot + eps/K, so the target gets 1 - eps + eps/K "
        f"and every other class eps/K {_WHERE_LOSS}.",
    ),
    Mistake(
        "no-smoothing",
        lambda logits, t, eps: _loss_with(logits, t, 1.0, 0.0),
        "your loss is the plain cross-entropy: eps is ignored. With smoothing the target distribution is "
        "q = (1 - eps) one_hot + eps/K, and the loss -sum_k q_k log p_k also pays for the classes that are "
        f"not the target: loss = (1 - eps) CE + eps * mean_k(-log p_k) {_WHERE_LOSS}.",
    ),
    Mistake(
        "sum-over-batch",
        lambda logits, t, eps: _loss_with(logits, t, 1 - eps + eps / logits.shape[-1], eps / logits.shape[-1],
                                          reduce="sum"),
        "you summed the loss over the images: F.cross_entropy (reduction='mean', the default) averages over "
        f"the batch, so the learning rate does not depend on the batch size. Take .mean() {_WHERE_LOSS}.",
    ),
    Mistake(
        "softmax-over-batch",
        lambda logits, t, eps: _loss_with(logits, t, 1 - eps + eps / logits.shape[-1], eps / logits.shape[-1],
                                          log_p=torch.log_softmax(logits, dim=0)),
        "your softmax runs over the batch (dim=0): each class's probabilities then sum to 1 over the "
        "images. The logits are [B, K]: the probabilities of one image sum to 1 over its K classes, "
        f"log_softmax(logits, dim=-1) {_WHERE_LOSS}.",
    ),
    Mistake(
        "uniform-term-summed",
        lambda logits, t, eps: (1 - eps) * _loss_with(logits, t, 1.0, 0.0) + eps * (-_log_p(logits)).sum(-1).mean(),
        "your smoothing term sums -log p_k over the K classes: the uniform part of the target gives each "
        "class eps/K, so the term is eps * MEAN_k(-log p_k), not eps * sum_k(-log p_k). "
        f"loss = (1 - eps) CE + eps * mean_k(-log p_k) {_WHERE_LOSS}.",
    ),
    Mistake(
        "eps-over-K-not-on-target",
        lambda logits, t, eps: _loss_with(logits, t, 1 - eps, eps / logits.shape[-1]),
        "your target class gets 1 - eps only: the uniform part eps/K goes to EVERY class, the target too, so "
        f"q = (1 - eps) one_hot + eps/K, the target getting 1 - eps + eps/K {_WHERE_LOSS}.",
    ),
    Mistake(
        "sign-flipped",
        lambda logits, t, eps: -F.cross_entropy(logits, t, label_smoothing=eps),
        "your loss is negative: a cross-entropy is -sum_k q_k log p_k, positive, since log p_k <= 0 (did "
        f"you forget the minus sign?) {_WHERE_LOSS}.",
    ),
    Mistake(
        "mean-over-classes-too",
        lambda logits, t, eps: F.cross_entropy(logits, t, label_smoothing=eps) / logits.shape[-1],
        "you took the mean over the classes as well as over the images (.mean() of the [B, K] products): "
        f"sum over the K classes, then average over the batch {_WHERE_LOSS}.",
    ),
    Mistake(
        "shape-1",
        lambda logits, t, eps: F.cross_entropy(logits, t, label_smoothing=eps).reshape(1),
        "your loss has shape [1]: a loss is a 0-d tensor (what .mean() or .sum() give), shape [] "
        f"{_WHERE_LOSS}.",
    ),
    Mistake(
        "log-of-softmax",
        lambda logits, t, eps: _loss_with(logits, t, 1 - eps + eps / logits.shape[-1], eps / logits.shape[-1],
                                          log_p=torch.log(torch.softmax(logits, dim=-1))),
        "your formula is right, but torch.log(torch.softmax(...)) is not: when one logit is far above "
        "another (here by more than about 100), the smaller probability rounds to 0 in float32 and its log "
        "is -inf, so the smoothing term becomes inf. Use torch.log_softmax(logits, dim=-1), which computes "
        f"logits - logsumexp(logits) without forming the probabilities {_WHERE_LOSS}.",
    ),
)

SMOOTHED_CROSS_ENTROPY = Exercise(
    name="smoothed_cross_entropy",
    notebook=NOTEBOOK,
    section=TRAINING_SECTION,
    reference=_smoothed_ce,
    cases=_loss_cases,
    mistakes=LOSS_MISTAKES,
    forbidden=lambda *args: [(F.cross_entropy, "F.cross_entropy (or nn.CrossEntropyLoss)")],
    summary="transfer: the label-smoothed cross-entropy by hand, as F.cross_entropy(..., label_smoothing=eps)",
    gradients=True,  # a loss: training needs its gradient with respect to the logits
)


def check_smoothed_cross_entropy(fn) -> Result:
    """Check a learner's ``smoothed_cross_entropy(logits, targets, eps)`` -> a 0-d tensor of the logits'
    dtype equal to ``F.cross_entropy(logits, targets, label_smoothing=eps)``, written without
    F.cross_entropy.

    Cases: 2 to 16 images, 3 to 100 classes, eps = 0, 0.1, 0.3, 1, float32 and float64, and logits far
    apart (where log(softmax) overflows). Recognised mistakes: eps spread over the K-1 other classes,
    no smoothing, the sum over the batch, the softmax over the batch, the uniform term summed over
    classes, log of softmax.
    """
    return SMOOTHED_CROSS_ENTROPY.check(fn)


__all__ += ["check_smoothed_cross_entropy"]
EXERCISES.append(SMOOTHED_CROSS_ENTROPY)
