"""Every tutorial notebook 00-07 has the series' shape (README, "How a notebook is built"): an opening
(what you will learn, before this, time), one "try other values" parameters cell, a main line within
its word budget, Summary / Exercises / Next, and "## Going deeper" last, marked collapsed. These read
the committed files only (nothing is executed)."""
import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from notebook_stats import BUDGET, GOING_DEEPER, all_stats, going_deeper_index, readme_block, source, stats  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("0[0-7]_*.ipynb"))


def cells(path: Path) -> list[dict]:
    return json.loads(path.read_text())["cells"]


def h2(path: Path) -> list[tuple[int, str]]:
    """(cell index, text) of every `## ` heading line in the markdown cells."""
    return [(i, line[3:].strip()) for i, c in enumerate(cells(path)) if c["cell_type"] == "markdown"
            for line in source(c).splitlines() if line.startswith("## ")]


def test_every_notebook_is_here():
    assert [p.name[:2] for p in NOTEBOOKS] == sorted(BUDGET)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_opening(path):
    first = cells(path)[0]
    text = source(first)
    assert first["cell_type"] == "markdown" and text.startswith(f"# {path.name[:2]} · "), text[:80]
    learn = re.search(r"\*\*What you will learn\*\*[^\n]*\n((?:\s*[-*] [^\n]*\n?)+)", text)
    assert learn, "the opening has no **What you will learn** list"
    bullets = re.findall(r"^\s*[-*] ", learn.group(1), re.M)
    assert 1 <= len(bullets) <= 4, f"{len(bullets)} things to learn (at most 4)"
    assert "**Before this**" in text and "**Time**" in text


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_one_parameters_cell_with_the_example(path):
    tagged = [c for c in cells(path) if "parameters" in c["metadata"].get("tags", [])]
    assert len(tagged) == 1, f"{len(tagged)} cells tagged 'parameters' (one expected)"
    cell = tagged[0]
    assert cell["cell_type"] == "code" and source(cell).startswith("# Try other values"), source(cell)[:80]
    assert re.search(r"^\w+\s*=", source(cell), re.M), "the parameters cell assigns no value"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_summary_exercises_next_then_going_deeper_last_and_collapsed(path):
    headings = h2(path)
    titles = [t for _, t in headings]
    assert titles.count("Going deeper") == 1 and titles[-1] == "Going deeper", titles
    end = [t.split(" ")[0] for t in titles[-4:-1]]
    assert end == ["Summary", "Exercises", "Next"], titles
    at = going_deeper_index(cells(path))
    heading = cells(path)[at]
    assert source(heading).startswith(GOING_DEEPER)
    assert heading["metadata"].get("jp-MarkdownHeadingCollapsed") is True, "Going deeper is not marked collapsed"
    assert at < len(cells(path)) - 1, "Going deeper is empty"
    numbered = [t for t in titles[:-4]]
    assert numbered and all(re.match(r"\d+\. ", t) for t in numbered), f"main-line sections not numbered: {numbered}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_main_line_within_its_word_budget(path):
    s = stats(path)
    assert s.main_words <= s.budget, f"{s.main_words} words of markdown before Going deeper (budget {s.budget})"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_link_into_the_package_source_or_the_seed(path):
    """A reader of a rendered notebook cannot open the package's files or the project's seed note."""
    text = "".join(source(c) for c in cells(path) if c["cell_type"] == "markdown")
    assert not re.search(r"\]\([^)]*swin_edu/[^)]*\.py", text), "a link into swin_edu/*.py"
    assert "seed" not in text.lower(), "the seed note is mentioned"


def _notation_rows(text: str) -> list[str]:
    start = text.index("| symbol |")
    rows = []
    for line in text[start:].splitlines():
        if not line.startswith("|"):
            break
        rows.append(re.sub(r"\s+", " ", line.strip()))
    return rows


def test_notation_table_of_00_is_the_readme_one():
    overview = "".join(source(c) for c in cells(NOTEBOOKS[0]) if c["cell_type"] == "markdown")
    readme = (ROOT / "README.md").read_text()
    assert _notation_rows(overview) == _notation_rows(readme)
    assert len(_notation_rows(readme)) >= 12


def test_readme_lists_each_notebooks_length_and_times():
    """The README's table is what scripts/notebook_stats.py measures now (`make notebooks` rewrites it)."""
    assert readme_block(all_stats()) in (ROOT / "README.md").read_text(), "run scripts/notebook_stats.py --readme"
