"""Plotting helpers (to be written)."""
__all__: list[str] = []

#: figure file name -> function returning a matplotlib Figure
FIGURES: dict = {}
