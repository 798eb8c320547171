"""The image of notebooks 01-03 and the geometry of its patches.

The photograph is Grace Hopper's portrait, a sample file that ships with matplotlib: no download is
needed. It is read from matplotlib's data folder with Pillow (as ``matplotlib.image.imread`` reads a
JPEG), without importing matplotlib.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from einops import rearrange

__all__ = ["sample_image", "zoom_box"]


def _sample_photo() -> Path:
    """Path of ``grace_hopper.jpg`` in matplotlib's ``mpl-data/sample_data`` (found, not imported)."""
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("sample_image needs matplotlib installed: the photo ships with it")
    return Path(spec.origin).parent / "mpl-data" / "sample_data" / "grace_hopper.jpg"


def sample_image(size: int = 224) -> torch.Tensor:
    """Grace Hopper's portrait (shipped with matplotlib) as a float image: [3, size, size] in [0, 1].

    The 600x512 photo is cropped to its top 512x512 square (the face) and resized with
    antialiased bilinear interpolation.
    """
    if size < 1:
        raise ValueError(f"expected an image side size >= 1, got {size}")
    from PIL import Image  # Pillow: a dependency of matplotlib, imported only here

    with Image.open(_sample_photo()) as photo:
        pixels = torch.from_numpy(np.asarray(photo).copy())  # [600, 512, 3] uint8
    side = min(pixels.shape[:2])
    img = rearrange(pixels[:side, :side], "h w c -> 1 c h w").float() / 255
    img = F.interpolate(img, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    return img[0].clamp(0, 1)


def zoom_box(height: int, width: int, patch_size: int = 4, token: tuple[int, int] = (20, 23),
             zoom_patches: int = 8) -> tuple[int, int, int]:
    """The block of ``zoom_patches`` x ``zoom_patches`` patches around ``token``, kept inside the image.

    Args:
        height, width: H and W of the image in pixels (multiples of ``patch_size``).
        patch_size: P, side of a patch in pixels.
        token: (row, column) of a patch, in patch units: 0 <= row < H/P, 0 <= column < W/P.
        zoom_patches: n, side of the block in patches (at most H/P and W/P).

    Returns:
        (top, left, side): the block is pixel rows top..top+side-1 and columns left..left+side-1,
        with side = n * P; top and left are multiples of P and the block contains the token.
    """
    P, n = patch_size, zoom_patches
    if P < 1 or height % P or width % P:
        raise ValueError(f"expected an image whose sides are multiples of the patch size {P}, got {height}x{width}")
    rows, cols = height // P, width // P
    if not (0 <= token[0] < rows and 0 <= token[1] < cols):
        raise ValueError(f"token {tuple(token)} is outside the {rows}x{cols} grid of patches")
    if not 1 <= n <= min(rows, cols):
        raise ValueError(f"zoom_patches must be between 1 and {min(rows, cols)} for a {rows}x{cols} grid, got {n}")
    top = min(max(token[0] - n // 2, 0), rows - n) * P
    left = min(max(token[1] - n // 2, 0), cols - n) * P
    return top, left, n * P
