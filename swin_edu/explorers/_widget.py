"""The thin layer shared by every explorer: controls, one redrawn image, a static fallback."""
from __future__ import annotations

import base64
import io
from typing import Callable

import ipywidgets as widgets
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

__all__ = ["Explorer", "figure_png", "slider"]


def figure_png(fig: Figure, dpi: int = 80) -> bytes:
    """Render ``fig`` to PNG bytes and close it (so it is not drawn a second time below the cell)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def slider(description: str, value: int, low: int, high: int, step: int = 1) -> widgets.IntSlider:
    """An integer slider as every explorer uses it: redraws when released, not while dragged."""
    return widgets.IntSlider(value=value, min=low, max=high, step=step, description=description,
                             continuous_update=False, style={"description_width": "initial"})


class Explorer(widgets.VBox):
    """Controls above an image that ``draw(**values)`` redraws whenever a control changes.

    Args:
        draw: function of the controls' values (by name) returning a matplotlib Figure.
        controls: name -> ipywidgets control (slider, dropdown...); the names are ``draw``'s arguments.
        title: one line shown above the controls.
        link: optional function called with the controls before every redraw, to keep them
            consistent (e.g. clamp the shift below the window size); it may change their values
            and bounds.

    In a running JupyterLab the output is the live widget. Elsewhere (no widget frontend) the
    output is the PNG of the initial figure, and ``text/plain`` says where the sliders are.
    """

    def __init__(self, draw: Callable[..., Figure], controls: dict[str, widgets.ValueWidget], title: str,
                 link: Callable[[dict[str, widgets.ValueWidget]], None] | None = None):
        self._draw = draw
        self._link = link
        self._busy = False
        self.controls = controls
        self.title = title
        self.image = widgets.Image(format="png")
        self.status = widgets.HTML()
        super().__init__([widgets.HTML(f"<b>{title}</b>"), widgets.HBox(list(controls.values()), layout=widgets.Layout(flex_flow="row wrap")), self.status,
                          self.image])
        for control in controls.values():
            control.observe(self._on_change, names="value")
        self.redraw()

    @property
    def values(self) -> dict:
        """The current value of every control, by name."""
        return {name: control.value for name, control in self.controls.items()}

    def redraw(self) -> None:
        """Keep the controls consistent, then draw the figure for their current values."""
        self._busy = True
        try:
            if self._link is not None:
                self._link(self.controls)
        finally:
            self._busy = False
        try:
            self.image.value = figure_png(self._draw(**self.values))
            self.status.value = ""
        except ValueError as error:  # a combination the helper refuses: say why, keep the last figure
            self.status.value = f"<span style='color:#b00'>{error}</span>"

    def _on_change(self, change) -> None:
        if not self._busy:
            self.redraw()

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs) or {}
        shown = ", ".join(f"{name}={value}" for name, value in self.values.items())
        bundle["text/plain"] = f"{self.title} ({shown}); the sliders need a running kernel in JupyterLab"
        bundle["image/png"] = base64.b64encode(self.image.value).decode("ascii")
        return bundle
