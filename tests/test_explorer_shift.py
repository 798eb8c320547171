"""Notebook 04's explorer: a thin widget over plot_shift_explorer that can only reach valid geometries."""
import matplotlib

matplotlib.use("Agg")
import pytest  # noqa: E402

from swin_edu import region_map  # noqa: E402
from swin_edu.explorers import explore_shift  # noqa: E402
from swin_edu.analysis import region_views  # noqa: E402


def assert_valid(explorer):
    v = explorer.values
    M = v["window_size"]
    assert 2 <= M <= 8 and 1 <= v["shift"] < M
    assert v["H"] % M == 0 and v["W"] % M == 0 and M <= v["H"] <= 32 and M <= v["W"] <= 32
    assert 0 <= v["window"] < (v["H"] // M) * (v["W"] // M)
    region_map(v["H"], v["W"], M, v["shift"])  # the package accepts it
    assert explorer.status.value == ""  # no error shown


def test_changing_a_control_redraws():
    explorer = explore_shift()
    assert explorer.values == {"H": 8, "W": 8, "window_size": 4, "shift": 2, "window": 1}
    before = bytes(explorer.image.value)
    assert before.startswith(b"\x89PNG")
    explorer.controls["window"].value = 3
    after_window = bytes(explorer.image.value)
    assert after_window != before
    explorer.controls["shift"].value = 1
    assert bytes(explorer.image.value) not in (before, after_window)
    assert_valid(explorer)


def test_a_new_window_size_keeps_the_geometry_valid():
    explorer = explore_shift(H=12, W=8, window_size=4, shift=3, window=5)
    explorer.controls["window_size"].value = 5  # 12 and 8 are not multiples of 5: rounded to 10, 10
    assert_valid(explorer)
    assert (explorer.values["H"], explorer.values["W"]) == (10, 10)
    explorer.controls["window_size"].value = 2  # s = 3 is not < 2: clamped to 1
    assert_valid(explorer)
    assert explorer.values["shift"] == 1
    explorer.controls["window_size"].value = 7
    assert_valid(explorer)
    assert explorer.controls["H"].step == 7 and explorer.controls["H"].max == 28


def test_the_window_slider_follows_nw():
    explorer = explore_shift(H=16, W=16, window_size=4, shift=2, window=15)
    assert explorer.controls["window"].max == 15
    explorer.controls["H"].value = 4  # one row of windows: nW = 4, window clamped to 3
    assert explorer.controls["window"].max == 3 and explorer.values["window"] == 3
    assert_valid(explorer)


def test_the_sliders_cannot_go_past_their_bounds():
    explorer = explore_shift()
    explorer.controls["shift"].value = 9
    explorer.controls["window"].value = 99
    explorer.controls["H"].value = 100
    assert explorer.values["shift"] == 3 and explorer.values["window"] == 3 and explorer.values["H"] == 32
    assert_valid(explorer)


def test_the_figure_shows_the_chosen_window():
    explorer = explore_shift()
    explorer.controls["window"].value = 3
    views = region_views(**explorer.values)
    assert views.window == 3 and int((views.mask != 0).sum()) == 192  # four regions of 4 tokens


@pytest.mark.parametrize("kwargs, message", [
    (dict(H=10, W=8, window_size=4), "multiples of the window size"),
    (dict(shift=0), "1 <= s < M"),
    (dict(window=4), "nW = 4 windows"),
    (dict(window_size=1, shift=0, window=0), "2 <= M <= 8"),
    (dict(H=40, W=40), "max_side"),
])
def test_invalid_initial_values_are_refused_with_a_clear_message(kwargs, message):
    with pytest.raises(ValueError, match=message):
        explore_shift(**kwargs)


def test_static_output_for_github_and_nbval():
    bundle = explore_shift()._repr_mimebundle_()
    assert "image/png" in bundle
    assert bundle["text/plain"].startswith("Shifted windows") and "H=8, W=8, window_size=4, shift=2, window=1" in bundle["text/plain"]


def test_one_row_of_windows_six_regions_one_window_four():
    explorer = explore_shift(H=8, W=8, window_size=4, shift=2, window=0)
    explorer.controls["H"].value = 4  # H = M, W > M: the first row band is empty
    assert region_views(**explorer.values).code.unique().numel() == 6
    explorer.controls["W"].value = 4  # H = W = M: a single window, both first bands empty
    assert explorer.values["window"] == 0
    assert region_views(**explorer.values).code.unique().numel() == 4
    assert_valid(explorer)
