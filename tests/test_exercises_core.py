"""The checking machinery, and every registered exercise: the reference passes, each catalogued
mistake is diagnosed as itself, and the checks never raise."""
import dataclasses
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from swin_edu.exercises import EXERCISES, Case, Exercise, ExerciseFailed, Mistake, Question
from swin_edu.exercises._core import grid_side_by_side


def _double(x):
    return x * 2


TOY = Exercise(
    name="double", notebook="00_toy", section="1. Doubling", reference=_double,
    cases=lambda: [Case("3 numbers", (torch.tensor([1.0, 2.0, 3.0]),)),
                   Case("2x2, float64", (torch.arange(4, dtype=torch.float64).view(2, 2),))],
    mistakes=(Mistake("squared", lambda x: x * x, "you squared instead of doubling (notebook 00, section 1)."),
              Mistake("plus-two", lambda x: x + 2, "you added 2 instead of doubling (notebook 00, section 1).")),
)


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_reference_passes(name):
    exercise = EXERCISES[name]
    if isinstance(exercise, Exercise):  # the reference may call what a learner must not (e.g. the block itself)
        exercise, answer = dataclasses.replace(exercise, forbidden=None, off_limits=()), exercise.reference
    else:
        answer = exercise.answer
    result = exercise.check(answer)
    assert result.passed, str(result)
    assert str(result).startswith(f"{exercise.name}: passed")


@pytest.mark.parametrize("name, mistake", [(n, m) for n, e in sorted(EXERCISES.items()) for m in e.mistakes],
                         ids=lambda v: v if isinstance(v, str) else v.name)
def test_every_catalogued_mistake_is_diagnosed_as_itself(name, mistake):
    result = EXERCISES[name].check(mistake.produce)
    assert result.status == "failed" and not result.passed
    assert result.mistake == mistake.name, str(result)
    assert mistake.diagnosis in str(result)


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_stubs_are_not_attempted_and_errors_are_reported(name):
    exercise = EXERCISES[name]

    def stub(*args):
        raise NotImplementedError()

    def crash(*args):
        raise KeyError("boom")

    assert exercise.check(stub).status == "not attempted"
    assert exercise.check(lambda *args: None).status == "not attempted"
    assert exercise.check(None).status == "not attempted"
    result = exercise.check(crash)
    assert result.status == "error" and "KeyError" in str(result) and "boom" in str(result)


def test_every_exercise_has_a_summary_and_a_section():
    for exercise in EXERCISES.values():
        assert exercise.summary and exercise.section and exercise.notebook[:2].isdigit(), exercise.name


def test_toy_passes_in_another_style():
    assert TOY.check(lambda x: x + x).passed


def test_result_report_and_raise_if_failed():
    ok, bad = TOY.check(lambda x: 2 * x), TOY.check(lambda x: x * x)
    assert ok.raise_if_failed() is ok and repr(ok) == ok.report
    with pytest.raises(ExerciseFailed, match="squared instead of doubling"):
        bad.raise_if_failed()
    assert isinstance(ExerciseFailed("x"), AssertionError)  # what autograders count as a failed test


def test_diagnosis_on_the_first_failing_case():
    result = TOY.check(lambda x: x + 2)
    assert result.mistake == "plus-two" and result.case == "3 numbers"
    assert "added 2" in str(result)


def test_uncatalogued_mismatch_shows_first_difference():
    result = TOY.check(lambda x: torch.cat([x[:1] * 2, x[1:] * 3]))
    assert result.status == "failed" and result.mistake is None
    assert "first at index [1]: expected 4.0, got 6.0" in str(result)
    assert "section 1. Doubling" in str(result) and "call: double(x); x [3] float32" in str(result)


def test_wrong_shape_dtype_and_type():
    assert "wrong shape: expected [3], got [1, 3]" in str(TOY.check(lambda x: (2 * x)[None]))
    result = TOY.check(lambda x: (2 * x).float())  # right values, float32 for a float64 input
    assert result.status == "failed" and result.case == "2x2, float64" and "dtype" in str(result)
    assert "expected a tensor" in str(TOY.check(lambda x: (2 * x).tolist()))
    assert "expected a function" in str(TOY.check(torch.tensor([2.0])))


def test_integer_results_must_be_integers_and_exact():
    count = Exercise("count", "00_toy", "1", reference=lambda n: n * (n - 1), cases=lambda: [Case("n=5", (5,))])
    assert count.check(lambda n: float(n * n - n)).passed  # 20.0 is the whole number 20
    assert "expected 20, got 21" in str(count.check(lambda n: n * n - n + 1))
    assert "whole number" in str(count.check(lambda n: 20.5))
    assert count.check(lambda n: np.int64(20)).passed and count.check(lambda n: torch.tensor(20)).passed
    index = Exercise("index", "00_toy", "1", reference=lambda n: torch.arange(n),
                     cases=lambda: [Case("n=4", (4,))])
    assert not index.check(lambda n: torch.arange(n, dtype=torch.int32)).passed  # int64, torch's default
    assert "expected integers" in str(index.check(lambda n: torch.arange(n).float()))


def test_learner_modifying_its_input_is_reported():
    def in_place(x):
        return x.mul_(2)  # the right values, but the caller's tensor is doubled too

    result = TOY.check(in_place)
    assert result.status == "failed" and "changed its input `x` in place" in str(result)


def test_calling_the_reference_does_not_pass():
    def sneaky(x):
        return _double(x)

    assert "calls `_double`" in str(TOY.check(sneaky))
    assert not TOY.check(lambda x: _double(x)).passed


def test_forbidden_module_calls_do_not_pass():
    layer = torch.nn.Linear(2, 2)
    by_hand = Exercise("linear", "00_toy", "1", reference=lambda m, x: m(x),
                       cases=lambda: [Case("2 features", (layer, torch.ones(3, 2)))],
                       forbidden=lambda m, x: [(m, "the layer itself, m(x)")])
    assert by_hand.check(lambda m, x: x @ m.weight.T + m.bias).passed
    result = by_hand.check(lambda m, x: m(x))
    assert result.status == "failed" and "the layer itself" in str(result)
    method = Exercise("linear", "00_toy", "1", reference=lambda m, x: m(x),
                      cases=lambda: [Case("2 features", (layer, torch.ones(3, 2)))],
                      forbidden=lambda m, x: [(m.forward, "m.forward")])
    assert "calls m.forward" in str(method.check(lambda m, x: m.forward(x)))
    assert method.check(lambda m, x: x @ m.weight.T + m.bias).passed


def test_none_on_a_later_case_is_a_failure_not_a_stub():
    result = TOY.check(lambda x: 2 * x if x.dim() == 1 else None)
    assert result.status == "failed" and "returned None on this case" in str(result)


def test_error_report_names_the_line():
    def buggy(x):
        y = x * 2
        return y.reshape(5, 7)

    result = TOY.check(buggy)
    assert result.status == "error" and "RuntimeError" in str(result) and "return y.reshape(5, 7)" in str(result)
    assert "on case: 3 numbers" in str(result)


def test_ellipsis_body_is_not_attempted():
    def stub(x):
        ...

    result = TOY.check(stub)
    assert result.status == "not attempted" and "forget `return`" in str(result)


def test_question():
    q = Question("pairs", "00_toy", "2", answer=24, mistakes=(Mistake("halved", 12, "ordered pairs count twice."),))
    assert q.check(24).passed and q.check(24.0).passed and q.check(lambda: 24).passed
    assert q.check(torch.tensor(24)).passed
    assert q.check(12).mistake == "halved" and "ordered pairs" in str(q.check(12))
    wrong = q.check(25)
    assert wrong.status == "failed" and wrong.mistake is None and "24" not in str(wrong)  # no answer given away
    assert q.check(None).status == "not attempted" and q.check(...).status == "not attempted"

    def stub():
        raise NotImplementedError()

    assert q.check(stub).status == "not attempted"
    assert q.check(lambda: 1 / 0).status == "error"
    assert q.check("24").status == "failed"


def test_grid_side_by_side():
    a = torch.tensor([[0, 1], [2, 3]])
    text = grid_side_by_side(a, a.T, "ids:")
    assert text.splitlines() == ["ids:", "  expected | got", "  0 1      | 0 2", "  2 3      | 1 3"]
    assert grid_side_by_side(a, a.clone()) == ""


NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def _headings(notebook: str) -> set[str]:
    """The headings of a tutorial notebook, without markdown markup ($, `, *)."""
    cells = json.loads((NOTEBOOKS / f"{notebook}.ipynb").read_text())["cells"]
    lines = [line for c in cells if c["cell_type"] == "markdown" for line in "".join(c["source"]).splitlines()]
    return {re.sub(r"[$`*]", "", line.lstrip("#").strip()) for line in lines if line.startswith("#")}


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_the_section_to_reread_exists(name):
    """Every diagnosis sends the learner to a section: it must be a heading of that tutorial notebook."""
    exercise = EXERCISES[name]
    assert exercise.section in _headings(exercise.notebook), f"{name}: no section {exercise.section!r}"
    for mistake in exercise.mistakes:
        # "(notebook 02, section 2. The full layer: LayerNorm(4C) ...)": the cited text starts a heading
        for number, section in re.findall(r"\(notebook (\d\d), section ([^)]*)", mistake.diagnosis):
            headings = _headings(next(NOTEBOOKS.glob(f"{number}_*.ipynb")).stem)
            assert any(h.startswith(section.rstrip(".")) or section.startswith(h) for h in headings), \
                f"{name}/{mistake.name}: no section {section!r} in notebook {number}"


# --- issue 16: fair to every right answer, reports a learner can act on ------------------------------

MAX_REPORT_LINES = 12


def _failing_reports(exercise):
    """(what, report) for failing answers of one check: every catalogued mistake and a crash."""
    def crash(*args):
        raise KeyError("boom")

    if isinstance(exercise, Question):  # the notebooks ask for a function of no arguments
        reports = [(f"mistake {m.name}", exercise.check(lambda v=m.produce: v)) for m in exercise.mistakes]
    else:
        reports = [(f"mistake {m.name}", exercise.check(m.produce)) for m in exercise.mistakes]
    reports.append(("crash", exercise.check(crash)))
    return reports


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_failing_reports_are_short_and_show_the_call(name):
    """Every failing report: the verdict first, at most 12 lines, and (for a function) the call made."""
    exercise = EXERCISES[name]
    for what, result in _failing_reports(exercise):
        report = str(result)
        assert not result.passed, f"{name} / {what}"
        assert report.startswith(f"{exercise.name}: "), f"{name} / {what}:\n{report}"
        assert len(report.splitlines()) <= MAX_REPORT_LINES, f"{name} / {what}:\n{report}"
        assert f"{exercise.name}(" in report, f"{name} / {what}: the call is not shown:\n{report}"


def test_the_call_uses_the_learners_parameter_names():
    def swapped(windows, H, W, M):  # the arguments in another order than the task's
        return windows.view(-1, H // M, W // M, M, M, windows.shape[-1])

    from swin_edu.exercises import check_window_reverse
    report = str(check_window_reverse(swapped))
    assert "window_reverse(windows, H=2, W=4, M=4)" in report, report
    assert "window_reverse(windows, M, H, W)" in report  # the task's order, to compare
    assert "window_size" not in report


def test_whole_numbers_computed_in_floats_and_real_answers_pass():
    count = Exercise("macs", "00_toy", "1", reference=lambda n: 245962752 * n, cases=lambda: [Case("n=1", (1,))])
    assert count.check(lambda n: 245962752.00000003 * n).passed
    assert count.check(lambda n: 4 * 56 * 56 * 96**2 * (1 + 49 / (2 * 96)) * 0 + 245962752.0).passed
    wrong = count.check(lambda n: 245962752.5)
    assert not wrong.passed and "245962752.5" in str(wrong)  # the value in full, never rounded
    q = Question("tokens", "00_toy", "1", answer=290.0)
    assert q.check(math.nextafter(290, 0)).passed and q.check(289.9999999999999).passed
    assert "290.001" in str(q.check(290.001))


def test_a_string_answer_is_told_to_be_a_number():
    q = Question("tokens", "00_toy", "1", answer=290)
    report = str(q.check(lambda: "5"))
    assert "return a number" in report and "'5' is not right" not in report


def test_one_dtype_policy():
    index = Exercise("index", "00_toy", "1", reference=lambda n: torch.arange(n), cases=lambda: [Case("n=4", (4,))])
    int32 = index.check(lambda n: torch.arange(n, dtype=torch.int32))
    assert not int32.passed and "int64" in str(int32)
    mask = Exercise("mask", "00_toy", "1", reference=lambda n: torch.zeros(n), cases=lambda: [Case("n=4", (4,))])
    float64 = mask.check(lambda n: torch.zeros(n, dtype=torch.float64))
    assert not float64.passed and "float32" in str(float64)
    assert "keep the input's dtype" not in str(float64)  # no input tensor here
    assert "keep the input's dtype" in str(TOY.check(lambda x: (2 * x).float()))


def test_a_returned_list_is_not_dumped():
    listy = Exercise("rates", "00_toy", "1", reference=lambda n: torch.zeros(4, n), cases=lambda: [Case("n=30", (30,))])
    report = str(listy.check(lambda n: [[0.1 * k for k in range(n)] for _ in range(4)]))
    assert "2.9" not in report and "…" in report and len(report) < 600, report


def test_no_picture_on_a_shape_error():
    pictured = dataclasses.replace(TOY, explain=lambda case, expected, got: "PICTURE")
    assert "PICTURE" in str(pictured.check(lambda x: 2 * x + 1))
    assert "PICTURE" not in str(pictured.check(lambda x: (2 * x)[None]))


def test_gradient_must_reach_what_a_model_trains():
    layer = torch.nn.Linear(2, 2)
    linear = Exercise("linear", "00_toy", "1", reference=lambda m, x: x @ m.weight.T + m.bias,
                      cases=lambda: [Case("2 features", (layer, torch.ones(3, 2)))], gradients=True)
    assert linear.check(lambda m, x: torch.addmm(m.bias, x, m.weight.T)).passed
    for cut in (lambda m, x: x @ m.weight.detach().T + m.bias, lambda m, x: x @ m.weight.data.T + m.bias,
                lambda m, x: torch.tensor((x @ m.weight.T + m.bias).detach().numpy())):
        result = linear.check(cut)
        assert result.status == "failed" and "gradient" in str(result), str(result)
    doubled = dataclasses.replace(TOY, gradients=True)
    assert doubled.check(lambda x: x + x).passed
    assert "gradient" in str(doubled.check(lambda x: torch.from_numpy(2 * x.numpy())))


def test_model_parts_check_the_gradient():
    """Every exercise whose answer is a layer or an operation of the model runs backward."""
    model_parts = {"patch_partition", "patch_embed", "merge_patches", "window_partition", "window_reverse",
                   "relative_position_bias", "swin_block_forward"}
    assert model_parts <= {n for n, e in EXERCISES.items() if getattr(e, "gradients", False)}


def test_a_question_can_put_package_functions_off_limits():
    from swin_edu import region_map
    question = Question(name="q", notebook="04_x", section="4. S", answer=0,
                        off_limits=((region_map, "swin_edu's own region_map"),))
    assert question.check(lambda: 0).passed
    import swin_edu
    result = question.check(lambda: int(swin_edu.region_map(4, 4, 2, 1)[0, 0]))
    assert result.status == "failed" and "`swin_edu.region_map`" in str(result) and "off limits" in str(result)
    assert question.check(0).passed  # a bare number cannot be looked into


def test_a_mistake_is_named_only_when_it_agrees_on_every_case():
    exercise = Exercise(name="f", notebook="03_x", section="5. S", reference=lambda a: a * a,
                        cases=lambda: [Case("a = 2", (2,)), Case("a = 3", (3,))],
                        mistakes=(Mistake("doubled", lambda a: 2 * a, "you doubled a"),))
    assert exercise.check(lambda a: 2 * a).mistake == "doubled"
    assert exercise.check(lambda a: a + 2).mistake is None  # 4 on the first case too, but not the same mistake


def test_a_case_the_learner_gets_right_does_not_rule_a_mistake_out():
    exercise = Exercise(name="f", notebook="03_x", section="5. S", reference=lambda a: a * a,
                        cases=lambda: [Case("a = 2", (2,)), Case("a = 3", (3,)), Case("a = 0", (0,))],
                        mistakes=(Mistake("plus-one", lambda a: a * a + 1, "you added one"),))
    # right on a = 0 (a special case handled), wrong as the mistake elsewhere
    assert exercise.check(lambda a: 0 if a == 0 else a * a + 1).mistake == "plus-one"
