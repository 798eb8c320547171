"""Plotting helpers: every figure of the notebooks and of figures/ is drawn by these functions.

Each submodule draws one part of the tutorial and lists its figure files in ``FIGURES``
(file name -> function returning a matplotlib Figure); ``python -m swin_edu.figures`` writes them all.
"""
from .patches import *  # noqa: F401,F403  notebooks 01-02
from .windows import *  # noqa: F401,F403  notebook 03
from .masks import *  # noqa: F401,F403  notebook 04
from .position import *  # noqa: F401,F403  notebook 05
from .model import *  # noqa: F401,F403  notebooks 00, 06
from .training import *  # noqa: F401,F403  notebook 07
