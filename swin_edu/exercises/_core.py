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
import dis
import inspect
import math
import numbers
import sys
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch.overrides import TorchFunctionMode

__all__ = ["Case", "Mistake", "Exercise", "Question", "Result", "ExerciseFailed", "grid_side_by_side",
           "position_map", "dtype_problem", "DTYPE_POLICY", "MAX_REPORT_LINES"]

PASSED, NOT_ATTEMPTED, FAILED, ERROR = "passed", "not attempted", "failed", "error"

#: A report is at most this many lines: the verdict, what is wrong, the call, a small picture.
MAX_REPORT_LINES = 12

#: Relative tolerance for a whole-number answer computed in floats (290.00000000000006 is 290).
WHOLE_RTOL = 1e-9

#: The one rule on types that every check applies (through :func:`dtype_problem` and
#: :func:`_value_problem`); each exercise's instructions state it.
DTYPE_POLICY = (
    "A tensor result keeps the dtype of the input it is computed from (float32 in, float32 out; float64 in, "
    "float64 out); a tensor built from Python numbers has torch's default dtype: int64 for integers (what "
    "torch.arange gives), float32 for floats (what torch.zeros gives). A number may be an int, a float or a "
    "one-element tensor and is compared by value: a whole number computed in floats (290.00000000000006) "
    "counts as that whole number.")


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
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of {len(value)} items, {_brief(value)}"
    if isinstance(value, str):
        return f"the string {value!r}"[:120]
    return f"{type(value).__name__} {_brief(value)}"


def _brief(value, depth: int = 0) -> str:
    """A short picture of a value: at most 3 items of a list (2 levels deep), floats in full."""
    if isinstance(value, (list, tuple)):
        if depth >= 2:
            return "[…]" if isinstance(value, list) else "(…)"
        items = [_brief(v, depth + 1) for v in value[:3]] + (["…"] if len(value) > 3 else [])
        inner = ", ".join(items) + ("," if isinstance(value, tuple) and len(value) == 1 else "")
        return f"[{inner}]" if isinstance(value, list) else f"({inner})"
    if isinstance(value, torch.Tensor):
        return _short(value)
    if isinstance(value, float):
        return repr(value)
    return repr(value)[:60]


def _short(value) -> str:
    if isinstance(value, torch.Tensor):
        return f"<tensor {list(value.shape)} {str(value.dtype).replace('torch.', '')}>"
    if isinstance(value, torch.nn.Module):
        return f"<{type(value).__name__}>"
    return _fmt(value)


def _fmt(x) -> str:
    """A number in full: ints with thousands separators, floats as Python writes them (never rounded)."""
    if isinstance(x, int) and not isinstance(x, bool):
        return f"{x:,}"
    if isinstance(x, float):
        return repr(x)
    return repr(x)


def _kind(dtype: torch.dtype) -> str:
    return ("booleans" if dtype == torch.bool else "floats" if dtype.is_floating_point
            else "complex numbers" if dtype.is_complex else "integers")


def _named_tensors(args: tuple, names: Sequence[str]):
    """(name, tensor) for every tensor argument, and (name, first parameter) for every module argument."""
    for name, a in zip(names, args):
        if isinstance(a, torch.Tensor):
            yield name, a
        elif isinstance(a, torch.nn.Module):
            first = next(a.parameters(), None)
            if first is not None:
                yield f"{name}'s weights", first


def dtype_problem(expected: torch.Tensor, got: torch.Tensor, args: tuple = (), names: Sequence[str] = ()) -> str | None:
    """None when ``got`` has the dtype :data:`DTYPE_POLICY` asks for (the reference's), else what to change.

    Every check applies this one rule: the dtype of the input the result is computed from, or torch's
    default (int64, float32) when the task builds the tensor from Python numbers.
    """
    if got.dtype == expected.dtype:
        return None
    head = f"wrong dtype: expected {_kind(expected.dtype)} of dtype {expected.dtype}, got {got.dtype}"
    if expected.dtype == torch.bool:
        return head + ": return the comparison itself (a boolean tensor)"
    source = next((n for n, t in _named_tensors(args, names) if t.dtype == expected.dtype), None)
    if source is not None:
        return (f"{head}: keep the input's dtype ({'`' + source + '`' if not source.endswith('weights') else source} "
                f"is {expected.dtype}): create new tensors with dtype=..., like=x (x.new_zeros, torch.zeros_like) "
                "or use operations that keep it")
    default = {torch.int64: "torch.arange gives int64; use dtype=torch.long where you create the tensor",
               torch.float32: "torch.zeros gives float32; use float literals (-100.0) or dtype=torch.float32"}
    return (f"{head}: the inputs are Python numbers, so the result has torch's default dtype for "
            f"{_kind(expected.dtype)}, {expected.dtype} ({default.get(expected.dtype, 'use dtype=' + str(expected.dtype))})")


def _tensor_problem(expected: torch.Tensor, got, atol: float, rtol: float, args: tuple = (),
                    names: Sequence[str] = ()) -> str | None:
    """None when ``got`` is the same answer as ``expected``, else a short description of how it differs."""
    if not isinstance(got, torch.Tensor):
        return f"expected {_describe(expected)}, got {_describe(got)}"
    if tuple(got.shape) != tuple(expected.shape):
        return f"wrong shape: expected {list(expected.shape)}, got {list(got.shape)}"
    if got.device != expected.device:
        return (f"your result is on {got.device} but the input was on {expected.device}: create new tensors "
                "with device=x.device")
    problem = dtype_problem(expected, got, args, names)
    if problem:
        return problem
    exp, g = expected.detach(), got.detach()
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


def _number_type_problem(got) -> str | None:
    """None when ``got`` is a number, else what to return instead (never showing the answer)."""
    if isinstance(got, str):
        try:
            float(got)
            return f"you returned the string {got!r}: return a number, {got.strip()} rather than {got!r}"
        except ValueError:
            return f"you returned the string {got[:80]!r}: return a number"
    if isinstance(got, bool) or not isinstance(got, (int, float)):
        return f"expected a number, got {_describe(got)}: return a number (an int, a float or a one-element tensor)"
    return None


def _as_number(got):
    """A 0-d (one-element) tensor or a numpy scalar as a Python number; anything else unchanged."""
    if (isinstance(got, torch.Tensor) and got.numel() == 1) or (
            isinstance(got, numbers.Number) and hasattr(got, "item")):
        return got.item()
    return got


def _whole(expected: int, got: float) -> bool:
    """True when the float ``got`` is the whole number ``expected`` up to float rounding."""
    return math.isfinite(got) and math.isclose(got, expected, rel_tol=WHOLE_RTOL, abs_tol=WHOLE_RTOL)


def _value_problem(expected, got, atol: float, rtol: float, args: tuple = (), names: Sequence[str] = ()) -> str | None:
    """Compare tensors, numbers and (nested) sequences of them, by :data:`DTYPE_POLICY`."""
    if isinstance(expected, torch.Tensor):
        return _tensor_problem(expected, got, atol, rtol, args, names)
    if isinstance(expected, bool):
        return None if got is expected or (isinstance(got, bool) and got == expected) else (
            f"expected {expected!r}, got {_describe(got)}")
    if isinstance(expected, (int, float)):
        got = _as_number(got)  # a 0-d tensor, a numpy scalar
        problem = _number_type_problem(got)
        if problem:
            return problem
        if isinstance(expected, int):  # counts and indices: exact, or a float that rounding kept next to it
            if got == expected or (isinstance(got, float) and _whole(expected, got)):
                return None
            if isinstance(got, float) and not got.is_integer():
                return f"expected {_fmt(expected)} (a whole number), got {_fmt(got)}"
            return f"expected {_fmt(expected)}, got {_fmt(got)}"
        if math.isclose(got, expected, rel_tol=rtol, abs_tol=atol):
            return None
        return f"expected {_fmt(expected)}, got {_fmt(got)}"
    if isinstance(expected, (list, tuple)):
        if not isinstance(got, (list, tuple)):
            return f"expected a {type(expected).__name__} of {len(expected)} items, got {_describe(got)}"
        if len(got) != len(expected):
            return f"expected {len(expected)} items, got {len(got)}"
        for i, (e, g) in enumerate(zip(expected, got)):
            problem = _value_problem(e, g, atol, rtol, args, names)
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


def grid_side_by_side(expected: torch.Tensor, got: torch.Tensor, title: str = "", max_rows: int = 8) -> str:
    """Two small 2-D integer maps printed side by side ("expected | got"), for reports; "" when
    they are equal (the difference is elsewhere). Rows past ``max_rows`` are left out, with a "…" line
    that says so.

    Shapes: ``expected`` and ``got`` are [h, w] with h, w <= 16.
    """
    if expected.shape == got.shape and torch.equal(expected, got):
        return ""  # the difference is not in what this picture shows
    e, g = expected.tolist(), got.tolist()
    rows_left = len(e) - max_rows
    width = max(len(str(v)) for row in e + g for v in row)
    left_width = max(len(e[0]) * (width + 1) - 1, len("expected"))
    lines = [title] if title else []
    lines.append("  " + "expected".ljust(left_width) + " | got")
    for row_e, row_g in list(zip(e, g))[:max_rows]:
        lines.append("  " + " ".join(str(v).rjust(width) for v in row_e).ljust(left_width) + " | "
                     + " ".join(str(v).rjust(width) for v in row_g))
    if rows_left > 0:
        lines.append(f"  … ({rows_left} more rows)")
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
    return _imported_inside(code, target)


def _imported_inside(code, target) -> str:
    """How ``code`` (or a function nested in it) reaches ``target`` through an ``import`` in its own body,
    which makes a local name the globals above do not show: ``from swin_edu import x`` (the name x), or
    ``import swin_edu`` / ``import swin_edu.windows`` followed by an attribute x. Names the code loads as
    globals are not looked up here: a learner's own helper may share a name with a package function."""
    stack = [code]
    while stack:
        c = stack.pop()
        stack.extend(k for k in c.co_consts if hasattr(k, "co_names"))
        instructions = list(dis.get_instructions(c))
        attributes = {i.argval for i in instructions if i.opname in ("LOAD_ATTR", "LOAD_METHOD")}
        module = None
        for instruction in instructions:
            if instruction.opname == "IMPORT_NAME":
                name = instruction.argval
                module = sys.modules.get(name)
                parts = name.split(".")
                for m in [sys.modules.get(".".join(parts[:i])) for i in range(1, len(parts) + 1)]:
                    for attribute in attributes:
                        if m is not None and getattr(m, attribute, None) is target:
                            return f"`{attribute}`"
            elif instruction.opname == "IMPORT_FROM" and module is not None:
                if getattr(module, instruction.argval, None) is target:
                    return f"`{instruction.argval}`"
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


def _changed_argument(original: tuple, given: tuple, names: Sequence[str]) -> str:
    """The name (from ``names``) of the first argument the learner's function modified in place, or ""."""
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


def _learner_names(fn, n: int) -> list[str] | None:
    """The names of the first ``n`` positional parameters of the learner's function, or None."""
    inner = getattr(fn, "fn", fn)  # a wrapper (drop_path_rates' lists) keeps the learner's function as .fn
    try:
        parameters = list(inspect.signature(inner).parameters.values())
    except (TypeError, ValueError):
        return None
    positional = [p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return positional[:n] if len(positional) >= n else None


def _argument(name: str, value) -> str:
    """How the call line shows one argument: a tensor or module by its name, a number by value."""
    if isinstance(value, (torch.Tensor, torch.nn.Module)):
        return name
    return f"{name}={_brief(value)}"


def _what(value) -> str:
    """A tensor argument as its shape and dtype ([8, 2, 2, 2] float32; a short 1-D one with its values),
    a module as its class and dtype."""
    if isinstance(value, torch.nn.Module):
        first = next(value.parameters(), None)
        return type(value).__name__ + (f" {str(first.dtype).replace('torch.', '')}" if first is not None else "")
    text = f"{list(value.shape)} {str(value.dtype).replace('torch.', '')}"
    if value.dim() == 1 and value.numel() <= 8:
        text += f" {value.tolist()}"
    return text


def _first_line(exc: BaseException, limit: int = 200) -> str:
    text = str(exc).strip().splitlines()
    first = text[0] if text else ""
    return first[:limit] + ("…" if len(first) > limit or len(text) > 1 else "")


def _fit(lines: list[str], extra: str) -> list[str]:
    """``lines`` followed by the picture ``extra``, cut with a "…" line to :data:`MAX_REPORT_LINES`."""
    room = MAX_REPORT_LINES - len(lines)
    picture = [line for line in extra.splitlines() if line.strip()]
    if len(picture) > room:
        picture = picture[:max(0, room - 1)] + ["  … (the rest of the picture is left out)"]
    return lines + picture


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
            (e.g. two window-id maps side by side) to a failure report; only called when the result
            has the expected shape.
        summary: one line for listings: what the learner writes.
        forbidden: optional ``forbidden(*args) -> [(target, "what to call it"), ...]``: what would do
            the whole exercise; a target is a module among the arguments (its forward), a bound method,
            or a torch function such as ``torch.conv2d`` (reached by ``F.conv2d`` and ``nn.Conv2d``).
            A right answer that calls one fails the check. Calling ``reference`` itself always fails it.
        params: the parameter names as the task states them (e.g. ``("windows", "M", "H", "W")``);
            default: the reference's. Reports show the call with the learner's own names.
        gradients: True when the function is part of a model: on every case the check also runs
            backward and requires the gradient of every float input and module parameter to equal the
            reference's (a ``.detach()``, ``.data``, numpy round trip or ``torch.no_grad()`` fails).
        call: optional ``call(case) -> str`` describing the call(s) the check makes, for functions
            that are called in another way than once with the case's arguments.
        off_limits: ``(target, "what to call it")`` pairs: package functions (not modules or torch
            functions: ``forbidden`` watches those) that a right answer must not name in its code, e.g.
            ``swin_edu.window_partition`` where the exercise asks to cut the windows by hand.
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
    params: Sequence[str] = ()
    gradients: bool = False
    call: Callable | None = None
    off_limits: Sequence = ()

    @property
    def where(self) -> str:
        return f"(re-read notebook {self.notebook[:2]}, section {self.section})"

    def check(self, fn) -> Result:
        """Run ``fn`` on every case; see the module docstring for what the report says."""
        if fn is None or fn is Ellipsis:
            return Result(self.name, NOT_ATTEMPTED, f"{self.name}: {NOT_ATTEMPTED_TEXT}")
        if not callable(fn):
            return Result(self.name, FAILED, f"{self.name}: FAILED: expected a function, got {_describe(fn)}: "
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
                return self._error(case, fn, exc)
            if _is_stub_output(got):
                if index == 0:
                    return Result(self.name, NOT_ATTEMPTED,
                                  f"{self.name}: {NOT_ATTEMPTED_TEXT} (your function returns None: "
                                  "if you wrote the body, did you forget `return`?)")
                return self._failure(case, expected, got, "your function returned None on this case (it returned "
                                     "a result on the cases before): every path must return a value", fn)
            changed = _changed_argument(case.args, args, self._task_names(len(case.args)))
            if changed:
                return self._report(case, fn, "your function changed its input " + changed + " in place (an "
                                    "in-place operation on an argument, such as x += ..., x[...] = ..., .zero_(), "
                                    ".mul_()): the caller's tensor is corrupted. Compute new tensors instead "
                                    "(x = x + ...).")
            problem = _value_problem(expected, got, self.atol, self.rtol, case.args, self._task_names(len(case.args)))
            if problem is not None:
                return self._failure(case, expected, got, problem, fn, cases)
            if self.gradients:
                problem = self._gradient_problem(case, fn)
                if problem is not None:
                    return self._report(case, fn, problem)
            if calls:  # a right answer, but by calling what the exercise asks to write
                if "off limits" in calls[0]:  # a part the exercise asks to do another way
                    return self._report(case, fn, f"your function calls {calls[0]}")
                return self._report(case, fn, f"your function calls {calls[0]}, which does the whole job: the "
                                    "exercise is to write it from its parts")
        used = _uses(fn, self.reference)
        if used:
            return Result(self.name, FAILED, f"{self.name}: FAILED: your function calls {used}, the package's own "
                          f"answer: the exercise is to write it yourself {self.where}")
        for target, what in self.off_limits:
            used = _uses(fn, target)
            if used:
                return Result(self.name, FAILED, f"{self.name}: FAILED: your function calls {used}, {what}, which "
                              f"this exercise puts off limits: write that part yourself {self.where}")
        labels = "; ".join(c.label for c in cases)
        return Result(self.name, PASSED, f"{self.name}: passed ({len(cases)} cases: {labels})")

    # --- the parts of a report -------------------------------------------------------------------

    def _task_names(self, n: int) -> list[str]:
        names = list(self.params)
        if not names:
            try:
                names = list(inspect.signature(self.reference).parameters)
            except (TypeError, ValueError):
                names = []
        return (names + [f"arg{i + 1}" for i in range(len(names), n)])[:n]

    def describe_call(self, case: Case, fn=None) -> str:
        """The call the check made, with the learner's parameter names: "window_reverse(windows, M=2,
        H=4, W=4); windows [8, 2, 2, 2] float32", and the task's order when the learner's differs."""
        if self.call is not None:
            return self.call(case)
        task = self._task_names(len(case.args))
        mine = (_learner_names(fn, len(case.args)) if fn is not None else None) or task
        text = f"{self.name}({', '.join(_argument(n, a) for n, a in zip(mine, case.args))})"
        shapes = [f"{n} {_what(a)}" for n, a in zip(mine, case.args) if isinstance(a, (torch.Tensor, torch.nn.Module))]
        if shapes:
            text += "; " + ", ".join(shapes)
        if mine != task and sorted(mine) == sorted(task):
            text += (f" (your parameters are in another order than the task's, {self.name}({', '.join(task)}): "
                     "the check passes the arguments in the task's order)")
        return text

    def _report(self, case: Case, fn, what: str, extra: str = "", diagnosed: bool = False) -> Result:
        lines = [f"{self.name}: FAILED on case: {case.label}", f"  {what}", f"  call: {self.describe_call(case, fn)}"]
        if not diagnosed:
            lines.append(f"  {self.where}")
        return Result(self.name, FAILED, "\n".join(_fit(lines, extra)), case=case.label)

    def _error(self, case: Case, fn, exc: BaseException) -> Result:
        lines = [f"{self.name}: your function raised {type(exc).__name__}: {_first_line(exc)}{_learner_line(exc, fn)}",
                 f"  on case: {case.label}", f"  call: {self.describe_call(case, fn)}", f"  {self.where}"]
        return Result(self.name, ERROR, "\n".join(lines), case=case.label)

    def _failure(self, case: Case, expected, got, problem: str, fn=None, cases: Sequence[Case] = ()) -> Result:
        mistake = self.diagnose(case, got, fn=fn, cases=cases)
        extra = ""
        same_shape = not isinstance(expected, torch.Tensor) or (
            isinstance(got, torch.Tensor) and tuple(got.shape) == tuple(expected.shape))
        if self.explain is not None and same_shape:  # no picture of a result of another shape
            try:
                extra = self.explain(case, expected, got)
            except Exception:  # a picture that cannot be drawn for this output is left out
                extra = ""
        result = self._report(case, fn, mistake.diagnosis if mistake else problem, extra or "",
                              diagnosed=mistake is not None)
        result.mistake = mistake.name if mistake else None
        return result

    def _gradient_problem(self, case: Case, fn) -> str | None:
        """None when the gradient of a random linear function of the result reaches every float input
        and parameter as it does through the reference; else what cut it off."""
        names = self._task_names(len(case.args))
        ref_args, my_args = _with_gradients(_clone(case.args)), _with_gradients(_clone(case.args))
        with torch.enable_grad():
            expected = self.reference(*ref_args)
            if not (isinstance(expected, torch.Tensor) and expected.requires_grad):
                return None  # nothing for a gradient to flow through in this case
            weights = torch.randn(expected.shape, generator=torch.Generator().manual_seed(0), dtype=expected.dtype)
            ref_leaves, my_leaves = _leaves(ref_args, names), _leaves(my_args, names)
            ref_grads = torch.autograd.grad((expected * weights).sum(), [t for _, t in ref_leaves], allow_unused=True)
            try:
                got = fn(*my_args)
            except Exception as exc:  # ran without gradients, fails with them (an in-place op on a leaf)
                return (f"your function raised {type(exc).__name__} when its inputs require gradients, as in a "
                        f"model: {_first_line(exc, 120)}{_learner_line(exc, fn)}")
            cut = ("no gradient flows back through your result, so in a model {what} would never learn: something "
                   "cuts the autograd graph (.detach(), .data, .numpy() and back, torch.tensor(...) of computed "
                   "values, or a torch.no_grad() block); compute the result with torch operations on the inputs")
            if not isinstance(got, torch.Tensor) or not got.requires_grad:
                what = " and ".join(f"`{n}`" for n in dict.fromkeys(n.split(".")[0] for n, _ in ref_leaves)) or "it"
                return cut.format(what=what)
            my_grads = torch.autograd.grad((got * weights.to(got.dtype)).sum(), [t for _, t in my_leaves],
                                           allow_unused=True)
        for (name, _), r, g in zip(ref_leaves, ref_grads, my_grads):
            if r is None:
                continue
            scale = float(r.abs().max()) or 1.0
            if g is None or not torch.allclose(g.to(r.dtype), r, rtol=self.rtol, atol=self.atol * max(1.0, scale)):
                return cut.format(what=f"`{name}`").replace("no gradient flows back through your result",
                                                            f"the gradient does not reach `{name}` as it should")
        return None

    def diagnose(self, case: Case, got, fn=None, cases: Sequence[Case] = ()) -> Mistake | None:
        """The catalogued mistake whose output on ``case`` equals ``got``, or None.

        A mistake can coincide with another wrong answer on one case (on a square map two
        transpositions agree; on an 8x8 map with M = 4, hw = M^3): so the learner's ``fn`` is also run
        on the other ``cases``, and only a mistake that agrees with it on every case where the learner's
        answer is wrong is named: first one that gives the learner's answer on all those cases, else one
        that cannot run on (or gives None for) the cases where it differs.
        """
        matching = [m for m in self.mistakes if self._produces(m, case, got)]
        if matching and fn is not None:
            outputs = []
            for other in cases:
                if other is case:
                    continue
                try:
                    out = fn(*_clone(other.args))
                except Exception:  # the learner's code fails there: that case cannot decide
                    continue
                if _value_problem(self.reference(*_clone(other.args)), out, self.atol, self.rtol) is not None:
                    outputs.append((other, out))  # a case the learner gets right says nothing against a mistake
            strict = [m for m in matching if all(self._produces(m, c, out) for c, out in outputs)]
            matching = strict or [m for m in matching if all(self._consistent(m, c, out) for c, out in outputs)]
        return matching[0] if matching else None

    def _consistent(self, mistake: Mistake, case: Case, got) -> bool:
        """False only when ``mistake`` gives an answer on ``case`` and it is not ``got``."""
        try:
            wrong = mistake.produce(*_clone(case.args))
        except Exception:
            return True
        if wrong is None or _is_stub_output(got):
            return True
        return _value_problem(wrong, got, self.atol, self.rtol) is None

    def _produces(self, mistake: Mistake, case: Case, got) -> bool:
        try:
            wrong = mistake.produce(*_clone(case.args))
        except Exception:  # a mistake that cannot run on this case does not explain it
            return False
        return wrong is not None and _value_problem(wrong, got, self.atol, self.rtol) is None


def _with_gradients(args: tuple) -> tuple:
    """The arguments with every float tensor replaced by a leaf that requires a gradient."""
    return tuple(a.detach().clone().requires_grad_(True) if isinstance(a, torch.Tensor) and a.dtype.is_floating_point
                 else a for a in args)


def _leaves(args: tuple, names: Sequence[str]) -> list[tuple[str, torch.Tensor]]:
    """(name, tensor) of what a gradient must reach: float tensor arguments and module parameters."""
    out = []
    for name, a in zip(names, args):
        if isinstance(a, torch.Tensor) and a.requires_grad:
            out.append((name, a))
        elif isinstance(a, torch.nn.Module):
            out += [(f"{name}.{p_name}", p) for p_name, p in a.named_parameters() if p.requires_grad]
    return out


@dataclass
class Question:
    """A question whose answer is a value (a number, a shape, a tuple).

    Args:
        name: how reports call the question.
        notebook, section: where the answer is explained.
        answer: the correct value (compute it with the package, never type it in). A float answer is
            a real number, compared within ``atol`` and ``rtol``; an int answer a whole number (a float
            that rounding kept next to it counts, see :data:`DTYPE_POLICY`).
        mistakes: :class:`Mistake` entries whose ``produce`` is the wrong value they stand for.
        atol, rtol: tolerances for floating-point answers.
        off_limits: ``(target, "what to call it")`` pairs: package functions the answer must not be
            computed with; a right answer from a function whose code names one of them fails (the
            static look of :func:`_uses`, as for an exercise's reference).
    """

    name: str
    notebook: str
    section: str
    answer: Any
    mistakes: Sequence[Mistake] = ()
    atol: float = 1e-6
    rtol: float = 1e-6
    summary: str = ""
    off_limits: Sequence = ()

    def check(self, value) -> Result:
        """Compare ``value`` with the answer; a stub (None, ``...``) is "not attempted yet".

        ``value`` may be a function of no arguments that returns the answer (how the exercise
        notebooks ask, so that nbgrader's ``raise NotImplementedError()`` stub only raises when
        the check calls it, and the check reports it as not attempted).
        """
        where = f"(re-read notebook {self.notebook[:2]}, section {self.section})"
        call, function = "", value
        if callable(value):
            try:
                got = value()
            except NotImplementedError:
                return Result(self.name, NOT_ATTEMPTED, f"{self.name}: {NOT_ATTEMPTED_TEXT}")
            except Exception as exc:  # the learner's bug, reported, never raised
                return Result(self.name, ERROR, f"{self.name}: your function raised {type(exc).__name__}: "
                              f"{_first_line(exc)}{_learner_line(exc, value)}\n  call: {self.name}()\n  {where}")
            call, value = f"\n  call: {self.name}() returned {_brief(got)}", got
        if _is_stub_output(value):
            return Result(self.name, NOT_ATTEMPTED,
                          f"{self.name}: not attempted yet: give your answer (a None or ... stands for none; "
                          "in a function, did you forget `return`?)")
        problem = _value_problem(self.answer, value, self.atol, self.rtol)
        if problem is None:
            for target, what in self.off_limits if callable(function) else ():
                used = _uses(function, target)
                if used:
                    return Result(self.name, FAILED, f"{self.name}: FAILED: your function calls {used}, {what}, "
                                  f"which the question puts off limits: compute the answer with your own code "
                                  f"(or by hand) {where}")
            return Result(self.name, PASSED, f"{self.name}: passed")
        if isinstance(self.answer, (int, float)) and not isinstance(self.answer, bool):
            kind = _number_type_problem(_as_number(value))
            if kind:  # a string, a list, ...: say what to return, never the answer
                return Result(self.name, FAILED, f"{self.name}: FAILED: {kind}{call}")
        shown = _fmt(_as_number(value)) if isinstance(_as_number(value), (int, float)) else _brief(value)
        for mistake in self.mistakes:
            if _value_problem(mistake.produce, value, self.atol, self.rtol) is None:
                return Result(self.name, FAILED, f"{self.name}: FAILED: {shown} is not right\n  "
                              f"{mistake.diagnosis}{call}", mistake=mistake.name)
        return Result(self.name, FAILED, f"{self.name}: FAILED: {shown} is not right{call}\n  {where}")
