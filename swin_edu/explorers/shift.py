"""Notebook 04's explorer: the regions of the shifted windows and the mask of one window, for any geometry."""
from __future__ import annotations

import ipywidgets as widgets

from ..analysis.regions import region_views
from ..plotting.masks import plot_shift_explorer
from ._widget import Explorer, slider

__all__ = ["explore_shift", "link_shift_controls"]


def link_shift_controls(controls: dict[str, widgets.IntSlider], max_side: int = 32) -> None:
    """Keep the sliders on geometries the package accepts (the ``link`` of :func:`explore_shift`).

    H and W move in steps of M between M and the largest multiple of M up to ``max_side`` (a new M
    rounds them to the nearest multiple); the shift s stays in [1, M - 1]; the window slider runs over
    the nW = (H/M)(W/M) windows of the rolled map.
    """
    M = controls["window_size"].value
    top = M * max(1, max_side // M)
    for name in ("H", "W"):
        side = controls[name]
        value = min(top, M * max(1, round(side.value / M)))
        side.max = max(side.max, top)  # widen first, so that min <= max holds at every step
        side.min, side.step = M, M
        side.max, side.value = top, value
    shift = controls["shift"]
    shift.max = max(shift.max, M - 1)
    shift.min, shift.max = 1, M - 1  # the slider clamps its value into [1, M - 1]
    window = controls["window"]
    window.max = (controls["H"].value // M) * (controls["W"].value // M) - 1


def explore_shift(H: int = 8, W: int = 8, window_size: int = 4, shift: int = 2, window: int = 1,
                  max_side: int = 32) -> Explorer:
    """Sliders for H, W, M, s and a window, over :func:`swin_edu.plotting.plot_shift_explorer`.

    Shows the regions of :func:`swin_edu.region_map` (the official labels) on the rolled map and carried
    back to the original map, and the [N, N] mask of the chosen window of the rolled map.
    Only valid combinations can be reached (:func:`link_shift_controls`): H, W multiples of M up to
    ``max_side``, 2 <= M <= 8, 1 <= s < M, 0 <= window < nW.

    Raises:
        ValueError: if the initial values are not such a combination.
    """
    M = window_size
    if not 2 <= M <= 8 or not M <= H <= max_side or not M <= W <= max_side:
        raise ValueError(f"explore_shift expects 2 <= M <= 8 and M <= H, W <= max_side = {max_side}, "
                         f"got H={H}, W={W}, M={M}")
    region_views(H, W, M, shift, window)  # the figure's own checks: M divides H and W, 1 <= s < M, window < nW

    nW = (H // M) * (W // M)
    controls = {
        "H": slider("H", H, M, M * (max_side // M), step=M),
        "W": slider("W", W, M, M * (max_side // M), step=M),
        "window_size": slider("M", M, 2, 8),
        "shift": slider("s", shift, 1, M - 1),
        "window": slider("window", window, 0, nW - 1),
    }
    return Explorer(plot_shift_explorer, controls,
                    "Shifted windows: the regions before and after the roll, and one window's mask",
                    link=lambda c: link_shift_controls(c, max_side))
