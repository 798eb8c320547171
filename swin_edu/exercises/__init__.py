"""Exercises: the learner writes a piece of Swin, a check says whether it is right and, if not, which
common mistake it is and which section to re-read.

Every ``check_<name>(fn)`` runs the learner's ``fn`` on several cases (square and non-square maps,
batch > 1, several window sizes and shifts, float32 and float64), compares with the package's
reference and returns a :class:`Result`: it shows itself as a short report in a notebook, has
``.passed``, and ``.raise_if_failed()`` for autograders. A check never raises.

>>> from swin_edu.exercises import check_window_partition
>>> check_window_partition(swin_edu.window_partition)      # doctest: +SKIP
window_partition: passed (6 cases: ...)

The exercise notebooks are in ``notebooks/homework/`` (nbgrader course layout: ``source/`` with the
solutions, ``release/`` the student version generated from it by ``make homework``).
"""
from . import (ch01_patch_embedding, ch02_patch_merging, ch03_window_attention, ch04_shifted_windows,
               ch05_relative_position, ch06_whole_swin, ch07_training)
from ._core import Case, Exercise, ExerciseFailed, Mistake, Question, Result
from .ch01_patch_embedding import *  # noqa: F401,F403
from .ch02_patch_merging import *  # noqa: F401,F403
from .ch03_window_attention import *  # noqa: F401,F403
from .ch04_shifted_windows import *  # noqa: F401,F403
from .ch05_relative_position import *  # noqa: F401,F403
from .ch06_whole_swin import *  # noqa: F401,F403
from .ch07_training import *  # noqa: F401,F403

_CHAPTERS = (ch01_patch_embedding, ch02_patch_merging, ch03_window_attention, ch04_shifted_windows,
             ch05_relative_position, ch06_whole_swin, ch07_training)

#: Every exercise and question, in notebook order: ``{name: Exercise or Question}``.
EXERCISES = {ex.name: ex for chapter in _CHAPTERS for ex in chapter.EXERCISES}

__all__ = ["Case", "Exercise", "ExerciseFailed", "Mistake", "Question", "Result", "EXERCISES"]
for _chapter in _CHAPTERS:
    __all__ += _chapter.__all__
