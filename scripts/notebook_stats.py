"""How long each tutorial notebook is: words of markdown on the main line (everything before
"## Going deeper") and in Going deeper, checks on the main line, reading and running time.

    python scripts/notebook_stats.py            # the table, as in the README
    python scripts/notebook_stats.py --check    # also exit 1 when a main line is over its budget
    python scripts/notebook_stats.py --readme   # also write the table into README.md (make notebooks does)

Reading time: main-line words at 200 a minute plus 20 s per main-line code cell (reading the code
and its output). Running time: what `scripts/run_notebooks.py` measured when it last executed the
notebook from a fresh kernel (stored in the notebook's metadata, `swin_edu.run_seconds`), on the
machine named there.
"""
from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
README_START, README_END = "<!-- notebook-stats -->", "<!-- /notebook-stats -->"
GOING_DEEPER = "## Going deeper"
# words of markdown allowed on the main line (issue 15): 00 is the overview, 06 and 07 carry more
BUDGET = {"00": 1000, "01": 1500, "02": 1500, "03": 1500, "04": 1500, "05": 1500, "06": 2000, "07": 2000}
CHECK = re.compile(r"^\s*(assert\b|torch\.testing\.assert_close\(|np\.testing\.assert)", re.M)
WORDS_PER_MINUTE = 200
SECONDS_PER_CODE_CELL = 20


def words(text: str) -> int:
    return len(re.findall(r"\S+", text))


def source(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def going_deeper_index(cells: list[dict]) -> int:
    """Index of the "## Going deeper" heading cell, or len(cells) when there is none."""
    for i, cell in enumerate(cells):
        if cell["cell_type"] == "markdown" and source(cell).lstrip().startswith(GOING_DEEPER):
            return i
    return len(cells)


@dataclass
class Stats:
    name: str
    main_words: int
    deeper_words: int
    main_checks: int
    main_code_cells: int
    run_seconds: float | None
    budget: int

    @property
    def read_minutes(self) -> int:
        return round(self.main_words / WORDS_PER_MINUTE + self.main_code_cells * SECONDS_PER_CODE_CELL / 60)

    @property
    def run_text(self) -> str:
        if self.run_seconds is None:
            return "?"
        return f"{self.run_seconds / 60:.0f} min" if self.run_seconds >= 90 else f"{self.run_seconds:.0f} s"


def stats(path: Path) -> Stats:
    nb = json.loads(path.read_text())
    cells = nb["cells"]
    cut = going_deeper_index(cells)
    main, deeper = cells[:cut], cells[cut:]
    md = lambda cs: sum(words(source(c)) for c in cs if c["cell_type"] == "markdown")  # noqa: E731
    code = [c for c in main if c["cell_type"] == "code"]
    return Stats(name=path.stem, main_words=md(main), deeper_words=md(deeper),
                 main_checks=sum(len(CHECK.findall(source(c))) for c in code), main_code_cells=len(code),
                 run_seconds=nb["metadata"].get("swin_edu", {}).get("run_seconds"), budget=BUDGET[path.name[:2]])


def all_stats() -> list[Stats]:
    return [stats(p) for p in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))]


def table(rows: list[Stats]) -> str:
    lines = ["| notebook | main line: words (budget) | checks | Going deeper: words | read | run (CPU) |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r.name} | {r.main_words:,} ({r.budget:,}) | {r.main_checks} | {r.deeper_words:,} "
                     f"| {r.read_minutes} min | {r.run_text} |")
    return "\n".join(lines)


def readme_block(rows: list[Stats]) -> str:
    return f"{README_START}\n{table(rows)}\n{README_END}"


def write_readme(rows: list[Stats], readme: Path = ROOT / "README.md") -> None:
    """Replace the table between the README's notebook-stats markers."""
    text = readme.read_text()
    start, end = text.index(README_START), text.index(README_END) + len(README_END)
    readme.write_text(text[:start] + readme_block(rows) + text[end:])


if __name__ == "__main__":
    rows = all_stats()
    print(table(rows))
    if "--readme" in sys.argv:
        write_readme(rows)
    over = [r.name for r in rows if r.main_words > r.budget]
    if over:
        print(f"over budget: {', '.join(over)}")
        if "--check" in sys.argv:
            sys.exit(1)
