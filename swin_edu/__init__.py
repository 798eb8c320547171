"""swin_edu: the Swin Transformer, built to be read, exact to the reference implementations.

One module per concept, in the order of the tutorial:
patch_embed -> patch_merging -> windows -> attention (+ relative_position) -> block -> model -> weights.
"""
from .attention import WindowAttention
from .block import DropPath, Mlp, SwinBlock
from .model import SwinStage, SwinTransformer, swin_b, swin_cifar, swin_l, swin_s, swin_t
from .patch_embed import PatchEmbed
from .patch_merging import PatchMerging, merge_patches
from .relative_position import relative_position_bias, relative_position_index
from .weights import convert_state_dict, detect_layout, load_weights
from .windows import MASK_VALUE, region_map, shifted_window_mask, window_partition, window_reverse

__version__ = "0.1.0"

__all__ = [
    "PatchEmbed", "PatchMerging", "merge_patches",
    "window_partition", "window_reverse", "region_map", "shifted_window_mask", "MASK_VALUE",
    "relative_position_index", "relative_position_bias", "WindowAttention",
    "DropPath", "Mlp", "SwinBlock", "SwinStage", "SwinTransformer",
    "swin_t", "swin_s", "swin_b", "swin_l", "swin_cifar",
    "load_weights", "detect_layout", "convert_state_dict",
]
