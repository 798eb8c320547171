"""The package's modules import each other without a cycle (every import statement, at any depth of
the code, counted as an edge: a cycle hidden in a function-level import is still a cycle)."""
import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "swin_edu"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """The swin_edu modules that `path` imports (relative or absolute), as dotted names."""
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            if target.startswith("swin_edu"):
                found.add(target)
                # `from . import x` / `from .plotting import masks`: x may be a module itself
                found.update(f"{target}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("swin_edu"))
    return found


def graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: {t for t in imports(path) if t in modules and t != name} for name, path in modules.items()}


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(edges[node]):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(edges):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle_in_swin_edu():
    edges = graph()
    assert "swin_edu.augment" in edges and "swin_edu.data" in edges
    cycle = find_cycle(edges)
    assert cycle is None, " -> ".join(cycle)


def test_exercises_and_the_model_load_no_matplotlib():
    """The checks and the model are computation: importing them must not pull in the plotting stack."""
    import subprocess
    import sys

    code = "import sys, swin_edu, swin_edu.exercises; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_analysis_loads_no_matplotlib():
    """swin_edu.analysis computes what the figures show: importing all of it must not pull in matplotlib."""
    import subprocess
    import sys

    code = ("import sys, swin_edu.analysis as a; assert a.sample_image(8).shape == (3, 8, 8); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('matplotlib', 'ipywidgets')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _public_functions(package: str):
    """(module name, function name, function) for every public function defined in the package's modules."""
    import importlib
    import inspect
    import pkgutil

    root = importlib.import_module(package)
    for info in pkgutil.iter_modules(root.__path__):
        module = importlib.import_module(f"{package}.{info.name}")
        for name, obj in vars(module).items():
            if inspect.isfunction(obj) and obj.__module__ == module.__name__ and not name.startswith("_"):
                yield module.__name__, name, obj


def test_plotting_only_draws():
    """The rule of swin_edu.plotting: every public function it defines is ``plot_<what>`` and returns a
    matplotlib Figure, or ``<what>_style`` and returns keyword arguments for matplotlib (a dict); every
    other exported name is an UPPER_CASE constant (colours). Computation lives in swin_edu.analysis."""
    import inspect
    import typing

    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    import swin_edu.plotting as plotting

    functions = list(_public_functions("swin_edu.plotting"))
    assert len(functions) > 30
    for module, name, fn in functions:
        returns = typing.get_type_hints(fn).get("return")
        if name.startswith("plot_"):
            assert returns is Figure, f"{module}.{name} must be annotated -> Figure, got {returns}"
        else:
            assert name.endswith("_style") and returns is dict, (
                f"{module}.{name}: a public function of plotting is plot_* (-> Figure) or *_style (-> dict); "
                "move computation to swin_edu.analysis or make the helper private")
    for name in plotting.__all__:
        obj = getattr(plotting, name)
        assert inspect.isfunction(obj) or name.isupper(), f"swin_edu.plotting exports {name}: neither a function nor a constant"


def test_no_tensor_comes_out_of_plotting_or_explorers():
    """No public function of plotting or explorers returns a tensor (or a tuple or list of them): such a
    function computes, and belongs to swin_edu.analysis."""
    import typing

    import matplotlib

    matplotlib.use("Agg")
    import torch

    for package in ("swin_edu.plotting", "swin_edu.explorers"):
        for module, name, fn in _public_functions(package):
            returns = typing.get_type_hints(fn).get("return")
            assert returns is not None, f"{module}.{name} has no return annotation"
            inner = typing.get_args(returns) + (returns,)
            assert not any(t is torch.Tensor or torch.Tensor in typing.get_args(t) for t in inner), (
                f"{module}.{name} returns a tensor ({returns}): move it to swin_edu.analysis")


def test_moved_names_have_one_home():
    """The analysis moved out of plotting and explorers is not re-exported there."""
    import matplotlib

    matplotlib.use("Agg")
    import swin_edu.analysis as analysis
    import swin_edu.explorers as explorers
    import swin_edu.plotting as plotting

    assert not set(analysis.__all__) & set(plotting.__all__)
    assert not set(analysis.__all__) & set(explorers.__all__)
    assert not {"msa_macs", "wmsa_macs"} & set(plotting.__all__)  # their home: swin_edu.attention
