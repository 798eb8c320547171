"""The training recipes of notebook 07 and ``python -m swin_edu.train``, defined once.

- ``cpu``: what the notebook runs without a GPU (and CI runs): a small Swin (137 k parameters) for 12
  epochs without augmentation; measured on the 2-core CPU: 67.0 % top-1 on the 1,000-image test subset
  in 165-168 s of training (about 14 s an epoch), the same run from the notebook and the command.
- ``gpu``: ``swin_cifar()`` (6.8 M parameters, patch 2, window 4) for one GPU and a short, fixed time: the
  number of epochs is fitted to ``time_limit`` (225 s, data and compilation included) once the speed is
  known. That buys about 55 epochs, some 11 k steps at batch 256, where the published Swin-on-CIFAR recipe
  (Lee et al. 2021, *Vision Transformer for Small-Size Datasets*: 100 epochs at batch 128, about 39 k
  steps) uses mixup, cutmix, AutoAugment, erasing, label smoothing and stochastic depth together. Those pay
  off late (DeiT trains 300 epochs with them; Steiner et al. 2021 find that augmentation and regularisation
  pay with more compute; Beyer et al. 2022 reach their 90-epoch ViT result with light mixup and RandAugment
  only), so this recipe keeps the per-image ones (crop + flip, TrivialAugment (Müller & Hutter 2021) in
  RandAugment's ranges, erasing p 0.25, label smoothing 0.1, stochastic depth 0.1) and drops mixup and
  cutmix; batch 256 instead of 512 doubles the steps at nearly the same speed. The estimate written down
  before the first run is in ``results/README.md``.
- ``tiny``: a few seconds on a CPU, to test the command and the GPU script end to end.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from .augment import BatchAugment

__all__ = ["Recipe", "RECIPES"]


@dataclass(frozen=True)
class Recipe:
    """Everything that defines a training run, except the data folder and the device.

    Args:
        model: keyword overrides of :func:`swin_edu.swin_cifar`.
        augment: the training batches' augmentation (None: none).
        epochs: epochs to train; with ``time_limit``, the most epochs.
        batch_size, lr, weight_decay, warmup_epochs, label_smoothing: as in :func:`swin_edu.training.fit`.
        train_images: use the first ``train_images`` training images (None: all 50,000).
        compile: ``torch.compile`` the training steps.
        checkpoint_every: epochs between training checkpoints.
        time_limit: seconds the whole run may take (data, compilation, training, evaluation, writing),
            None for no limit. ``python -m swin_edu.train`` gives what is left of it to ``fit``'s
            ``time_budget``.
    """

    model: dict = field(default_factory=dict)
    augment: BatchAugment | None = None
    epochs: int = 10
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 0.05
    warmup_epochs: float = 1.0
    label_smoothing: float = 0.1
    train_images: int | None = None
    compile: bool = False
    checkpoint_every: int = 1
    time_limit: float | None = None

    def to_dict(self) -> dict:
        """A JSON-ready copy (for run.json)."""
        return asdict(self)


RECIPES: dict[str, Recipe] = {
    "cpu": Recipe(
        model=dict(embed_dim=32, depths=(2, 2), num_heads=(2, 4), patch_size=4, drop_path_rate=0.0),
        augment=None, epochs=12, batch_size=128, lr=4e-3, warmup_epochs=0.3),
    "gpu": Recipe(
        model=dict(drop_path_rate=0.1),
        augment=BatchAugment(crop_padding=4, flip=True, trivial_augment=True, erasing=0.25),
        epochs=200, batch_size=256, lr=1e-3, warmup_epochs=3, compile=True, checkpoint_every=10,
        time_limit=225),
    "tiny": Recipe(
        model=dict(embed_dim=16, depths=(2,), num_heads=(2,), patch_size=4, drop_path_rate=0.0),
        augment=BatchAugment(trivial_augment=True, erasing=0.25, mixup_alpha=0.8, cutmix_alpha=1.0),
        epochs=2, batch_size=32, lr=2e-3, warmup_epochs=0.5, train_images=256),
}
