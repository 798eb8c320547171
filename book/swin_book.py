"""What the book adds to the README and the notebooks (a Sphinx extension, loaded by book/conf.py).

* navigation: the README is the home page; notebooks 00-07, then the homework's student versions, in
  the order of their numbers (toctrees added to the README as Sphinx reads it: no list kept by hand);
* under each tutorial notebook's title, its reading and running times (scripts/notebook_stats.py);
* a markdown heading cell saved folded in JupyterLab (metadata jp-MarkdownHeadingCollapsed, the
  "## Going deeper" of every notebook) folds its section into a <details>: the heading and the heading
  cell's first paragraphs stay visible, the rest opens with one click;
* under an explorer's saved figure (an ipywidgets output, with its image/png), one line saying that the
  live version needs JupyterLab;
* math typeset in the search results' excerpts too (book/_static/book.js);
* MathJax 3 carried by the site (the files of the `sphinx-mathjax-offline` package, the parts that
  tex-chtml.js loads), so that math is typeset without a CDN; index.html sends to README.html.
"""
from __future__ import annotations

import html
import importlib.util
import re
import shutil
import sys
from pathlib import Path

import nbformat
from docutils import nodes
from sphinx.util import logging

ROOT = Path(__file__).resolve().parent.parent
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
# the line under an explorer's saved figure: (text, code, text)
EXPLORER_NOTE = ("The explorer's figure for the notebook's example values. Its sliders need a running kernel: "
                 "open the notebook in JupyterLab (", "make lab", ") and run it.")
TOCTREES = """

```{toctree}
:hidden:
:caption: The notebooks
:glob:

notebooks/0*
```

```{toctree}
:hidden:
:caption: Homework (student versions)
:glob:

notebooks/homework/release/swin/hw*
```
"""
# what MathJax's tex-chtml.js component loads (extensions, fonts, menu, accessibility); the other
# combined components and the SVG output are left out of the site
MATHJAX_SKIP = ("tex-svg", "tex-mml", "mml-", "tex-chtml-full", "node-main.js", "output/svg")
logger = logging.getLogger(__name__)


def notebook_stats():
    """scripts/notebook_stats.py, the reading and running times of `make stats`."""
    if "notebook_stats" not in sys.modules:
        spec = importlib.util.spec_from_file_location("notebook_stats", ROOT / "scripts" / "notebook_stats.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["notebook_stats"] = module  # before running it: its dataclass looks itself up there
        spec.loader.exec_module(module)
    return sys.modules["notebook_stats"]


def read_source(app, docname: str, source: list[str]) -> None:
    if docname != app.config.root_doc:
        return
    source[0] = source[0] + TOCTREES  # the README carries the `make stats` table itself


def heading_text(markdown: str) -> str:
    first = next(line for line in markdown.splitlines() if line.lstrip().startswith("#"))
    return re.sub(r"[`*_]", "", first.lstrip().lstrip("#")).strip()


def cell_of(node) -> int | None:
    """The notebook cell a node comes from: myst-nb numbers the lines of cell i from (i + 1) * 10000."""
    line = getattr(node, "line", None)
    return None if line is None else line // 10000 - 1


def fold(section: nodes.section, heading_cell: int) -> None:
    """Wrap everything after the heading and the heading cell's first paragraphs into a <details>."""
    children = section.children
    start = 1  # after the title
    while (start < len(children) and not isinstance(children[start], nodes.section)
           and cell_of(children[start]) == heading_cell):
        start += 1
    parts = [child[0].astext() for child in children[start:] if isinstance(child, nodes.section)]
    summary = f"{len(parts)} parts, folded: " + " · ".join(parts) if parts else "folded: click to open"
    section.insert(start, nodes.raw("", f'<details class="folded-section"><summary>{html.escape(summary)}'
                                        "</summary>\n", format="html"))
    section.append(nodes.raw("", "</details>\n", format="html"))


def times_line(path: Path) -> nodes.paragraph:
    module = notebook_stats()
    s = module.stats(path)
    machine = nbformat.read(path, as_version=4).metadata.get("swin_edu", {}).get("machine")
    where = f" on {machine}" if machine else ""
    text = (f"Reading time: about {s.read_minutes} min for the main line ({s.main_words:,} words, "
            f"{s.main_code_cells} code cells), plus {s.deeper_words:,} words in Going deeper. "
            f"Running time: {s.run_text}{where}, measured by make notebooks from a fresh kernel.")
    return nodes.paragraph("", text, classes=["notebook-times"])


def read_doctree(app, doctree) -> None:
    docname = app.env.docname
    path = Path(app.env.doc2path(docname))
    if path.suffix != ".ipynb":
        return
    cells = nbformat.read(path, as_version=4).cells
    sections = list(doctree.findall(nodes.section))
    # Going deeper (any heading cell saved folded)
    for index, cell in enumerate(cells):
        if cell.cell_type != "markdown" or not cell.metadata.get("jp-MarkdownHeadingCollapsed"):
            continue
        title = heading_text(cell.source)
        match = [s for s in sections if s[0].astext().strip() == title]
        if len(match) != 1:
            logger.warning(f"cell {index} is saved folded but its heading {title!r} names {len(match)} sections",
                           location=docname)
            continue
        fold(match[0], index)
    # the explorers' saved figures
    explorers = {i for i, cell in enumerate(cells) if cell.cell_type == "code"
                 and any(WIDGET_MIME in out.get("data", {}) for out in cell.get("outputs", []))}
    for container in doctree.findall(nodes.container):
        if container.get("nb_element") == "cell_code" and container.get("cell_index") in explorers:
            before, code, after = EXPLORER_NOTE
            container.append(nodes.paragraph("", "", nodes.Text(before), nodes.literal(code, code), nodes.Text(after),
                                             classes=["explorer-note"]))
            explorers.discard(container["cell_index"])
    for index in sorted(explorers):
        logger.warning(f"explorer cell {index} not found in the page", location=docname)
    # the reading and running times, under the title of a tutorial notebook
    if re.fullmatch(r"\d\d_.*", path.stem) and path.parent == ROOT / "notebooks" and sections:
        sections[0].insert(1, times_line(path))


def finish(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    out = Path(app.outdir)
    # MathJax 3, carried by the site
    spec = importlib.util.find_spec("sphinx-mathjax-offline")
    if spec is None or spec.origin is None:
        raise RuntimeError("the book carries MathJax from the `sphinx-mathjax-offline` package: "
                           "pip install -e '.[book]'")
    source = Path(spec.origin).parent / "static" / "mathjax"
    target = out / "_static" / "mathjax"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target, ignore=lambda folder, names: [
        n for n in names if (Path(folder) / n).relative_to(source).as_posix().startswith(MATHJAX_SKIP)])
    # the site's front door
    home = f"{app.config.root_doc}.html"
    (out / "index.html").write_text(f'<!DOCTYPE html>\n<meta charset="utf-8">\n<title>{app.config.project}</title>\n'
                                    f'<meta http-equiv="refresh" content="0; url={home}">\n'
                                    f'<a href="{home}">{app.config.project}</a>\n')


def setup(app):
    app.set_html_assets_policy("always")  # MathJax on every page, the search page too (its excerpts)
    app.connect("source-read", read_source)
    app.connect("doctree-read", read_doctree)
    app.connect("build-finished", finish)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
