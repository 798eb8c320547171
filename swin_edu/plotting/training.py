"""Figures of notebook 07 (training on CIFAR-10): the token grid and windows on an image,
augmentation, learning-rate schedule, learning curves, confusion matrix, predictions, attention maps
placed on the image, and the learned relative position biases.

Heat maps follow the series' convention: light = large (``magma``, ``viridis``, never reversed), grey =
not reached / masked. Tensors may live on any device: every function copies what it draws to the CPU.
All but the schedule need the data set or a trained model; none is registered in ``FIGURES`` (the
README does not show them).
"""
from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import matplotlib.colors as mcolors
import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from ..training import warmup_cosine

__all__ = ["plot_token_windows", "plot_augmentations", "plot_lr_schedule", "plot_learning_curves", "plot_confusion_matrix",
           "plot_predictions", "plot_attention_maps", "plot_learned_bias", "plot_run_comparison"]


def _to_hwc(image: torch.Tensor) -> np.ndarray:
    """uint8 [3, H, W] (any device) -> numpy [H, W, 3] for imshow."""
    return image.detach().permute(1, 2, 0).cpu().numpy()


#: colour of "not reached / masked" in every heat map of the series (drawn half transparent over an image)
MASKED = "0.6"


def plot_token_windows(image: torch.Tensor, tokens: tuple[int, int], M: int, s: int, pixel: tuple[int, int],
                       title: str | None = None) -> Figure:
    """One image with the token grid of a stage and the two windows of one query token.

    Args:
        image: uint8 [3, S_h, S_w].
        tokens: (H, W), the stage's token grid; a token covers S_h / H x S_w / W pixels.
        M, s: window side and shift (in tokens) of the stage's blocks.
        pixel: the query pixel (y, x), marked with a white star; its token is outlined in white.
        title: figure title (default: the grid and window sizes).

    The query's window in the W-MSA block (solid white) and in the SW-MSA block (dashed cyan): the
    window shifted by s tokens down and right, clipped to the image where it wraps around (the mask
    keeps the query to that part).
    """
    H, W = tokens
    sy, sx = image.shape[-2] // H, image.shape[-1] // W
    qy, qx = pixel[0] // sy, pixel[1] // sx
    if not (0 <= qy < H and 0 <= qx < W):
        raise ValueError(f"pixel {tuple(pixel)} is outside the {image.shape[-2]}x{image.shape[-1]} image")
    fig, ax = plt.subplots(figsize=(4.2, 4.6))
    ax.imshow(_to_hwc(image))
    for y in range(1, H):
        ax.axhline(y * sy - 0.5, color="0.85", linewidth=0.5, alpha=0.7)
    for x in range(1, W):
        ax.axvline(x * sx - 0.5, color="0.85", linewidth=0.5, alpha=0.7)

    def box(y0, x0, h, w, **style):  # (y0, x0, h, w) in tokens -> a rectangle in pixels
        y1, x1 = min(y0 + h, H), min(x0 + w, W)
        y0, x0 = max(y0, 0), max(x0, 0)
        return Rectangle((x0 * sx - 0.5, y0 * sy - 0.5), (x1 - x0) * sx, (y1 - y0) * sy, fill=False, **style)

    regular = box(qy // M * M, qx // M * M, M, M, edgecolor="white", linewidth=2.5,
                  label="its window in block 1 (W-MSA)")
    shifted = box((qy - s) // M * M + s, (qx - s) // M * M + s, M, M, edgecolor="cyan", linewidth=2.5,
                  linestyle="--", label=f"its shifted window in block 2 (SW-MSA, s = {s})")
    query = box(qy, qx, 1, 1, edgecolor="white", linewidth=1.2, label=f"the query token ({qy}, {qx})")
    for patch in (regular, shifted, query):
        ax.add_patch(patch)
    ax.plot(pixel[1], pixel[0], "*", color="white", markersize=11, markeredgecolor="black",
            label=f"query pixel {tuple(pixel)}")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title or f"{H}x{W} tokens of {sy}x{sx} pixels, windows of {M}x{M} tokens", fontsize=9)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.02), fontsize=7.5, ncol=2, facecolor="0.45",
              labelcolor="white", framealpha=1, edgecolor="0.45")
    fig.tight_layout()
    return fig


def plot_augmentations(originals: torch.Tensor, augmented: torch.Tensor,
                       title: str = "random crop (zero padding 4) + horizontal flip") -> Figure:
    """One row per image: the original uint8 [n, 3, H, W], then k augmented versions [k, n, 3, H, W]."""
    k, n = augmented.shape[:2]
    fig, axes = plt.subplots(n, k + 1, figsize=(1.3 * (k + 1), 1.3 * n), squeeze=False)
    for i in range(n):
        for j, image in enumerate([originals[i], *augmented[:, i]]):
            axes[i, j].imshow(_to_hwc(image))
            axes[i, j].axis("off")
    axes[0, 0].set_title("original", fontsize=8)
    for j in range(1, k + 1):
        axes[0, j].set_title(f"draw {j}", fontsize=8)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig


def plot_lr_schedule(warmup_steps: int = 5, total_steps: int = 60) -> Figure:
    """The learning-rate multiplier of :func:`swin_edu.training.warmup_cosine` over training."""
    steps = np.arange(total_steps)
    fig, ax = plt.subplots(figsize=(5, 2.6))
    ax.plot(steps, [warmup_cosine(s, warmup_steps, total_steps) for s in steps])
    ax.axvline(warmup_steps - 1, color="grey", linestyle=":",
               label=f"peak: last of {warmup_steps} warm-up steps (step {warmup_steps - 1}, counting from 0)")
    ax.set(xlabel="optimiser step", ylabel="lr / peak lr", title="linear warm-up, then cosine to 0", ylim=(0, 1.05))
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


#: "receives attention": a weight above this. Attention weights are probabilities (each query's row sums
#: to 1), so a fixed threshold is already relative; the -100 mask multiplies a masked key's softmax term by
#: e^-100 (~4e-44): its weight is far below it (a float32 denormal, often exactly 0).
VISIBLE = 1e-30
#: title colours of :func:`plot_predictions`
CORRECT, WRONG = "tab:green", "tab:red"

#: figure file name -> function returning a matplotlib Figure
FIGURES: dict = {}


def plot_learning_curves(history: dict[str, Sequence[float]]) -> Figure:
    """Loss and accuracy per epoch, training and test, from the history returned by ``fit``."""
    epochs = np.arange(1, len(history["train_loss"]) + 1)
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(9, 3.2))
    ax_loss.plot(epochs, history["train_loss"], "o-", label="train (with label smoothing)")
    ax_loss.plot(epochs, history["test_loss"], "s-", label="test (no label smoothing)")
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy", title="loss")
    ax_acc.plot(epochs, history["train_acc"], "o-", label="train (batches as trained)")
    ax_acc.plot(epochs, history["test_acc"], "s-", label="test")
    ax_acc.set(xlabel="epoch", ylabel="top-1 accuracy", title="accuracy", ylim=(0, 1))
    for ax in (ax_loss, ax_acc):
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_run_comparison(runs: dict[str, dict[str, Sequence[float]]]) -> Figure:
    """Test accuracy of several runs (label -> ``fit`` history), per epoch and against minutes of wall
    clock (training + evaluation), side by side: runs of different lengths on one figure."""
    fig, (ax_epoch, ax_time) = plt.subplots(1, 2, figsize=(9, 3.2))
    for label, history in runs.items():
        acc = np.asarray(history["test_acc"])
        ax_epoch.plot(np.arange(1, len(acc) + 1), acc, ".-", label=f"{label}: {acc[-1]:.1%}")
        ax_time.plot(np.cumsum(history["epoch_time"]) / 60, acc, ".-", label=label)
    ax_epoch.set(xlabel="epoch", ylabel="test top-1 accuracy", title="per epoch", ylim=(0, 1))
    ax_time.set(xlabel="minutes (training + evaluation)", title="per minute", ylim=(0, 1))
    for ax in (ax_epoch, ax_time):
        ax.legend(fontsize=8, loc="lower right")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_confusion_matrix(matrix: torch.Tensor, classes: Sequence[str]) -> Figure:
    """A [K, K] count matrix (rows: true class, columns: predicted class), each row as a fraction, in
    ``viridis`` (light = large)."""
    counts = matrix.detach().cpu().double()
    rates = (counts / counts.sum(1, keepdim=True).clamp(min=1)).numpy()
    fig, ax = plt.subplots(figsize=(5.6, 4.8))
    im = ax.imshow(rates, cmap="viridis", vmin=0, vmax=1)  # light = large
    K = len(classes)
    for i in range(K):
        for j in range(K):
            ax.text(j, i, f"{rates[i, j]:.2f}".lstrip("0") if rates[i, j] < 1 else "1", ha="center", va="center",
                    fontsize=6.5, color="black" if rates[i, j] > 0.5 else "white")
    ax.set_xticks(range(K), classes, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(K), classes, fontsize=8)
    ax.set(xlabel="predicted", ylabel="true", title="confusion matrix (rows sum to 1)")
    fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    return fig


def plot_predictions(images: torch.Tensor, labels: Sequence[int], predictions: Sequence[int],
                     classes: Sequence[str], cols: int = 6) -> Figure:
    """A grid of uint8 images [n, 3, H, W] titled 'predicted (true)': green titles for correct
    predictions, red for wrong ones (a legend says so)."""
    n = len(images)
    if not n == len(labels) == len(predictions):
        raise ValueError(f"expected as many labels and predictions as images ({n}), got {len(labels)} and "
                         f"{len(predictions)}")
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(1.6 * cols, 2.0 * rows + 0.4), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, image, y, p in zip(axes.flat, images, labels, predictions):
        ax.imshow(_to_hwc(image))
        ax.set_title(f"{classes[p]}\n({classes[y]})", fontsize=8, color=CORRECT if p == y else WRONG)
    wrong = sum(p != y for y, p in zip(labels, predictions))
    handles = [Line2D([], [], marker="s", linestyle="", color=CORRECT, label=f"title green: correct ({n - wrong})"),
               Line2D([], [], marker="s", linestyle="", color=WRONG, label=f"title red: wrong ({wrong})")]
    fig.suptitle("each title: predicted class (true class)", fontsize=9, x=0.02, ha="left")
    fig.legend(handles=handles, loc="upper right", ncol=2, fontsize=8, frameon=False, labelcolor="linecolor")
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.4 / fig.get_figheight()))
    return fig


def plot_attention_maps(image: torch.Tensor, maps: torch.Tensor, pixel: tuple[int, int], title: str) -> Figure:
    """Each head's attention of one query, overlaid on the image.

    Args:
        image: uint8 [3, S, S] (any device).
        maps: [nH, h, w] from :func:`swin_edu.attention_maps.attention_map` (one image), in image order,
            on any device.
        pixel: the query pixel (y, x), marked with a white star; its token is outlined in white.
        title: figure title (e.g. which block).

    The map is drawn at token resolution (nearest, so the window edges stay sharp) in ``magma``:
    light = large weight, dark = small, with a colour bar per head (0 to that head's largest weight).
    Tokens that receive no attention (weight <= ``VISIBLE`` = 1e-30: outside the window, or masked) are
    grey. The tokens that receive attention in any head are outlined in cyan: the window as the block
    really sees it. A legend below the panels names the star, the outlines and the grey.
    """
    maps = maps.detach().float().cpu()
    nH, h, w = maps.shape
    S = image.shape[-1]
    stride = S // h
    fig, axes = plt.subplots(1, nH + 1, figsize=(2.6 * (nH + 1), 3.0), squeeze=False)
    axes = axes[0]
    axes[0].imshow(_to_hwc(image))
    axes[0].set_title("image", fontsize=9)
    visible = (maps > VISIBLE).any(0)  # masked keys: a tiny denormal or exactly 0
    ys, xs = visible.nonzero(as_tuple=True)
    cmap = plt.get_cmap("magma").with_extremes(bad=mcolors.to_rgba(MASKED, 0.6))  # grey: no attention, image shows through
    for head, ax in enumerate(axes[1:]):
        ax.imshow(_to_hwc(image), alpha=0.5)
        values = maps[head].numpy()
        im = ax.imshow(np.ma.masked_less_equal(values, VISIBLE), cmap=cmap, alpha=0.85, vmin=0, vmax=values.max(),
                       extent=(-0.5, S - 0.5, S - 0.5, -0.5), interpolation="nearest")
        bar = fig.colorbar(im, ax=ax, fraction=0.046, pad=0.03)
        bar.ax.tick_params(labelsize=7)
        bar.set_label("weight (light = large)", fontsize=7)
        ax.set_xlim(-0.5, S - 0.5)
        ax.set_ylim(S - 0.5, -0.5)
        ax.set_title(f"head {head}", fontsize=9)
    for ax in axes:
        for y, x in zip(ys.tolist(), xs.tolist()):
            ax.add_patch(Rectangle((x * stride - 0.5, y * stride - 0.5), stride, stride, fill=False,
                                   edgecolor="cyan", linewidth=0.6, alpha=0.8))
        qy, qx = pixel[0] // stride, pixel[1] // stride
        ax.add_patch(Rectangle((qx * stride - 0.5, qy * stride - 0.5), stride, stride, fill=False,
                               edgecolor="white", linewidth=1.8))
        ax.plot(pixel[1], pixel[0], "*", color="white", markersize=9, markeredgecolor="black")
        ax.set_xticks([])
        ax.set_yticks([])
    handles = [Line2D([], [], marker="*", linestyle="", color="white", markeredgecolor="black", markersize=9,
                      label=f"query pixel {tuple(pixel)}"),
               Rectangle((0, 0), 1, 1, fill=False, edgecolor="white", linewidth=1.8,
                         label=f"its token ({qy}, {qx}), the query"),
               Rectangle((0, 0), 1, 1, fill=False, edgecolor="cyan", linewidth=1.2,
                         label=f"tokens that receive attention (> {VISIBLE:g})"),
               Rectangle((0, 0), 1, 1, facecolor=MASKED, edgecolor="none", label="grey: no attention (masked or outside)")]
    legend = fig.legend(handles=handles, loc="lower center", ncol=4, fontsize=7.5, facecolor="0.45",
                        labelcolor="white", framealpha=1)
    legend.get_frame().set_edgecolor("0.45")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    return fig


def plot_learned_bias(bias: torch.Tensor, title: str, limits: tuple[float, float] | None = None) -> Figure:
    """Each head's (2M-1)x(2M-1) bias image (from
    :func:`swin_edu.attention_maps.relative_position_bias_image`, any device), indexed by the relative
    position Δ = query - key: the centre (marked +) is Δ = 0, the query itself; the pixel at (Δy, Δx) from
    the centre is the bias for a key Δy rows above and Δx columns left of the query. ``viridis``, light =
    large, one colour scale for all heads (so that the heads can be compared): from the smallest to the
    largest entry, or ``limits`` = (low, high) to share one scale between figures (e.g. two blocks)."""
    bias = bias.detach().float().cpu()
    nH, size, _ = bias.shape
    M = (size + 1) // 2
    fig, axes = plt.subplots(1, nH, figsize=(2.4 * nH, 2.6), squeeze=False)
    ticks = [0, M - 1, size - 1]
    low, high = limits if limits is not None else (bias.min().item(), bias.max().item())
    for head, ax in enumerate(axes[0]):
        im = ax.imshow(bias[head].numpy(), cmap="viridis", vmin=low, vmax=high)
        ax.plot(M - 1, M - 1, "+", color="red", markersize=8)
        ax.set_xticks(ticks, [-(M - 1), 0, M - 1])
        ax.set_yticks(ticks, [-(M - 1), 0, M - 1])
        ax.set(xlabel="Δx = query - key", title=f"head {head}")
        if head == 0:
            ax.set_ylabel("Δy = query - key")
        bar = fig.colorbar(im, ax=ax, fraction=0.046)  # the same scale on every head
        bar.set_label("bias added to the logit", fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
