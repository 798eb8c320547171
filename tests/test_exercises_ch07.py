"""The checks of notebook 07's exercises: right answers in several styles pass, every catalogued
mistake (written again here, independently) gets its own diagnosis, and nothing makes a check raise."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from swin_edu.augment import random_crop_flip
from swin_edu.exercises import check_crop_flip, check_warmup_cosine
from swin_edu.exercises.ch07_training import CROP_MISTAKES, SCHEDULE_MISTAKES, crop_flip
from swin_edu.training import warmup_cosine

# ---------------------------------------------------------------------------------------------
# warmup_cosine
# ---------------------------------------------------------------------------------------------


def schedule_numpy(step, warmup_steps, total_steps):
    """np.clip and np.cos; returns a numpy float."""
    if step < warmup_steps:
        return np.float64(step + 1) / warmup_steps
    progress = np.clip((step - warmup_steps) / max(1, total_steps - warmup_steps), 0.0, 1.0)
    return 0.5 * (1 + np.cos(np.pi * progress))


def schedule_torch(step, warmup_steps, total_steps):
    """A one-element tensor, the warm-up as a min, the decay as cos^2(pi p / 2)."""
    step = torch.tensor(float(step))
    warm = (step + 1) / warmup_steps
    progress = ((step - warmup_steps) / max(1, total_steps - warmup_steps)).clamp(0, 1)
    return torch.where(step < warmup_steps, warm, torch.cos(math.pi * progress / 2) ** 2)


def schedule_branches(step, warmup_steps, total_steps):
    """Three explicit branches: warm-up, decay, after the end."""
    if step >= total_steps:
        return 0
    if step >= warmup_steps:
        return (1 + math.cos(math.pi * (step - warmup_steps) / (total_steps - warmup_steps))) / 2
    return (step + 1) / warmup_steps


@pytest.mark.parametrize("fn", [warmup_cosine, schedule_numpy, schedule_torch, schedule_branches])
def test_schedule_right_answers_pass(fn):
    result = check_warmup_cosine(fn)
    assert result.passed, result.report
    assert "5 cases" in str(result) and "2730" in str(result)


def test_schedule_cases_have_a_warmup_and_a_decay():
    """The homework lets the learner assume 1 <= warmup_steps < total_steps: every case must have it."""
    from swin_edu.exercises.ch07_training import _schedule_cases

    for case in _schedule_cases():
        warmup_steps, total_steps, last_step = case.args
        assert 1 <= warmup_steps < total_steps <= last_step, case.label


def _half_cosine(step, w, t, denominator=None, period=1.0, clamp=True, rescale=True):
    p = (step - w) / (denominator if denominator is not None else max(1, t - w))
    if clamp:
        p = min(p, 1.0)
    c = math.cos(period * math.pi * p)
    return 0.5 * (1 + c) if rescale else c


def wrong_warmup_from_zero(step, w, t):
    return step / w if step < w else _half_cosine(step, w, t)


def wrong_warmup_too_long(step, w, t):
    return (step + 1) / w if step <= w else _half_cosine(step, w, t)


def wrong_not_offset(step, w, t):
    return (step + 1) / w if step < w else 0.5 * (1 + math.cos(math.pi * min(1.0, step / t)))


def wrong_over_total(step, w, t):
    return (step + 1) / w if step < w else _half_cosine(step, w, t, denominator=t)


def wrong_full_cosine(step, w, t):
    return (step + 1) / w if step < w else _half_cosine(step, w, t, period=2.0)


def wrong_not_rescaled(step, w, t):
    return (step + 1) / w if step < w else _half_cosine(step, w, t, rescale=False)


def wrong_no_clamp(step, w, t):
    return (step + 1) / w if step < w else _half_cosine(step, w, t, clamp=False)


SCHEDULE_WRONG = [
    (wrong_warmup_from_zero, "warmup-from-zero", "warm-up starts at 0"),
    (wrong_warmup_too_long, "warmup-one-step-too-long", "one step too long"),
    (wrong_not_offset, "cosine-not-offset", "cosine starts at step 0"),
    (wrong_over_total, "progress-over-total", "does not reach 0 at total_steps"),
    (wrong_full_cosine, "full-cosine", "full cosine period"),
    (wrong_not_rescaled, "cosine-not-rescaled", "goes down to -1"),
    (wrong_no_clamp, "no-clamp", "clamp the progress at 1"),
    # the student-tester's, with 0 after total_steps as learners write it
    (lambda s, w, T: (s + 1) / w if s < w else (0.0 if s >= T else 0.5 * (1 + math.cos(math.pi * (s - w) / T))),
     "progress-over-total-then-zero", "not by total_steps"),
    (lambda s, w, T: (s + 1) / w if s < w else (0.0 if s >= T else 0.5 * (1 - math.cos(math.pi * (s - w) / (T - w)))),
     "one-minus-cos", "RISES"),
    (lambda s, w, T: (s + 1) / w if s < w else (0.0 if s >= T else math.cos(math.pi / 2 * (s - w) / (T - w))),
     "quarter-cosine", "quarter cosine"),
    (lambda s, w, T: (s + 1) / w if s < w else (0.0 if s >= T else 0.5 * (1 + math.cos(math.pi * (s - w + 1) / (T - w)))),
     "progress-one-step-ahead", "one step ahead"),
    (lambda s, w, T: (s + 1) / w if s < w else (0.0 if s >= T else 0.5 * (1 + math.cos(math.pi * (s - w) / (T - w - 1)))),
     "denominator-minus-one", "one step early"),
]


def test_a_learning_rate_instead_of_the_multiplier_is_named():
    result = check_warmup_cosine(lambda s, w, T: warmup_cosine(s, w, T) * 0.004)
    assert result.mistake == "learning-rate-not-multiplier" and "multiplier" in str(result), str(result)


def test_schedule_catalogue_is_covered():
    assert {name for _, name, _ in SCHEDULE_WRONG} == {m.name for m in SCHEDULE_MISTAKES}


@pytest.mark.parametrize("fn, name, phrase", SCHEDULE_WRONG, ids=[n for _, n, _ in SCHEDULE_WRONG])
def test_schedule_mistakes_are_diagnosed(fn, name, phrase):
    result = check_warmup_cosine(fn)
    assert result.status == "failed" and result.mistake == name, result.report
    assert phrase in str(result) and "notebook 07" in str(result)
    assert "<- differs" in str(result)  # the curve at the steps that matter


def test_schedule_stubs_errors_and_wrong_answers():
    def stub(step, warmup_steps, total_steps):
        raise NotImplementedError()

    def body_ellipsis(step, warmup_steps, total_steps):
        ...

    for fn in (stub, body_ellipsis, lambda step, w, t: None, None):
        result = check_warmup_cosine(fn)
        assert result.status == "not attempted" and "not attempted yet" in str(result)

    def raises(step, warmup_steps, total_steps):
        if step == 3:
            raise ValueError("step three")
        return warmup_cosine(step, warmup_steps, total_steps)

    error = check_warmup_cosine(raises)
    assert error.status == "error" and "ValueError: step three" in str(error)
    assert 'raise ValueError("step three")' in str(error)  # the learner's own line

    as_list = check_warmup_cosine(lambda step, w, t: [warmup_cosine(step, w, t)])
    assert as_list.status == "error" and "return one number" in str(as_list)
    as_tensor = check_warmup_cosine(lambda step, w, t: torch.full((2,), warmup_cosine(step, w, t)))
    assert as_tensor.status == "error" and "shape [2]" in str(as_tensor)

    squared = check_warmup_cosine(lambda step, w, t: warmup_cosine(step, w, t) ** 2)
    assert squared.status == "failed" and squared.mistake is None
    assert "first at index [0]" in str(squared) and "warmup_steps=2" in str(squared)

    assert check_warmup_cosine("0.5").status == "failed"


# ---------------------------------------------------------------------------------------------
# crop_flip: the reference is the package's random_crop_flip with its draws made explicit
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape, padding, dtype", [((4, 3, 32, 32), 4, torch.uint8), ((5, 2, 6, 9), 2, torch.float32),
                                                    ((3, 1, 7, 5), 3, torch.float64), ((2, 3, 8, 8), 0, torch.uint8)])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_crop_flip_equals_random_crop_flip(shape, padding, dtype, seed):
    images = (torch.rand(shape, generator=torch.Generator().manual_seed(seed)) * 200 + 1).to(dtype)
    B = shape[0]
    g = torch.Generator().manual_seed(seed)  # the draws random_crop_flip makes, in its order
    dy = torch.randint(0, 2 * padding + 1, (B, 1), generator=g)
    dx = torch.randint(0, 2 * padding + 1, (B, 1), generator=g)
    flipped = torch.rand(B, 1, generator=g) < 0.5
    ours = crop_flip(images, dy[:, 0], dx[:, 0], flipped[:, 0], padding)
    assert torch.equal(ours, random_crop_flip(images, torch.Generator().manual_seed(seed), padding=padding))
    no_flip = crop_flip(images, dy[:, 0], dx[:, 0], torch.zeros(B, dtype=torch.bool), padding)
    assert torch.equal(no_flip, random_crop_flip(images, torch.Generator().manual_seed(seed), padding, flip=False))


def _pad0(images, pad):
    """Zero padding without F.pad, which hw07's crop_flip puts off limits (left, right, top, bottom)."""
    left, right, top, bottom = pad
    B, C, H, W = images.shape
    out = images.new_zeros(B, C, H + top + bottom, W + left + right)
    out[:, :, top:top + H, left:left + W] = images
    return out


def crop_loop(images, dy, dx, flip, padding):
    """A loop over images: pad, slice, torch.flip."""
    B, C, H, W = images.shape
    padded = _pad0(images, (padding, padding, padding, padding))
    out = []
    for b in range(B):
        y, x = int(dy[b]), int(dx[b])
        crop = padded[b, :, y:y + H, x:x + W]
        out.append(torch.flip(crop, dims=[-1]) if flip[b] else crop)
    return torch.stack(out)


def crop_zeros_and_assign(images, dy, dx, flip, padding):
    """No F.pad: copy the part of each image inside the crop into zeros; flip by indexing the columns backwards."""
    B, C, H, W = images.shape
    out = torch.zeros_like(images)
    for b in range(B):
        oy, ox = int(dy[b]) - padding, int(dx[b]) - padding  # where the crop starts in the image
        y0, y1, x0, x1 = max(0, oy), min(H, oy + H), max(0, ox), min(W, ox + W)
        if y0 < y1 and x0 < x1:
            out[b, :, y0 - oy:y1 - oy, x0 - ox:x1 - ox] = images[b, :, y0:y1, x0:x1]
    reverse = torch.arange(W - 1, -1, -1)
    return torch.where(flip[:, None, None, None], out[..., reverse], out)


def crop_torch_gather(images, dy, dx, flip, padding):
    """Batched, with torch.gather along rows then columns."""
    B, C, H, W = images.shape
    padded = _pad0(images, (padding,) * 4)
    rows = (dy[:, None] + torch.arange(H))[:, None, :, None].expand(B, C, H, W + 2 * padding)
    picked = padded.gather(2, rows)  # [B, C, H, W+2p]
    j = torch.arange(W)
    cols = torch.where(flip[:, None], dx[:, None] + W - 1 - j, dx[:, None] + j)
    return picked.gather(3, cols[:, None, None, :].expand(B, C, H, W))


def test_notebook_07s_gather_cell_does_not_answer_crop_flip():
    # the package's crop_flip is notebook 07's cell: it pads a copy with F.pad, which the homework puts off limits
    for fn in (crop_flip, lambda im, dy, dx, f, p: crop_loop(F.pad(im, (0, 0, 0, 0)), dy, dx, f, p)):
        result = check_crop_flip(fn)
        assert result.status == "failed" and "F.pad" in str(result) and "off limits" in str(result), str(result)


@pytest.mark.parametrize("fn", [crop_loop, crop_zeros_and_assign, crop_torch_gather])
def test_crop_right_answers_pass(fn):
    result = check_crop_flip(fn)
    assert result.passed, result.report
    assert "6 cases" in str(result) and "non-square" in str(result) and "float64" in str(result)


def _crop(images, dy, dx, flip, padding, mode="zeros", flip_axis=-1, flip_padded=False, shift=0):
    """Per-image loop with its own ways of going wrong."""
    B, C, H, W = images.shape
    p = padding
    if mode == "zeros":
        padded = _pad0(images, (p, p, p, p))
    elif mode == "replicate":
        padded = F.pad(images.double(), (p, p, p, p), mode="replicate").to(images.dtype)
    else:  # circular
        padded = F.pad(images.double(), (p, p, p, p), mode="circular").to(images.dtype)
    out = []
    for b in range(B):
        y, x = int(dy[b]) - shift, int(dx[b]) - shift
        source = torch.flip(padded[b], dims=[-1]) if (flip_padded and flip[b]) else padded[b]
        rows = torch.arange(y, y + H) % (H + 2 * p)  # negative rows wrap, as advanced indexing does
        cols = torch.arange(x, x + W) % (W + 2 * p)
        crop = source[:, rows][:, :, cols]
        if flip[b] and not flip_padded:
            crop = torch.flip(crop, dims=[flip_axis])
        out.append(crop)
    return torch.stack(out)


CROP_WRONG = [
    (lambda im, dy, dx, f, p: _crop(im, dy, dx, ~f, p), "flip-inverted", "must not be mirrored"),
    (lambda im, dy, dx, f, p: _crop(im, dy, dx, torch.zeros_like(f), p), "flip-ignored", "no image is mirrored"),
    (lambda im, dy, dx, f, p: _crop(im, dy, dx, f, p, flip_axis=-2), "flip-rows", "upside down"),
    (lambda im, dy, dx, f, p: _crop(im, dy, dx, f, p, flip_padded=True), "flip-before-crop",
     "flipped the padded image and then cropped"),
    (lambda im, dy, dx, f, p: _crop(im, dx, dy, f, p), "dy-dx-swapped", "dy and dx are swapped"),
    (lambda im, dy, dx, f, p: _crop(im, dy, dx, f, p, mode="replicate"), "replicate-padding",
     "repeat the image's border"),
    (lambda im, dy, dx, f, p: _crop(im, dy, dx, f, p, mode="circular"), "rolled-not-padded", "wrap around"),
    (lambda im, dy, dx, f, p: _crop(im, dy, dx, f, p, shift=p), "offsets-minus-padding",
     "without subtracting the padding"),
    (lambda im, dy, dx, f, p: _crop_student(im, dy, dx, f, p, mirror=0), "mirror-off-by-one", "shifted by one"),
    (lambda im, dy, dx, f, p: _crop_student(im, dy, dx, f, p, pad=(0, 2 * p, 0, 2 * p)), "padding-one-side",
     "bottom and right"),
    (lambda im, dy, dx, f, p: _crop_student(im, dy, dx, f, p, channels_last=True), "channels-last",
     "channels last"),
    (lambda im, dy, dx, f, p: torch.stack([(lambda c: c.flip(-1) if f[b] else c)(
        F.pad(im.float(), (p,) * 4, mode="reflect").to(im.dtype)[b, :, dy[b]:dy[b] + im.shape[2], dx[b]:dx[b] + im.shape[3]])
        for b in range(im.shape[0])]), "reflect-padding", "reflect padding"),
]


def _crop_student(images, dy, dx, flip, p, mirror=1, pad=None, channels_last=False):
    B, C, H, W = images.shape
    padded = _pad0(images, pad if pad is not None else (p, p, p, p))
    rows = dy[:, None] + torch.arange(H)
    cols = torch.where(flip[:, None], dx[:, None] + (W - mirror - torch.arange(W)), dx[:, None] + torch.arange(W))
    b = torch.arange(B)[:, None, None]
    if channels_last:
        return padded[b, :, rows[:, :, None], cols[:, None, :]]
    return padded.permute(0, 2, 3, 1)[b, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)


def test_the_flip_first_report_does_not_answer_question_1():
    report = str(check_crop_flip(CROP_WRONG[3][0]))
    assert "same distribution" not in report and "2*padding - dx" not in report, report


def test_crop_catalogue_is_covered():
    assert {name for _, name, _ in CROP_WRONG} == {m.name for m in CROP_MISTAKES}


@pytest.mark.parametrize("fn, name, phrase", CROP_WRONG, ids=[n for _, n, _ in CROP_WRONG])
def test_crop_mistakes_are_diagnosed(fn, name, phrase):
    result = check_crop_flip(fn)
    assert result.status == "failed" and result.mistake == name, result.report
    assert phrase in str(result) and "notebook 07" in str(result)
    if name != "channels-last":  # a result of another shape gets no picture
        assert "(0 = padding)" in str(result)  # the picture of where each pixel was read from


def test_crop_stubs_errors_and_wrong_answers():
    def stub(images, dy, dx, flip, padding):
        raise NotImplementedError()

    def body_ellipsis(images, dy, dx, flip, padding):
        ...

    for fn in (stub, body_ellipsis, lambda *args: None, None):
        result = check_crop_flip(fn)
        assert result.status == "not attempted" and "not attempted yet" in str(result)

    def no_padding(images, dy, dx, flip, padding):  # index the unpadded image: out of range
        B, C, H, W = images.shape
        rows, cols = dy[:, None] + torch.arange(H), dx[:, None] + torch.arange(W)
        return images[torch.arange(B)[:, None, None], :, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)

    error = check_crop_flip(no_padding)
    assert error.status == "error" and "IndexError" in str(error)

    shape = check_crop_flip(lambda images, dy, dx, flip, p: F.pad(images, (p,) * 4))
    assert shape.status == "failed" and "shape" in str(shape)
    dtype = check_crop_flip(lambda *args: crop_flip(*args).float())
    assert dtype.status == "failed" and "dtype" in str(dtype) and "uint8" in str(dtype)

    plus_one = check_crop_flip(lambda *args: crop_flip(*args) + 1)
    assert plus_one.status == "failed" and plus_one.mistake is None and "first at index" in str(plus_one)


# --- issue 16: the schedule's table says where it leaves rows out ----------------------------------------

def test_schedule_table_marks_the_rows_left_out():
    from swin_edu.exercises import check_warmup_cosine

    def from_zero(step, warmup_steps, total_steps):
        if step < warmup_steps:
            return step / warmup_steps
        progress = min((step - warmup_steps) / (total_steps - warmup_steps), 1.0)
        return 0.5 * (1 + math.cos(math.pi * progress))

    report = str(check_warmup_cosine(from_zero))
    assert "…" in report, report  # steps 0..14 of the second case are not all shown
    assert "call: warmup_cosine(step, warmup_steps=" in report, report


# --- transfer: smoothed_cross_entropy (label smoothing by hand) -------------------------------------

from swin_edu.exercises import check_smoothed_cross_entropy  # noqa: E402
from swin_edu.exercises import ch07_training as ch07  # noqa: E402


def smoothed_mix(logits, targets, eps):  # (1 - eps) CE + eps * mean over the classes of -log p
    log_p = torch.log_softmax(logits, dim=-1)
    nll = -log_p.gather(1, targets[:, None]).squeeze(1)
    return ((1 - eps) * nll + eps * (-log_p.mean(-1))).mean()


def smoothed_soft_targets(logits, targets, eps):  # -sum_k q_k log p_k with q written out
    K = logits.shape[-1]
    q = torch.full_like(logits, eps / K)
    q[torch.arange(len(targets)), targets] += 1 - eps
    log_p = logits - logits.logsumexp(-1, keepdim=True)
    return -(q * log_p).sum(-1).mean()


def smoothed_loops(logits, targets, eps):
    K, total = logits.shape[-1], logits.new_zeros(())
    for row, t in zip(logits, targets.tolist()):
        m = row.max()
        log_z = m + torch.log(torch.exp(row - m).sum())
        for k in range(K):
            q = (1 - eps) * (k == t) + eps / K
            total = total - q * (row[k] - log_z)
    return total / len(targets)


def smoothed_nll_loss(logits, targets, eps):  # nll_loss for the one-hot part is allowed
    log_p = F.log_softmax(logits, dim=-1)
    return (1 - eps) * F.nll_loss(log_p, targets) - eps * log_p.mean(-1).mean()


def test_smoothed_cross_entropy_right_in_other_styles():
    for fn in (smoothed_mix, smoothed_soft_targets, smoothed_loops, smoothed_nll_loss):
        result = check_smoothed_cross_entropy(fn)
        assert result.passed, f"{fn.__name__}: {result}"


def test_smoothed_cross_entropy_by_calling_cross_entropy_does_not_pass():
    for fn in (lambda logits, t, eps: F.cross_entropy(logits, t, label_smoothing=eps),
               lambda logits, t, eps: torch.nn.CrossEntropyLoss(label_smoothing=eps)(logits, t)):
        result = check_smoothed_cross_entropy(fn)
        assert result.status == "failed" and "F.cross_entropy" in str(result), str(result)


def smoothed_other_classes(logits, targets, eps):
    K = logits.shape[-1]
    q = torch.full_like(logits, eps / (K - 1))
    q[torch.arange(len(targets)), targets] = 1 - eps
    return -(q * torch.log_softmax(logits, -1)).sum(-1).mean()


def smoothed_ignored(logits, targets, eps):
    return -torch.log_softmax(logits, -1).gather(1, targets[:, None]).mean()


def smoothed_summed(logits, targets, eps):
    return smoothed_mix(logits, targets, eps) * len(targets)


def smoothed_batch_softmax(logits, targets, eps):
    log_p = torch.log_softmax(logits, dim=0)
    nll = -log_p[torch.arange(len(targets)), targets]
    return ((1 - eps) * nll - eps * log_p.mean(-1)).mean()


def smoothed_class_sum(logits, targets, eps):
    log_p = torch.log_softmax(logits, dim=-1)
    nll = -log_p[torch.arange(len(targets)), targets]
    return ((1 - eps) * nll - eps * log_p.sum(-1)).mean()


def smoothed_log_softmax_by_hand(logits, targets, eps):
    K = logits.shape[-1]
    q = (1 - eps) * F.one_hot(targets, K).to(logits.dtype) + eps / K
    return -(q * torch.log(logits.softmax(-1))).sum(-1).mean()


LOSS_WRONG = [(smoothed_other_classes, "eps-over-K-minus-1", "OTHER K-1 classes"),
              (smoothed_ignored, "no-smoothing", "eps is ignored"),
              (smoothed_summed, "sum-over-batch", "summed the loss over the images"),
              (smoothed_batch_softmax, "softmax-over-batch", "softmax runs over the batch"),
              (smoothed_class_sum, "uniform-term-summed", "sums -log p_k over the K classes"),
              (smoothed_log_softmax_by_hand, "log-of-softmax", "torch.log(torch.softmax(...))"),
              (lambda l, t, e: -(((1 - e) * F.one_hot(t, l.shape[-1]).to(l.dtype) + e / l.shape[-1]
                                  * (1 - F.one_hot(t, l.shape[-1]).to(l.dtype))) * l.log_softmax(-1)).sum(-1).mean(),
               "eps-over-K-not-on-target", "1 - eps only"),
              (lambda l, t, e: (((1 - e) * F.one_hot(t, l.shape[-1]).to(l.dtype) + e / l.shape[-1])
                                * l.log_softmax(-1)).sum(-1).mean(), "sign-flipped", "negative"),
              (lambda l, t, e: -(((1 - e) * F.one_hot(t, l.shape[-1]).to(l.dtype) + e / l.shape[-1])
                                 * l.log_softmax(-1)).mean(), "mean-over-classes-too", "mean over the classes"),
              (lambda l, t, e: smoothed_mix(l, t, e).reshape(1), "shape-1", "shape [1]")]


def test_smoothed_cross_entropy_mistakes_are_named():
    assert {name for _, name, _ in LOSS_WRONG} == {m.name for m in ch07.LOSS_MISTAKES}
    for fn, name, phrase in LOSS_WRONG:
        result = check_smoothed_cross_entropy(fn)
        assert result.status == "failed" and result.mistake == name, f"{fn.__name__}: {result}"
        assert phrase in str(result) and "(notebook 07, section 5. Training)" in str(result)
        assert len(str(result).splitlines()) <= 12


def test_log_of_softmax_shows_only_on_far_apart_logits():
    result = check_smoothed_cross_entropy(smoothed_log_softmax_by_hand)
    assert result.case.startswith("16 images, 100 classes")


def test_smoothed_cross_entropy_stubs_errors_and_odd_answers():
    def stub(logits, targets, eps):
        raise NotImplementedError()

    for fn in (stub, lambda *args: None, None):
        assert check_smoothed_cross_entropy(fn).status == "not attempted"
    assert check_smoothed_cross_entropy(lambda logits, t, eps: logits[t[0] + 100]).status == "error"
    for odd in (lambda *a: smoothed_mix(*a).item(), lambda *a: smoothed_mix(*a)[None, None],
                lambda *a: smoothed_mix(*a).float() if a[0].dtype == torch.float64 else smoothed_mix(*a),
                lambda *a: smoothed_mix(*a) + 0.5, lambda *a: "loss"):
        result = check_smoothed_cross_entropy(odd)
        assert result.status == "failed" and result.mistake is None, str(result)


def test_smoothed_cross_entropy_must_let_the_gradient_through():
    result = check_smoothed_cross_entropy(lambda *a: smoothed_mix(a[0].detach(), *a[1:]))
    assert result.status == "failed" and "gradient" in str(result) and "logits" in str(result), str(result)
