"""The whole Swin Transformer: patch embedding, four stages of Swin blocks with patch merging
between them, final LayerNorm, global average pooling and a linear classifier.

Shapes for Swin-T on a 224x224 image (C = 96):
    [B, 3, 224, 224] -> patch_embed -> [B, 56, 56, C] -> stage 1 -> [B, 56, 56, C]
    -> stage 2 -> [B, 28, 28, 2C] -> stage 3 -> [B, 14, 14, 4C] -> stage 4 -> [B, 7, 7, 8C]
    -> norm, mean over (H, W) -> [B, 8C] -> head -> [B, num_classes]
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from .block import SwinBlock
from .patch_embed import PatchEmbed
from .patch_merging import PatchMerging
from .windows import check_window_size, fit_window

__all__ = ["StagePlan", "stage_plan", "SwinStage", "SwinTransformer", "swin_t", "swin_s", "swin_b", "swin_l", "swin_cifar"]


@dataclass(frozen=True)
class StagePlan:
    """What one stage of a Swin works on, worked out once by :func:`stage_plan`.

    Attributes:
        input_resolution: (H, W) of the map entering the stage (before its patch merging).
        input_dim: channels of that map.
        resolution: (H, W) of the map its blocks see.
        dim: channels of the map its blocks see.
        depth: number of blocks.
        num_heads: nH of every block.
        window_size: M its blocks use: the asked window, or min(H, W) on a map no larger than it.
        shift_size: s of its SW-MSA blocks: M // 2, or 0 when the window covers the shorter side.
        downsample: whether the stage starts with patch merging (every stage but the first).
    """

    input_resolution: tuple[int, int]
    input_dim: int
    resolution: tuple[int, int]
    dim: int
    depth: int
    num_heads: int
    window_size: int
    shift_size: int
    downsample: bool


def stage_plan(img_size: int, patch_size: int, embed_dim: int, depths: Sequence[int], num_heads: Sequence[int],
               window_size: int) -> list[StagePlan]:
    """Every stage's map size, channels, window and shift, checked: the model, its checks and
    :meth:`SwinTransformer.flops` all read this one plan.

    Raises:
        ValueError: for sizes that do not fit together, naming what to change.
    """
    check_window_size(window_size)
    if len(depths) != len(num_heads):
        raise ValueError(f"depths {tuple(depths)} and num_heads {tuple(num_heads)} must have the same length "
                         "(one entry per stage)")
    if img_size % patch_size:
        raise ValueError(f"img_size {img_size} is not divisible by patch_size {patch_size}")
    plan, res, dim = [], img_size // patch_size, embed_dim
    for i, (depth, heads) in enumerate(zip(depths, num_heads)):
        in_res, in_dim = res, dim
        if i > 0:
            if res % 2:
                raise ValueError(f"stage {i + 1} halves a {res}x{res} map; choose an img_size for which every "
                                 "stage but the last has an even resolution")
            res, dim = res // 2, dim * 2
        if dim % heads:
            raise ValueError(f"stage {i + 1}: {dim} channels cannot be split into {heads} heads")
        M, s = fit_window(res, res, window_size, window_size // 2)
        if res % M:
            raise ValueError(f"stage {i + 1}: the {res}x{res} map is not divisible by window_size {window_size}; "
                             f"choose a window size dividing {res} or another img_size")
        plan.append(StagePlan((in_res, in_res), in_dim, (res, res), dim, depth, heads, M, s, downsample=i > 0))
    return plan


class SwinStage(nn.Module):
    """Optional patch merging, then ``depth`` blocks alternating W-MSA (shift 0) and SW-MSA
    (shift M // 2). This is timm's layout: the merging that starts stage i+1 belongs to it.

    Args:
        dim: channels C of the input map.
        input_resolution: (H, W) of the input map.
        depth: number of blocks.
        num_heads: nH of every block.
        window_size: M.
        downsample: start with patch merging ([H, W, C] -> [H/2, W/2, 2C]).
        mlp_ratio: MLP width relative to the channels.
        drop_path: stochastic depth probability of each block.

    Shapes:
        input [B, H, W, C] -> output [B, H, W, C], or [B, H/2, W/2, 2C] with downsample
    """

    def __init__(self, dim: int, input_resolution: tuple[int, int], depth: int, num_heads: int,
                 window_size: int, downsample: bool, mlp_ratio: float, drop_path: Sequence[float]):
        super().__init__()
        H, W = input_resolution
        self.downsample = PatchMerging(dim) if downsample else nn.Identity()
        if downsample:
            dim, H, W = 2 * dim, H // 2, W // 2
        self.blocks = nn.Sequential(*[
            SwinBlock(dim, (H, W), num_heads, window_size, shift_size=0 if i % 2 == 0 else window_size // 2,
                      mlp_ratio=mlp_ratio, drop_path=drop_path[i])
            for i in range(depth)
        ])
        self.input_resolution = input_resolution

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.blocks(self.downsample(x))

    def flops(self) -> int:
        """Multiply-accumulates for one image (merging + blocks)."""
        merge = self.downsample.flops(*self.input_resolution) if isinstance(self.downsample, PatchMerging) else 0
        return merge + sum(block.flops() for block in self.blocks)


class SwinTransformer(nn.Module):
    """Swin Transformer (Liu et al., 2021) for image classification.

    Args:
        img_size: side of the square input image; fixed, because shift masks are built for it.
        patch_size: side P of the patches (4 in the paper).
        in_chans: image channels.
        num_classes: outputs of the linear head.
        embed_dim: C, channels after patch embedding; stage i has C * 2^i.
        depths: blocks per stage (even numbers: W-MSA and SW-MSA come in pairs).
        num_heads: heads per stage, same length as ``depths``.
        window_size: M.
        mlp_ratio: MLP hidden width relative to the channels.
        drop_path_rate: stochastic depth, rising linearly from 0 to this over all blocks.

    Shapes:
        input [B, in_chans, img_size, img_size] -> output [B, num_classes]

    Raises:
        ValueError: for sizes that do not fit together, naming what to change.
    """

    def __init__(self, img_size: int = 224, patch_size: int = 4, in_chans: int = 3, num_classes: int = 1000,
                 embed_dim: int = 96, depths: Sequence[int] = (2, 2, 6, 2), num_heads: Sequence[int] = (3, 6, 12, 24),
                 window_size: int = 7, mlp_ratio: float = 4.0, drop_path_rate: float = 0.1):
        super().__init__()
        self.plan = stage_plan(img_size, patch_size, embed_dim, depths, num_heads, window_size)
        self.img_size, self.in_chans, self.num_classes = img_size, in_chans, num_classes
        self.patch_embed = PatchEmbed(patch_size, in_chans, embed_dim)
        rates = torch.linspace(0, drop_path_rate, sum(depths), device="cpu").tolist()  # stochastic depth, block by block
        first = 0  # index of the stage's first block among all blocks
        layers = []
        for stage in self.plan:
            layers.append(SwinStage(stage.input_dim, stage.input_resolution, stage.depth, stage.num_heads, window_size,
                                    stage.downsample, mlp_ratio, drop_path=rates[first:first + stage.depth]))
            first += stage.depth
        self.layers = nn.Sequential(*layers)
        self.num_features = dim = self.plan[-1].dim
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, num_classes)
        self.apply(_init_weights)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Images to the last stage's normalised map: [B, in_chans, S, S] -> [B, h, w, C_last]."""
        self._check_input(x)
        return self.norm(self.layers(self.patch_embed(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Images to logits: [B, in_chans, S, S] -> [B, num_classes]."""
        return self.head(self.forward_features(x).mean(dim=(1, 2)))

    def _check_input(self, x: torch.Tensor) -> None:
        expected = (self.in_chans, self.img_size, self.img_size)
        if x.dim() != 4 or tuple(x.shape[1:]) != expected:
            raise ValueError(
                f"expected images of shape [B, {expected[0]}, {expected[1]}, {expected[2]}], got {tuple(x.shape)}; "
                f"resize the images to {self.img_size}x{self.img_size} and pass them channels first "
                "(or build a model whose img_size matches your images)"
            )

    def flops(self) -> int:
        """Multiply-accumulates for one image at ``img_size`` (the official count: Swin-T 4.49e9)."""
        h, w = self.plan[-1].resolution
        head = h * w * self.num_features + self.num_features * self.num_classes  # final norm + head
        return self.patch_embed.flops(self.img_size, self.img_size) + sum(layer.flops() for layer in self.layers) + head


def _init_weights(module: nn.Module) -> None:
    """Truncated normal (std 0.02) for linear weights, zero biases, as in the official code."""
    if isinstance(module, nn.Linear):
        nn.init.trunc_normal_(module.weight, std=0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)


def swin_t(**kwargs) -> SwinTransformer:
    """Swin-T: C = 96, depths 2-2-6-2, heads 3-6-12-24 (28.3 M parameters, 4.49 G MACs at 224)."""
    return SwinTransformer(**{"embed_dim": 96, "depths": (2, 2, 6, 2), "num_heads": (3, 6, 12, 24), **kwargs})


def swin_s(**kwargs) -> SwinTransformer:
    """Swin-S: C = 96, depths 2-2-18-2, heads 3-6-12-24 (49.6 M parameters, 8.75 G MACs at 224)."""
    return SwinTransformer(**{"embed_dim": 96, "depths": (2, 2, 18, 2), "num_heads": (3, 6, 12, 24), **kwargs})


def swin_b(**kwargs) -> SwinTransformer:
    """Swin-B: C = 128, depths 2-2-18-2, heads 4-8-16-32 (87.8 M parameters, 15.44 G MACs at 224)."""
    return SwinTransformer(**{"embed_dim": 128, "depths": (2, 2, 18, 2), "num_heads": (4, 8, 16, 32), **kwargs})


def swin_l(**kwargs) -> SwinTransformer:
    """Swin-L: C = 192, depths 2-2-18-2, heads 6-12-24-48."""
    return SwinTransformer(**{"embed_dim": 192, "depths": (2, 2, 18, 2), "num_heads": (6, 12, 24, 48), **kwargs})


def swin_cifar(**kwargs) -> SwinTransformer:
    """A Swin for 32x32 images (CIFAR-10): patch 2, window 4, three stages on 16x16, 8x8, 4x4 maps,
    C = 96, depths 2-6-2, heads 3-6-12, 10 classes."""
    config = {"img_size": 32, "patch_size": 2, "num_classes": 10, "embed_dim": 96, "depths": (2, 6, 2),
              "num_heads": (3, 6, 12), "window_size": 4, "drop_path_rate": 0.1}
    return SwinTransformer(**{**config, **kwargs})
