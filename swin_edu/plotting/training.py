"""Figures of notebook 07 (training on CIFAR-10): augmentation, learning-rate schedule, learning
curves, confusion matrix, predictions, attention maps placed on the image, and the learned
relative position biases.

All but the schedule need the data set or a trained model; none is registered in ``FIGURES`` (the
README does not show them).
"""
from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from ..training import warmup_cosine

__all__ = ["plot_augmentations", "plot_lr_schedule", "plot_learning_curves", "plot_confusion_matrix", "plot_predictions", "plot_attention_maps",
           "plot_learned_bias", "plot_run_comparison"]


def _to_hwc(image: torch.Tensor) -> np.ndarray:
    """uint8 [3, H, W] -> numpy [H, W, 3] for imshow."""
    return image.permute(1, 2, 0).cpu().numpy()


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
#: to 1), so a fixed threshold is already relative; a masked pair gets ~e^-100 ~ 4e-44, far below it.
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
    """A [K, K] count matrix (rows: true class, columns: predicted class), each row as a fraction."""
    counts = matrix.double()
    rates = (counts / counts.sum(1, keepdim=True).clamp(min=1)).numpy()
    fig, ax = plt.subplots(figsize=(5.6, 4.8))
    im = ax.imshow(rates, cmap="Blues", vmin=0, vmax=1)
    K = len(classes)
    for i in range(K):
        for j in range(K):
            ax.text(j, i, f"{rates[i, j]:.2f}".lstrip("0") if rates[i, j] < 1 else "1", ha="center", va="center",
                    fontsize=6.5, color="white" if rates[i, j] > 0.5 else "black")
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
        image: uint8 [3, S, S].
        maps: [nH, h, w] from :func:`swin_edu.attention_maps.attention_map` (one image), in image order.
        pixel: the query pixel (y, x), marked with a white star; its token is outlined in white.
        title: figure title (e.g. which block).

    The map is drawn at token resolution (nearest, so the window edges stay sharp) in ``magma``:
    light = large weight, dark = small (notebook 06's footprint maps use the opposite, dark = large),
    with a colour bar per head (0 to that head's largest weight). The tokens that receive attention
    (weight > ``VISIBLE`` = 1e-30 in any head) are outlined in cyan: the window as the block really sees
    it. A legend below the panels names the star and the two kinds of outline.
    """
    nH, h, w = maps.shape
    S = image.shape[-1]
    stride = S // h
    fig, axes = plt.subplots(1, nH + 1, figsize=(2.6 * (nH + 1), 3.0), squeeze=False)
    axes = axes[0]
    axes[0].imshow(_to_hwc(image))
    axes[0].set_title("image", fontsize=9)
    visible = (maps > VISIBLE).any(0)  # masked pairs get ~1e-44 (exp(-100)), not exactly 0
    ys, xs = visible.nonzero(as_tuple=True)
    for head, ax in enumerate(axes[1:]):
        ax.imshow(_to_hwc(image), alpha=0.5)
        values = maps[head].cpu().numpy()
        im = ax.imshow(np.ma.masked_less_equal(values, VISIBLE), cmap="magma", alpha=0.85, vmin=0, vmax=values.max(),
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
                         label=f"tokens that receive attention (> {VISIBLE:g})")]
    legend = fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=7.5, facecolor="0.45",
                        labelcolor="white", framealpha=1)
    legend.get_frame().set_edgecolor("0.45")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    return fig


def plot_learned_bias(bias: torch.Tensor, title: str) -> Figure:
    """Each head's (2M-1)x(2M-1) bias image (from
    :func:`swin_edu.attention_maps.relative_position_bias_image`): the centre is the query itself,
    a pixel (dy, dx) from the centre is the bias for a key dy rows down and dx columns right. One
    symmetric colour scale for all heads (white = 0), so that the heads can be compared."""
    nH, size, _ = bias.shape
    M = (size + 1) // 2
    fig, axes = plt.subplots(1, nH, figsize=(2.4 * nH, 2.6), squeeze=False)
    ticks = [0, M - 1, size - 1]
    limit = bias.abs().max().item()
    for head, ax in enumerate(axes[0]):
        values = bias[head].cpu().numpy()
        im = ax.imshow(values, cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.plot(M - 1, M - 1, "+", color="black", markersize=8)
        ax.set_xticks(ticks, [-(M - 1), 0, M - 1])
        ax.set_yticks(ticks, [-(M - 1), 0, M - 1])
        ax.set(xlabel="dx (key - query)", title=f"head {head}")
        if head == 0:
            ax.set_ylabel("dy (key - query)")
        bar = fig.colorbar(im, ax=ax, fraction=0.046)  # the same scale on every head
        bar.set_label("bias added to the logit", fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
