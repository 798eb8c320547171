"""CIFAR-10: reading the standard python format safely, and a batch pipeline that runs on the device.

Reading. The files of ``cifar-10-batches-py`` (``data_batch_1`` ... ``data_batch_5``, ``test_batch``)
are pickles of dicts with ``data`` (uint8, N x 3072: the red plane, then green, then blue, each
32x32 row-major) and ``labels`` (N ints in 0..9). A pickle can run arbitrary code when loaded, so
:class:`SafeUnpickler` only lets numpy rebuild arrays. The folder comes from an argument, else the
environment variable ``SWIN_EDU_DATA``, else ``data/`` in the repository (git-ignored). Missing files
are downloaded from :data:`CIFAR10_URL` and checked against :data:`CIFAR10_MD5`.

Batches. :class:`DeviceLoader` keeps the whole uint8 dataset on the device (150 MB for CIFAR-10)
and makes every batch there: random crop with zero padding and horizontal flip as one gather,
then normalisation (and, for stronger recipes, the batched augmentations of :mod:`swin_edu.augment`).
No per-image Python work, so a GPU never waits for the CPU.
"""
from __future__ import annotations

import codecs
import hashlib
import os
import pickle
import tarfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from torch.hub import download_url_to_file

from .augment import BatchAugment

__all__ = [
    "CIFAR10_URL", "CIFAR10_MD5", "CIFAR10_CLASSES", "CIFAR10_MEAN", "CIFAR10_STD",
    "data_dir", "load_cifar10", "download_cifar10", "SafeUnpickler",
    "normalize", "DeviceLoader",
]

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
#: md5 of the official archive (the one torchvision checks too)
CIFAR10_MD5 = "c58f30108f718f92721af3b95e74349a"
CIFAR10_FOLDER = "cifar-10-batches-py"
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
#: per-channel mean and standard deviation of the training images, in [0, 1] units
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)
TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_FILES = ("test_batch",)


# ----------------------------------------------------------------------------------------------
# Reading the files
# ----------------------------------------------------------------------------------------------

def data_dir(root: str | os.PathLike | None = None) -> Path:
    """The data folder: ``root`` if given, else ``$SWIN_EDU_DATA``, else ``data/`` in the repository."""
    if root is not None:
        return Path(root)
    if os.environ.get("SWIN_EDU_DATA"):
        return Path(os.environ["SWIN_EDU_DATA"])
    return Path(__file__).resolve().parent.parent / "data"


class SafeUnpickler(pickle.Unpickler):
    """An unpickler that can only rebuild numpy arrays (and plain dicts, lists, str, int).

    The CIFAR-10 batches reference exactly three globals: numpy's ``_reconstruct`` (under
    ``numpy.core.multiarray`` or, written by numpy 2, ``numpy._core.multiarray``), ``numpy.ndarray``
    and ``numpy.dtype`` (plus ``_codecs.encode`` when re-pickled by Python 3 at protocol 2).
    Anything else (``os.system``, ...) raises ``pickle.UnpicklingError``.
    """

    _reconstruct = np.empty(0).__reduce__()[0]  # numpy's array rebuilder, without importing numpy.core
    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
        ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        ("_codecs", "encode"): codecs.encode,  # how Python 3 writes bytes at pickle protocol 2
    }

    def find_class(self, module: str, name: str):
        try:
            return self.ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"global {module}.{name} is not allowed in a CIFAR-10 batch") from None


def _read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One batch file -> (data uint8 [N, 3072], labels int64 [N]); ValueError if it is not a valid batch."""
    try:
        with open(path, "rb") as f:
            # latin1 is how Python 3 reads the Python 2 pickles of the official archive
            batch = SafeUnpickler(f, encoding="latin1").load()
    except Exception as err:  # truncated (EOFError), corrupt, or a forbidden global
        raise ValueError(f"{path} is not a readable CIFAR-10 batch ({type(err).__name__}: {err}); "
                         f"delete it and download again from {CIFAR10_URL}") from err
    if not isinstance(batch, dict):
        raise ValueError(f"{path}: expected a dict, got {type(batch).__name__}")
    batch = {k.decode() if isinstance(k, bytes) else k: v for k, v in batch.items()}
    data, labels = batch.get("data"), batch.get("labels")
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        desc = f"{data.dtype} {data.shape}" if isinstance(data, np.ndarray) else type(data).__name__
        raise ValueError(f"{path}: 'data' must be a uint8 array of shape [N, 3072], got {desc}")
    try:
        labels = np.asarray(labels, dtype=np.int64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{path}: 'labels' must be a list of integers ({err})") from err
    if labels.shape != (data.shape[0],):
        raise ValueError(f"{path}: {data.shape[0]} images but labels of shape {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise ValueError(f"{path}: labels must lie in 0..9, got {labels.min()}..{labels.max()}")
    return data, labels


def _missing_message(folder: Path, names: tuple[str, ...]) -> str:
    return (f"CIFAR-10 files {', '.join(names)} not found in {folder}. Download {CIFAR10_URL} "
            f"(md5 {CIFAR10_MD5}) and extract it into {folder.parent}, so that {folder}/data_batch_1 ... "
            f"exists; or pass root=..., or set SWIN_EDU_DATA to a folder that holds {CIFAR10_FOLDER}/.")


def load_cifar10(split: str = "train", root: str | os.PathLike | None = None,
                 download: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Read CIFAR-10 from ``<root>/cifar-10-batches-py`` (see :func:`data_dir` for the default root).

    Args:
        split: "train" (data_batch_1..5) or "test" (test_batch).
        root: folder that holds (or will hold) ``cifar-10-batches-py/``.
        download: when files are missing, fetch the official archive (md5-checked) first.

    Returns:
        images uint8 [N, 3, 32, 32] and labels int64 [N], in file order.

    Raises:
        FileNotFoundError: files missing and ``download=False``.
        RuntimeError: files missing and the download failed (offline); says where to put which files.
        ValueError: a file is truncated, corrupt, or has the wrong shapes, dtype or labels.
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    root = data_dir(root)
    folder = root / CIFAR10_FOLDER
    names = TRAIN_FILES if split == "train" else TEST_FILES
    missing = tuple(n for n in names if not (folder / n).is_file())
    if missing:
        if not download:
            raise FileNotFoundError(_missing_message(folder, missing))
        try:
            download_cifar10(root, CIFAR10_URL, CIFAR10_MD5)
        except OSError as err:  # no network (urllib's URLError is an OSError)
            raise RuntimeError(f"{_missing_message(folder, missing)} (download failed: {err})") from err
    parts = [_read_batch(folder / n) for n in names]
    data = np.concatenate([d for d, _ in parts])
    labels = np.concatenate([y for _, y in parts])
    return torch.from_numpy(data).view(-1, 3, 32, 32), torch.from_numpy(labels)


def _md5(path: Path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def download_cifar10(root: str | os.PathLike | None = None, url: str = CIFAR10_URL,
                     md5: str = CIFAR10_MD5) -> Path:
    """Download the CIFAR-10 archive, check its md5, and extract ``cifar-10-batches-py/`` into ``root``.

    Extraction is safe: only regular files directly inside ``cifar-10-batches-py/`` are written,
    under their base names (no absolute paths, ``..`` or links can escape ``root``).

    Returns:
        The extracted folder ``<root>/cifar-10-batches-py``.

    Raises:
        ValueError: the archive's md5 is not ``md5`` (the download is deleted).
        OSError: the download failed (e.g. no internet).
    """
    root = data_dir(root)
    root.mkdir(parents=True, exist_ok=True)
    archive = root / "cifar-10-python.tar.gz"
    partial = archive.with_name(archive.name + ".part")
    try:
        download_url_to_file(url, str(partial), progress=not os.environ.get("TQDM_DISABLE"))
        digest = _md5(partial)
        if digest != md5:
            raise ValueError(f"checksum mismatch for {url}: md5 {digest}, expected {md5}; the file is "
                             "corrupt or truncated, try again")
        os.replace(partial, archive)
    finally:
        partial.unlink(missing_ok=True)
    folder = root / CIFAR10_FOLDER
    folder.mkdir(exist_ok=True)
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar.getmembers():
            parent, _, name = member.name.rpartition("/")
            if member.isfile() and parent.split("/")[-1] == CIFAR10_FOLDER and name not in ("", ".", ".."):
                src = tar.extractfile(member)
                with src, open(folder / name, "wb") as dst:
                    dst.write(src.read())
    archive.unlink()
    return folder


# ----------------------------------------------------------------------------------------------
# Batches on the device
# ----------------------------------------------------------------------------------------------

def normalize(images: torch.Tensor, mean=CIFAR10_MEAN, std=CIFAR10_STD) -> torch.Tensor:
    """uint8 [B, 3, H, W] in 0..255 -> float32 [B, 3, H, W], standardised per channel.

    ``mean`` and ``std`` are per-channel sequences or tensors; pass tensors already on the device
    to avoid a host-to-device copy (which waits for the GPU) at every batch."""
    mean = torch.as_tensor(mean, dtype=torch.float32, device=images.device).view(1, -1, 1, 1)
    std = torch.as_tensor(std, dtype=torch.float32, device=images.device).view(1, -1, 1, 1)
    return (images.float() / 255 - mean) / std


class DeviceLoader:
    """Shuffled, augmented, normalised batches made entirely on ``device``.

    The uint8 images are moved to the device once; each epoch draws a permutation and, when
    augmenting, the random choices of the augmentations from ``generator`` (a ``torch.Generator`` on
    the device, so the order and the augmentation are reproducible and its state can be checkpointed).

    Args:
        images: uint8 [N, 3, H, W].
        labels: int64 [N].
        batch_size: images per batch.
        train: shuffle and drop the last incomplete batch; else fixed order, every image once.
        augment: when ``train``: a :class:`swin_edu.augment.BatchAugment` (default: random crop with
            padding 4 and horizontal flip, :func:`swin_edu.augment.random_crop_flip`), None for no augmentation.
        device: where the data lives and the batches are made.
        seed: seed of ``self.generator``.

    Yields:
        (x float32 [B, 3, H, W], y) on ``device``: y int64 [B], or float32 soft targets [B, K] when
        ``augment`` mixes images (mixup, cutmix).
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, batch_size: int, train: bool,
                 augment: BatchAugment | None = BatchAugment(), device: str | torch.device = "cpu", seed: int = 0):
        if images.dtype != torch.uint8 or images.dim() != 4 or labels.shape != images.shape[:1]:
            raise ValueError(f"expected uint8 images [N, C, H, W] and labels [N], got {images.dtype} "
                             f"{tuple(images.shape)} and {tuple(labels.shape)}")
        if augment is not None and not isinstance(augment, BatchAugment):
            raise ValueError(f"augment must be a BatchAugment or None (no augmentation), got {augment!r}")
        if batch_size < 1 or (train and batch_size > len(labels)):
            raise ValueError(f"batch_size must lie in 1..{len(labels)} (the number of images), got {batch_size}")
        self.device = torch.device(device)
        self.images, self.labels = images.to(self.device), labels.to(self.device)
        self.batch_size, self.train = batch_size, train
        self.augment = augment if train else None
        self.generator = torch.Generator(device=self.device).manual_seed(seed)
        self.mean = torch.tensor(CIFAR10_MEAN, device=self.device)  # made once: no copy per batch
        self.std = torch.tensor(CIFAR10_STD, device=self.device)

    def __len__(self) -> int:
        n, bs = len(self.labels), self.batch_size
        return n // bs if self.train else -(-n // bs)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        n = len(self.labels)
        if self.train:
            order = torch.randperm(n, device=self.device, generator=self.generator)
        else:
            order = torch.arange(n, device=self.device)
        for k in range(len(self)):
            idx = order[k * self.batch_size:(k + 1) * self.batch_size]
            x, y = self.images[idx], self.labels[idx]
            if self.augment is None:
                yield normalize(x, self.mean, self.std), y
            else:
                x = normalize(self.augment.pixels(x, self.generator), self.mean, self.std)
                yield self.augment.batch(x, y, self.generator)
