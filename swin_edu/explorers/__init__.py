"""Interactive explorers for JupyterLab: sliders that redraw a figure of the tutorial.

Each explorer is a thin layer over a plotting helper of :mod:`swin_edu.plotting`: the logic it shows is
a plain, tested function of :mod:`swin_edu.analysis`; the widget only reads the controls and redraws. Where no widget frontend is
running (GitHub, an exported notebook, nbval), the explorer's output is the static figure of its
initial values.
"""
from ._widget import Explorer, figure_png, slider
from .attention import explore_attention  # notebook 07
from .bias import explore_bias  # notebook 05
from .shift import explore_shift  # notebook 04

__all__ = ["Explorer", "figure_png", "slider", "explore_shift", "explore_bias", "explore_attention"]
