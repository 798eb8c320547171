"""Plotting helpers: every figure of the notebooks and of figures/ is drawn by these functions.

They only draw: what a figure shows is computed by :mod:`swin_edu.analysis` (or the model itself), which
needs no matplotlib. Every public function is ``plot_<what>`` and returns a matplotlib Figure; besides them
the modules export colours (UPPER_CASE) and :func:`window_line_style`, the series' window borders as
keyword arguments for matplotlib (``tests/test_package_layout.py`` holds them to this).

Each submodule draws one part of the tutorial and lists its figure files in ``FIGURES``
(file name -> function returning a matplotlib Figure); ``python -m swin_edu.figures`` writes them all.
"""
from . import masks, model, patches, position, training, windows
from .patches import *  # noqa: F401,F403  notebooks 01-02
from .windows import *  # noqa: F401,F403  notebook 03
from .masks import *  # noqa: F401,F403  notebook 04
from .position import *  # noqa: F401,F403  notebook 05
from .model import *  # noqa: F401,F403  notebooks 00, 06
from .training import *  # noqa: F401,F403  notebook 07

__all__ = [name for module in (patches, windows, masks, position, model, training) for name in module.__all__]
