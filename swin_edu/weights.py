"""Load Swin weights saved by the official code, timm or torchvision into a swin_edu model.

The three layouts name the same tensors differently:

=========================  ==============================  ===========================  ==========================
tensor                     official (microsoft/Swin)       timm >= 0.9                  torchvision
=========================  ==============================  ===========================  ==========================
patch embedding            patch_embed.proj / .norm        patch_embed.proj / .norm     features.0.0 / features.0.2
block j of stage i         layers.i.blocks.j.*             layers.i.blocks.j.*          features.(2i+1).j.*
MLP                        mlp.fc1, mlp.fc2                mlp.fc1, mlp.fc2             mlp.0, mlp.3
merging before stage i+1   layers.i.downsample.*           layers.(i+1).downsample.*    features.(2i+2).*
classifier                 head                            head.fc                      head
buffers                    relative_position_index,        (none)                       relative_position_index
                           attn_mask
=========================  ==============================  ===========================  ==========================

swin_edu uses timm's names with a plain ``head`` and stores no buffers (they are rebuilt).
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from os import PathLike

import torch
from torch import nn

__all__ = ["load_weights", "detect_layout", "convert_state_dict"]

_BUFFERS = ("relative_position_index", "attn_mask")


def detect_layout(state_dict: Mapping[str, torch.Tensor]) -> str:
    """Which code saved ``state_dict``: "torchvision", "official", "timm", "swin_edu" or "unknown"."""
    keys = set(state_dict)
    if "features.0.0.weight" in keys:
        return "torchvision"
    if any(k.startswith("layers.0.downsample.") for k in keys):
        return "official"  # also timm < 0.9, which saved the same layout
    if "head.fc.weight" in keys:
        return "timm"
    if "patch_embed.proj.weight" in keys:
        return "swin_edu"
    return "unknown"


def convert_state_dict(state_dict: Mapping[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], str]:
    """Rename a checkpoint's keys to swin_edu's; returns (converted dict, detected layout)."""
    layout = detect_layout(state_dict)
    rename = {"torchvision": _from_torchvision, "official": _from_official, "timm": _from_timm}.get(layout)
    out = {}
    for key, value in state_dict.items():
        if key.rsplit(".", 1)[-1] in _BUFFERS:
            continue  # rebuilt from the configuration, never loaded
        out[rename(key) if rename else key] = value
    return out, layout


def _from_timm(key: str) -> str:
    return re.sub(r"^head\.fc\.", "head.", key)


def _from_official(key: str) -> str:
    # the merging at the end of stage i starts stage i+1 in swin_edu
    return re.sub(r"^layers\.(\d+)\.downsample\.", lambda m: f"layers.{int(m[1]) + 1}.downsample.", key)


def _from_torchvision(key: str) -> str:
    key = re.sub(r"^features\.0\.0\.", "patch_embed.proj.", key)
    key = re.sub(r"^features\.0\.2\.", "patch_embed.norm.", key)
    m = re.match(r"^features\.(\d+)\.(.*)$", key)
    if m is None:
        return key  # norm.*, head.*
    n, rest = int(m[1]), m[2]
    if n % 2 == 0:  # features.2, .4, .6: patch merging that starts stage n/2
        return f"layers.{n // 2}.downsample.{rest}"
    rest = re.sub(r"^(\d+)\.mlp\.0\.", r"\1.mlp.fc1.", rest)
    rest = re.sub(r"^(\d+)\.mlp\.3\.", r"\1.mlp.fc2.", rest)
    return f"layers.{(n - 1) // 2}.blocks.{rest}"


def load_weights(model: nn.Module, state_dict_or_path: Mapping[str, torch.Tensor] | str | PathLike) -> str:
    """Load official, timm, torchvision or swin_edu weights into ``model``, strictly.

    Args:
        model: a :class:`swin_edu.SwinTransformer` of the checkpoint's size.
        state_dict_or_path: a state dict, or a path read with ``torch.load(weights_only=True)``
            (never unpickles code). A dict wrapped as {"model": ...} or {"state_dict": ...} is unwrapped.

    Returns:
        The detected layout.

    Raises:
        ValueError: the keys fit no known layout or another model size; the message names the
            detected layout and the first missing / unexpected keys or mismatched shapes.
    """
    state_dict = state_dict_or_path
    if isinstance(state_dict, (str, PathLike)):
        state_dict = torch.load(state_dict, map_location="cpu", weights_only=True)
    for wrapper in ("model", "state_dict"):
        if isinstance(state_dict, Mapping) and isinstance(state_dict.get(wrapper), Mapping):
            state_dict = state_dict[wrapper]
    if not isinstance(state_dict, Mapping):
        raise ValueError(f"expected a state dict (a mapping of names to tensors), got {type(state_dict).__name__}")
    converted, layout = convert_state_dict(state_dict)
    expected = model.state_dict()
    missing = [k for k in expected if k not in converted]
    unexpected = [k for k in converted if k not in expected]
    wrong_shape = [f"{k}: checkpoint {tuple(converted[k].shape)} vs model {tuple(v.shape)}"
                   for k, v in expected.items() if k in converted and converted[k].shape != v.shape]
    if missing or unexpected or wrong_shape:
        raise ValueError(
            f"checkpoint (detected layout: {layout}) does not fit this model: "
            f"{len(missing)} missing keys {missing[:3]}, {len(unexpected)} unexpected keys {unexpected[:3]}, "
            f"{len(wrong_shape)} shape mismatches {wrong_shape[:2]}; check the layout and the model size "
            "(swin_t / swin_s / swin_b / swin_l, num_classes, window_size)"
        )
    model.load_state_dict(converted, strict=True)
    return layout
