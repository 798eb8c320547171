"""Exercises for notebook 02_patch_merging: checks and their catalogues of common mistakes."""
from __future__ import annotations

from ._core import Case, Exercise, Mistake, Question, Result

__all__: list[str] = []

#: Every exercise and question of this notebook, in the order the exercise notebook asks them.
EXERCISES: list = []
