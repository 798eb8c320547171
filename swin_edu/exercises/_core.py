"""The machinery behind every exercise check.

A check runs the learner's function on a few cases, smallest first, and compares each result with
the package's reference. On the first case that differs it looks the result up in the exercise's
catalogue of common mistakes: each :class:`Mistake` is a small wrong implementation, and when the
learner's output equals what that mistake produces, the report names it in the learner's terms and
says which section to re-read. A mismatch no mistake explains gets the case, the shapes, the first
differing position and expected versus got.

A check never raises: a stub (``raise NotImplementedError``, a body of ``...``, ``return None``)
is reported as "not attempted yet", an exception inside the learner's code as an error with its
type, message, line and case. :meth:`Result.raise_if_failed` turns a report into an exception for
autograders (nbgrader's test cells).
"""
from __future__ import annotations

import copy
import inspect
import math
import numbers
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch.overrides import TorchFunctionMode

__all__ = ["Case", "Mistake", "Exercise", "Question", "Result", "ExerciseFailed", "grid_side_by_side",
           "position_map"]

PASSED, NOT_ATTEMPTED, FAILED, ERROR = "passed", "not attempted", "failed", "error"


class ExerciseFailed(AssertionError):
    """Raised by :meth:`Result.raise_if_failed`; its message is the whole report."""


@dataclass(frozen=True)
class Case:
    """One input to try: ``label`` is what the report calls it (e.g. "8x12 map (non-square), M = 4"),
    ``args`` the positional arguments given to the learner's function."""

    label: str
    args: tuple


@dataclass(frozen=True)
class Mistake:
    """A catalogued wrong answer.

    ``produce`` is a wrong implementation with the learner's signature (for a :class:`Question`,
    the wrong value itself); when the learner's output equals what it produces on the failing case,
    ``diagnosis`` is shown. Write the diagnosis in the learner's terms and end it with the section
    to re-read, e.g. "(notebook 03, section Window order)".
    """

    name: str
    produce: Any
    diagnosis: str


@dataclass
class Result:
    """The outcome of one check; shows itself in a notebook as a short plain-text report.

    Attributes:
        exercise: the exercise's name.
        status: "passed", "not attempted", "failed" or "error".
        report: the text shown (first line: the verdict).
        mistake: the name of the diagnosed :class:`Mistake`, or None.
        case: the label of the case that failed, or None.
    """

    exercise: str
    status: str
    report: str
    mistake: str | None = None
    case: str | None = None

    @property
    def passed(self) -> bool:
        """True only when every case gave the reference's answer."""
        return self.status == PASSED

    def raise_if_failed(self) -> "Result":
        """Return self if passed, else raise :class:`ExerciseFailed` with the report (for autograders)."""
        if not self.passed:
            raise ExerciseFailed(self.report)
        return self

    def __repr__(self) -> str:
        return self.report

    def _repr_pretty_(self, p, cycle) -> None:  # IPython: the report, not the dataclass fields
        p.text(self.report)


# ---------------------------------------------------------------------------------------------
# Comparing answers
# ---------------------------------------------------------------------------------------------

def _clone(value):
    """A deep copy of a case's arguments, so the learner's code can modify them in place safely."""
    return copy.deepcopy(value)


def _describe(value) -> str:
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {list(value.shape)}, dtype {value.dtype}"
    if isinstance(value, (list, tuple)) and len(value) <= 8:
        return f"{type(value).__name__} {value!r}"
    return f"{type(value).__name__} {value!r}"[:120]


def _short(value) -> str:
    if isinstance(value, torch.Tensor):
        return f"<tensor {list(value.shape)} {str(value.dtype).replace('torch.', '')}>"
    if isinstance(value, torch.nn.Module):
        return f"<{type(value).__name__}>"
    return _fmt(value)


def _fmt(x) -> str:
    if isinstance(x, int) and not isinstance(x, bool):
        return f"{x:,}"
    if isinstance(x, float):
        return f"{x:.10g}"
    return repr(x)


def _tensor_problem(expected: torch.Tensor, got, atol: float, rtol: float) -> str | None:
    """None when ``got`` is the same answer as ``expected``, else a short description of how it differs."""
    if not isinstance(got, torch.Tensor):
        return f"expected {_describe(expected)}, got {_describe(got)}"
    if tuple(got.shape) != tuple(expected.shape):
        return f"wrong shape: expected {list(expected.shape)}, got {list(got.shape)}"
    if got.device != expected.device:
        return (f"your result is on {got.device} but the input was on {expected.device}: create new tensors "
                "with device=x.device")
    if expected.dtype.is_floating_point and got.dtype != expected.dtype:
        return (f"wrong dtype: expected {expected.dtype}, got {got.dtype}: keep the input's dtype (create new "
                "tensors with dtype=x.dtype, or use operations that keep it), or use the dtype the task asks for")
    if expected.dtype == torch.bool and got.dtype != torch.bool:
        return f"wrong dtype: expected a boolean tensor, got {got.dtype}"
    if not expected.dtype.is_floating_point and expected.dtype != torch.bool and (
            got.dtype.is_floating_point or got.dtype.is_complex or got.dtype == torch.bool):
        return f"wrong dtype: expected integers ({expected.dtype}), got {got.dtype}"
    exp, g = expected.detach(), got.detach().to(expected.dtype)
    if expected.dtype.is_floating_point:
        close = torch.isclose(g, exp, atol=atol, rtol=rtol, equal_nan=True)
    else:
        close = g == exp
    if bool(close.all()):
        return None
    bad = (~close).nonzero()[0].tolist()
    pos = tuple(bad)
    n_bad = int((~close).sum())
    return (f"values differ at {n_bad} of {close.numel()} positions; first at index {list(pos)}: "
            f"expected {_fmt(exp[pos].item())}, got {_fmt(g[pos].item())}")


def _value_problem(expected, got, atol: float, rtol: float) -> str | None:
    """Compare tensors, numbers and (nested) sequences of them."""
    if isinstance(expected, torch.Tensor):
        return _tensor_problem(expected, got, atol, rtol)
    if isinstance(expected, bool):
        return None if got is expected or (isinstance(got, bool) and got == expected) else (
            f"expected {expected!r}, got {_describe(got)}")
    if isinstance(expected, (int, float)):
        if (isinstance(got, torch.Tensor) and got.numel() == 1) or (
                isinstance(got, numbers.Number) and hasattr(got, "item")):  # a 0-d tensor, a numpy scalar
            got = got.item()
        if isinstance(got, bool) or not isinstance(got, (int, float)):
            return f"expected a number ({_fmt(expected)}), got {_describe(got)}"
        if isinstance(expected, int):  # counts and indices are exact
            if isinstance(got, float) and not got.is_integer():
                return f"expected a whole number ({expected}), got {_fmt(got)}"
            return None if got == expected else f"expected {_fmt(expected)}, got {_fmt(got)}"
        if math.isclose(got, expected, rel_tol=rtol, abs_tol=atol):
            return None
        return f"expected {_fmt(expected)}, got {_fmt(got)}"
    if isinstance(expected, (list, tuple)):
        if not isinstance(got, (list, tuple)):
            return f"expected a {type(expected).__name__} of {len(expected)} items, got {_describe(got)}"
        if len(got) != len(expected):
            return f"expected {len(expected)} items, got {len(got)}"
        for i, (e, g) in enumerate(zip(expected, got)):
            problem = _value_problem(e, g, atol, rtol)
            if problem:
                if problem.startswith("item ["):  # nested: item [0][1]: ...
                    return f"item [{i}]{problem[5:]}"
                return f"item [{i}]: {problem}"
        return None
    return None if got == expected else f"expected {_fmt(expected)}, got {_describe(got)}"


def position_map(B: int, H: int, W: int, C: int, dtype=torch.float32, seed: int = 0) -> torch.Tensor:
    """A [B, H, W, C] case input whose channel 0 is each token's position b*H*W + h*W + w (the other
    channels random, from ``seed``): a report can then tell where every token of the learner's output
    came from."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(B, H, W, C, generator=g, dtype=dtype)
    x[..., 0] = torch.arange(B * H * W, dtype=dtype).view(B, H, W)
    return x


def grid_side_by_side(expected: torch.Tensor, got: torch.Tensor, title: str = "") -> str:
    """Two small 2-D integer maps printed side by side ("expected | got"), for reports; "" when
    they are equal (the difference is elsewhere).

    Shapes: ``expected`` and ``got`` are [h, w] with h, w <= 16.
    """
    if expected.shape == got.shape and torch.equal(expected, got):
        return ""  # the difference is not in what this picture shows
    e, g = expected.tolist(), got.tolist()
    width = max(len(str(v)) for row in e + g for v in row)
    left_width = max(len(e[0]) * (width + 1) - 1, len("expected"))
    lines = [title] if title else []
    lines.append("  " + "expected".ljust(left_width) + " | got")
    for row_e, row_g in zip(e, g):
        lines.append("  " + " ".join(str(v).rjust(width) for v in row_e).ljust(left_width) + " | "
                     + " ".join(str(v).rjust(width) for v in row_g))
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Calling the learner's code
# ---------------------------------------------------------------------------------------------

def _is_stub_output(value) -> bool:
    return value is None or value is Ellipsis


def _learner_line(exc: BaseException, fn) -> str:
    """' (line N: <code>)' for the deepest frame of the learner's function, if found."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return ""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == code.co_filename]
    if not frames:
        return ""
    f = frames[-1]
    return f" (line {f.lineno}: {f.line.strip()})" if f.line else f" (line {f.lineno})"


def _uses(fn, target) -> str:
    """The name under which ``fn``'s code refers to ``target`` (directly, as module.attribute, or in
    a nested function), or "" when it does not. A static look at the names the code loads."""
    code, scope = getattr(fn, "__code__", None), getattr(fn, "__globals__", {})
    if code is None:
        return ""
    closure = getattr(fn, "__closure__", None) or ()
    cells = {name: c.cell_contents for name, c in zip(code.co_freevars, closure) if _has_contents(c)}
    names, stack = set(), [code]
    while stack:
        c = stack.pop()
        names.update(c.co_names)
        names.update(c.co_freevars)
        stack.extend(k for k in c.co_consts if hasattr(k, "co_names"))
    for name in names:
        value = cells.get(name, scope.get(name))
        if value is target:
            return f"`{name}`"
        if inspect.ismodule(value):
            for attribute in names:
                if getattr(value, attribute, None) is target:
                    return f"`{name}.{attribute}`"
    return ""


def _has_contents(cell) -> bool:
    try:
        cell.cell_contents
    except ValueError:  # an empty cell (a variable not assigned yet)
        return False
    return True


def _forbid(args: tuple, targets) -> list[str]:
    """Wrap each forbidden target of the learner's copy of the arguments (a module: its ``forward``;
    a bound method: that method) so that calling it is recorded; return the list of calls, which
    fills up as the learner's function runs."""
    calls: list[str] = []
    for target, what in targets:
        if not isinstance(target, torch.nn.Module) and not inspect.ismethod(target):
            continue  # a torch function: watched by _WatchFunctions while the learner's code runs
        owner, name = (target, "forward") if isinstance(target, torch.nn.Module) else (target.__self__, target.__name__)

        def record(*a, _method=getattr(owner, name), _what=what, **k):
            calls.append(_what)
            return _method(*a, **k)
        object.__setattr__(owner, name, record)
    return calls


class _WatchFunctions(TorchFunctionMode):
    """Records calls of the given torch functions (e.g. ``torch.conv2d``, which ``F.conv2d`` and
    ``nn.Conv2d`` both reach) into ``calls``, while the learner's code runs."""

    def __init__(self, targets, calls: list[str]):
        super().__init__()
        self.watched = {t: what for t, what in targets
                        if not isinstance(t, torch.nn.Module) and not inspect.ismethod(t)}
        self.calls = calls

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func in self.watched:
            self.calls.append(self.watched[func])
        return func(*args, **(kwargs or {}))


def _changed_argument(original: tuple, given: tuple, reference) -> str:
    """The name of the first argument the learner's function modified in place, or ""."""
    try:
        names = list(inspect.signature(reference).parameters)
    except (TypeError, ValueError):
        names = []
    names += [f"#{i + 1}" for i in range(len(names), len(original))]
    for name, before, after in zip(names, original, given):
        if isinstance(before, torch.Tensor) and isinstance(after, torch.Tensor):
            if not torch.equal(before, after):
                return f"`{name}`"
        elif isinstance(before, torch.nn.Module) and isinstance(after, torch.nn.Module):
            state = after.state_dict()
            if any(not torch.equal(v, state[k]) for k, v in before.state_dict().items()):
                return f"`{name}` (its weights)"
    return ""


NOT_ATTEMPTED_TEXT = "not attempted yet: write the body of the function, then run this cell again"


@dataclass
class Exercise:
    """A code exercise: the learner writes a function with the reference's signature.

    Args:
        name: the function's name, as the learner writes it.
        notebook: the tutorial notebook it practises, e.g. "03_window_attention".
        section: the section of that notebook to re-read when the answer is wrong.
        reference: the correct function (usually the package's own).
        cases: a function returning the list of :class:`Case`, smallest first (built on demand,
            from fixed seeds, so reports are the same on every run).
        mistakes: the catalogue of common mistakes, tried in order.
        atol, rtol: tolerances for floating-point results (integers and booleans must be equal).
        explain: optional ``explain(case, expected, got) -> str`` adding a picture of the difference
            (e.g. two window-id maps side by side) to a failure report.
        summary: one line for listings: what the learner writes.
        forbidden: optional ``forbidden(*args) -> [(target, "what to call it"), ...]``: what would do
            the whole exercise; a target is a module among the arguments (its forward), a bound method,
            or a torch function such as ``torch.conv2d`` (reached by ``F.conv2d`` and ``nn.Conv2d``).
            A right answer that calls one fails the check. Calling ``reference`` itself always fails it.
    """

    name: str
    notebook: str
    section: str
    reference: Callable
    cases: Callable[[], Sequence[Case]]
    mistakes: Sequence[Mistake] = ()
    atol: float = 1e-5
    rtol: float = 1e-4
    explain: Callable | None = None
    summary: str = ""
    forbidden: Callable | None = None

    def check(self, fn) -> Result:
        """Run ``fn`` on every case; see the module docstring for what the report says."""
        if fn is None or fn is Ellipsis:
            return Result(self.name, NOT_ATTEMPTED, f"{self.name}: {NOT_ATTEMPTED_TEXT}")
        if not callable(fn):
            return Result(self.name, FAILED, f"{self.name}: expected a function, got {_describe(fn)}: "
                          f"pass the function itself, check_{self.name}({self.name}), without calling it")
        cases = list(self.cases())
        for index, case in enumerate(cases):
            expected = self.reference(*_clone(case.args))
            args = _clone(case.args)
            targets = list(self.forbidden(*args)) if self.forbidden else []
            calls = _forbid(args, targets)
            try:
                with _WatchFunctions(targets, calls):
                    got = fn(*args)
            except NotImplementedError:
                return Result(self.name, NOT_ATTEMPTED, f"{self.name}: {NOT_ATTEMPTED_TEXT}")
            except Exception as exc:  # the learner's bug, reported, never raised
                return Result(
                    self.name, ERROR,
                    f"{self.name}: your function raised {type(exc).__name__}: {exc}{_learner_line(exc, fn)}\n"
                    f"  on case: {case.label}\n  (re-read notebook {self.notebook}, section {self.section})",
                    case=case.label)
            if _is_stub_output(got):
                if index == 0:
                    return Result(self.name, NOT_ATTEMPTED,
                                  f"{self.name}: {NOT_ATTEMPTED_TEXT} (your function returns None: "
                                  "if you wrote the body, did you forget `return`?)")
                return self._failure(case, expected, got, "your function returned None on this case (it returned "
                                     "a result on the cases before): every path must return a value")
            changed = _changed_argument(case.args, args, self.reference)
            if changed:
                return Result(self.name, FAILED, f"{self.name}: FAILED on case: {case.label}\n  your function "
                              f"changed its input {changed} in place (an in-place operation on an argument, such "
                              "as x += ..., x[...] = ..., .zero_(), .mul_()): the caller's tensor is corrupted. "
                              "Compute new tensors instead (x = x + ...).", case=case.label)
            problem = _value_problem(expected, got, self.atol, self.rtol)
            if problem is not None:
                return self._failure(case, expected, got, problem, fn, cases)
            if calls:  # a right answer, but by calling what the exercise asks to write
                return Result(self.name, FAILED, f"{self.name}: FAILED: your function calls {calls[0]}, which does "
                              f"the whole job: the exercise is to write it from its parts (re-read notebook "
                              f"{self.notebook}, section {self.section})", case=case.label)
        used = _uses(fn, self.reference)
        if used:
            return Result(self.name, FAILED, f"{self.name}: FAILED: your function calls {used}, the package's own "
                          f"answer: the exercise is to write it yourself (re-read notebook {self.notebook}, "
                          f"section {self.section})")
        labels = "; ".join(c.label for c in cases)
        return Result(self.name, PASSED, f"{self.name}: passed ({len(cases)} cases: {labels})")

    def _failure(self, case: Case, expected, got, problem: str, fn=None, cases: Sequence[Case] = ()) -> Result:
        mistake = self.diagnose(case, got, fn=fn, cases=cases)
        head = f"{self.name}: FAILED on case: {case.label}"
        if mistake is not None:
            text = f"{head}\n  {mistake.diagnosis}"
        else:
            text = (f"{head}\n  {problem}\n  (input: {self._inputs(case)}; "
                    f"re-read notebook {self.notebook}, section {self.section})")
        if self.explain is not None:
            try:
                extra = self.explain(case, expected, got)
            except Exception:  # a picture that cannot be drawn for this output is left out
                extra = ""
            if extra:
                text += "\n" + extra
        return Result(self.name, FAILED, text, mistake=mistake.name if mistake else None, case=case.label)

    def diagnose(self, case: Case, got, fn=None, cases: Sequence[Case] = ()) -> Mistake | None:
        """The catalogued mistake whose output on ``case`` equals ``got``, or None.

        When several mistakes give that output (e.g. on a square map, where two transpositions
        coincide), the learner's ``fn`` is run on the other ``cases`` too, and the first mistake
        that matches it on all of them is named.
        """
        matching = [m for m in self.mistakes if self._produces(m, case, got)]
        if len(matching) > 1 and fn is not None:
            outputs = []
            for other in cases:
                try:
                    outputs.append((other, fn(*_clone(other.args))))
                except Exception:  # the learner's code fails there: that case cannot decide
                    continue
            everywhere = [m for m in matching if all(self._produces(m, c, out) for c, out in outputs)]
            matching = everywhere or matching
        return matching[0] if matching else None

    def _produces(self, mistake: Mistake, case: Case, got) -> bool:
        try:
            wrong = mistake.produce(*_clone(case.args))
        except Exception:  # a mistake that cannot run on this case does not explain it
            return False
        return wrong is not None and _value_problem(wrong, got, self.atol, self.rtol) is None

    def _inputs(self, case: Case) -> str:
        try:
            names = list(inspect.signature(self.reference).parameters)
        except (TypeError, ValueError):
            names = []
        names += [f"arg{i}" for i in range(len(names), len(case.args))]
        return ", ".join(f"{n}={_short(a)}" for n, a in zip(names, case.args))


@dataclass
class Question:
    """A question whose answer is a value (a number, a shape, a tuple).

    Args:
        name: how reports call the question.
        notebook, section: where the answer is explained.
        answer: the correct value (compute it with the package, never type it in).
        mistakes: :class:`Mistake` entries whose ``produce`` is the wrong value they stand for.
        atol, rtol: tolerances for floating-point answers.
    """

    name: str
    notebook: str
    section: str
    answer: Any
    mistakes: Sequence[Mistake] = ()
    atol: float = 1e-6
    rtol: float = 1e-6
    summary: str = ""

    def check(self, value) -> Result:
        """Compare ``value`` with the answer; a stub (None, ``...``) is "not attempted yet".

        ``value`` may be a function of no arguments that returns the answer (how the exercise
        notebooks ask, so that nbgrader's ``raise NotImplementedError()`` stub only raises when
        the check calls it, and the check reports it as not attempted).
        """
        if callable(value):
            try:
                value = value()
            except NotImplementedError:
                return Result(self.name, NOT_ATTEMPTED, f"{self.name}: {NOT_ATTEMPTED_TEXT}")
            except Exception as exc:  # the learner's bug, reported, never raised
                return Result(self.name, ERROR, f"{self.name}: your function raised {type(exc).__name__}: "
                              f"{exc}{_learner_line(exc, value)}\n  (re-read notebook {self.notebook}, "
                              f"section {self.section})")
        if _is_stub_output(value):
            return Result(self.name, NOT_ATTEMPTED,
                          f"{self.name}: not attempted yet: give your answer (a None or ... stands for none; "
                          "in a function, did you forget `return`?)")
        problem = _value_problem(self.answer, value, self.atol, self.rtol)
        if problem is None:
            return Result(self.name, PASSED, f"{self.name}: passed")
        for mistake in self.mistakes:
            if _value_problem(mistake.produce, value, self.atol, self.rtol) is None:
                return Result(self.name, FAILED, f"{self.name}: FAILED: {_fmt(value)} is not right\n  "
                              f"{mistake.diagnosis}", mistake=mistake.name)
        return Result(self.name, FAILED, f"{self.name}: FAILED: {_fmt(value)} is not right\n  "
                      f"(re-read notebook {self.notebook}, section {self.section})")
