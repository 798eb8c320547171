"""The book (`make book`, book/): every page of the static site as a reader opens it in Chromium.

The site is `make book`'s build/book/html when it is newer than everything it is built from (CI runs
`make book` just before the tests), else it is built into a temporary folder. It is served on
127.0.0.1 and each page is opened in headless Chromium with the browser test's machinery
(tests/test_browser.py: Debian's chromium, its flags for this closed network, its fixtures). For the
README, notebooks 00-07 and the homework's student versions, the test checks that:

* the sidebar lists them in the notebooks' order, and the site has no other page;
* every image loaded; math was typeset by the MathJax the site carries (MathJax errors fail, and so
  does `$...$`, `\\(`, `\\begin{` left as text); no raw markdown (`**`, `](`, `#` headings, fences, tags)
  and no cell metadata (nbgrader, widget JSON, jp-* keys) shows outside code;
* every link inside the site resolves, every `#anchor` names an element of its target page, and no
  page asks for anything outside the site (no CDN: requests to other hosts are stopped and reported);
* in a tutorial notebook: every code cell is there, the reading and running times of
  scripts/notebook_stats.py stand under the title, "## Going deeper" is folded (its ### parts hidden,
  one click shows them, a link to one of them opens it), and each explorer shows its saved figure and
  the line saying that the live version needs JupyterLab;
* a homework page is the student version: no solution, the exercises to write;
* the search page finds "mask" in notebook 04.

A page broken on purpose checks that each check still catches what it is meant to. Full-page
screenshots go to build/screenshots/book/ (git-ignored). Skipped without Chromium and playwright
(`make browser-deps`) or without the `book` extra (`make book` installs it), failed instead where
SWIN_EDU_REQUIRE_BROWSER=1 (CI).
"""
from __future__ import annotations

import functools
import http.server
import importlib.util
import re
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlsplit

import nbformat
import pytest

from test_browser import browser, playwright_api, skip_or_fail  # noqa: F401 (fixtures shared with the browser test)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("0[0-7]_*.ipynb"))
HOMEWORK = sorted((ROOT / "notebooks" / "homework" / "release" / "swin").glob("hw*.ipynb"))
BUILT = ROOT / "build" / "book" / "html"  # make book's site
SHOTS = ROOT / "build" / "screenshots" / "book"
# what the site is built from: a site older than one of them is built again
SOURCES = ["README.md", "book/**/*", "scripts/notebook_stats.py", "figures/*", "notebooks/0[0-7]_*.ipynb",
           "notebooks/homework/release/swin/*.ipynb", "pyproject.toml"]
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
ARTICLE = "article.bd-article"  # the page's content, without the theme's navigation
EXPLORER_NOTE = "Its sliders need a running kernel: open the notebook in JupyterLab"


def page_path(notebook: Path) -> str:
    """The site path of a notebook's page."""
    return notebook.relative_to(ROOT).with_suffix(".html").as_posix()


PAGES = ["README.html"] + [page_path(nb) for nb in NOTEBOOKS + HOMEWORK]


# ---------------------------------------------------------------------------------------------------
# the site and its server


def book_build():
    spec = importlib.util.spec_from_file_location("book_build", ROOT / "book" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def is_fresh(site: Path) -> bool:
    index = site / "index.html"
    if not index.exists():
        return False
    newest = max(p.stat().st_mtime for pattern in SOURCES for p in ROOT.glob(pattern)
                 if p.is_file() and "__pycache__" not in p.parts)
    return index.stat().st_mtime >= newest


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    missing = [name for name in ("sphinx", "myst_nb", "sphinx_book_theme", "sphinx-mathjax-offline")
               if importlib.util.find_spec(name) is None]
    if missing:
        skip_or_fail(f"the book needs the `book` extra ({', '.join(missing)} missing): `make book` installs it, "
                     "or pip install -e '.[book]'")
    if is_fresh(BUILT):
        return BUILT
    start = time.monotonic()
    built = book_build().build(tmp_path_factory.mktemp("book"))
    print(f"book built in {time.monotonic() - start:.0f} s")
    return built


class Handler(http.server.SimpleHTTPRequestHandler):
    """The site, plus /__check__/ from another folder (the page broken on purpose)."""

    check_dir = None

    def translate_path(self, path):
        if path.startswith("/__check__/"):
            return str(Path(self.check_dir) / unquote(urlsplit(path).path)[len("/__check__/"):])
        return super().translate_path(path)

    def log_message(self, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a page closed while it was loading
            super().handle_error(request, client_address)


@pytest.fixture(scope="module")
def check_dir(tmp_path_factory) -> Path:
    """Served as /__check__/: the page broken on purpose."""
    return tmp_path_factory.mktemp("book_check")


@pytest.fixture(scope="module")
def base(site, check_dir):
    """URL of the site served on 127.0.0.1 (a free port), for the module."""
    handler = type("SiteHandler", (Handler,), {"check_dir": check_dir})
    server = Server(("127.0.0.1", 0), functools.partial(handler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


# ---------------------------------------------------------------------------------------------------
# reading a page

COLLECT_JS = r"""
(article) => {
  const text = el => (el.textContent || '').replace(/\s+/g, ' ').trim().slice(0, 160);
  const images = [...document.images].map(i => ({src: (i.getAttribute('src') || '').slice(0, 120),
                                                  ok: i.complete && i.naturalWidth > 0}));
  const mathErrors = [...document.querySelectorAll('mjx-merror')].map(e => e.getAttribute('data-mjx-error') || text(e));
  const math = document.querySelectorAll(`${article} mjx-container`).length;
  // the text a reader sees outside code: math, code and the theme's scripts taken out
  const node = document.querySelector(article);
  const clone = node ? node.cloneNode(true) : document.createElement('div');
  clone.querySelectorAll('pre, code, mjx-container, script, style, .highlight').forEach(e => e.remove());
  const prose = clone.textContent;
  const find = re => [...new Set((prose.match(new RegExp(re, 'g')) || []).map(
    s => s.replace(/\s+/g, ' ').trim().slice(0, 80)))];
  return {
    images, mathErrors, math,
    rawMath: find(/\$[^$\n]{1,80}\$|\\\(|\\\[|\\begin\{/.source),
    // **bold**, ](link), # heading, fences, HTML tags shown as text
    rawMarkdown: find(/\*\*\S[^*\n]{0,60}\*\*|\]\([^)\s]*\)|(^|\n)\s*#{1,6} \S[^\n]{0,40}|```|:::|/.source
                      + /<\/?(img|div|span|details|a|b|br|p)\b[^>]{0,40}>/.source),
    // notebook and cell metadata: nbgrader's, tags, widget views, JupyterLab's keys, any JSON object
    metadata: find(/"(nbgrader|tags|grade_id|checksum|schema_version|model_id|version_major)"\s*:|/.source
                   + /jp-MarkdownHeadingCollapsed|application\/vnd\.jupyter[\w.+\/-]*|\{"[a-z_]+":/.source),
    links: [...document.querySelectorAll('a[href]')].map(a => ({href: a.href, raw: a.getAttribute('href'),
                                                                text: text(a)})),
  };
}
"""


def open_page(browser, url: str):
    """A fresh page at `url` with every image loaded and MathJax done; requests outside the site are
    stopped (never sent) and listed in page.outside, failed responses in page.failed."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    origin = "{0.scheme}://{0.netloc}/".format(urlsplit(url))
    page.outside, page.failed, page.errors = [], [], []

    def stop(route):
        page.outside.append(route.request.url)
        route.abort()

    page.route(lambda u: not u.startswith(origin) and not u.startswith("data:"), stop)
    page.on("response", lambda r: page.failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.goto(url)
    page.wait_for_load_state("load")
    page.wait_for_function("() => [...document.images].every(i => i.complete)", timeout=30_000)
    # MathJax typesets once it has started: wait for it (a page without MathJax has nothing to wait for)
    page.evaluate("() => window.MathJax && MathJax.startup && MathJax.startup.promise ? "
                  "MathJax.startup.promise.then(() => true) : false")
    return page


class Reader:
    """Checks pages, remembering the ids of every page it fetched for the links' #anchors."""

    def __init__(self, browser, base: str):
        self.browser, self.base, self.fetched = browser, base, {}

    def target(self, url: str) -> tuple[int, set[str]]:
        """(HTTP status, ids of the elements) of a page of the site, fetched once."""
        if url not in self.fetched:
            try:
                with urllib.request.urlopen(url, timeout=10) as response:
                    body = response.read().decode("utf-8", "replace") if url.endswith(".html") else ""
                    self.fetched[url] = (response.status, set(re.findall(r'\bid="([^"]+)"', body)))
            except urllib.error.HTTPError as error:
                self.fetched[url] = (error.code, set())
        return self.fetched[url]

    def problems(self, page) -> tuple[list[str], dict]:
        seen = page.evaluate(COLLECT_JS, ARTICLE)
        found = [f"image not loaded: {i['src']}" for i in seen["images"] if not i["ok"]]
        found += [f"math error: {e}" for e in seen["mathErrors"]]
        found += [f"math left as raw text: {t}" for t in seen["rawMath"]]
        found += [f"raw markdown shown: {t}" for t in seen["rawMarkdown"]]
        found += [f"cell metadata shown: {t}" for t in seen["metadata"]]
        found += [f"request outside the site (stopped): {u}" for u in page.outside]
        found += [f"failed request: {r}" for r in page.failed]
        found += [f"JavaScript error: {e}" for e in page.errors]
        for link in seen["links"]:
            href = link["href"]
            if not href.startswith(self.base + "/"):
                continue  # another site (or mailto:): not followed, there is no network
            url, fragment = urldefrag(href)
            status, ids = self.target(url)
            where = f"link [{link['text']}]({link['raw']})"
            if status != 200:
                found.append(f"{where}: {url[len(self.base):]} answers {status}")
            elif fragment and unquote(fragment) not in ids:
                found.append(f"{where}: no element with id #{unquote(fragment)} in {url[len(self.base):]}")
        return found, seen


@pytest.fixture(scope="module")
def reader(browser, base):
    return Reader(browser, base)


# ---------------------------------------------------------------------------------------------------
# what a notebook's page must show


def going_deeper_parts(notebook: Path) -> int:
    """How many ### parts the notebook's Going deeper has (from its heading to the end)."""
    cells = nbformat.read(notebook, as_version=4).cells
    at = next(i for i, c in enumerate(cells)
              if c.cell_type == "markdown" and c.source.lstrip().startswith("## Going deeper"))
    return sum(len(re.findall(r"^### ", c.source, re.M)) for c in cells[at:] if c.cell_type == "markdown")


def going_deeper_problems(page, notebook: Path) -> list[str]:
    """Folded on opening (the heading shown, its parts hidden); one click shows them; a link to a part
    opens it. Leaves the section open."""
    details = page.locator(f"{ARTICLE} details.folded-section")
    if details.count() != 1:
        return [f"{details.count()} folded sections (one expected: Going deeper)"]
    found = []
    heading = details.locator("xpath=..").locator("h2").first
    if not heading.inner_text().startswith("Going deeper") or not heading.is_visible():
        found.append(f"the folded section is under {heading.inner_text()!r}, not a visible 'Going deeper'")
    parts = details.locator("section > h3")
    expected = going_deeper_parts(notebook)
    if parts.count() != expected:
        found.append(f"Going deeper folds {parts.count()} ### parts, the notebook has {expected}")
    if details.evaluate("d => d.open") or (parts.count() and parts.first.is_visible()):
        found.append("Going deeper is open on opening")
    details.locator("summary").click()
    if parts.count() and not parts.first.is_visible():
        found.append("one click on Going deeper's summary did not show its parts")
    # a link to a part of the folded section (the page's table of contents, a search result) opens it
    if parts.count():
        anchor = parts.first.evaluate("h => h.closest('section').id")
        page.evaluate("() => document.querySelector('details.folded-section').open = false")
        page.evaluate(f"() => {{ window.location.hash = '#{anchor}'; }}")
        page.wait_for_timeout(300)
        if not details.evaluate("d => d.open"):
            found.append(f"a link to #{anchor} leaves Going deeper folded")
    return found


def notebook_stats():
    """scripts/notebook_stats.py (what `make stats` prints), loaded as the book's extension loads it."""
    sys.path.insert(0, str(ROOT / "book"))
    try:
        import swin_book
    finally:
        sys.path.remove(str(ROOT / "book"))
    return swin_book.notebook_stats()


def cells(notebook: Path) -> list:
    return nbformat.read(notebook, as_version=4).cells


def explorer_count(notebook: Path) -> int:
    """How many explorers (code cells whose saved output is an ipywidgets view) the notebook has."""
    return sum(1 for c in cells(notebook) if c.cell_type == "code"
               and any(WIDGET_MIME in o.get("data", {}) for o in c.get("outputs", [])))


def notebook_problems(page, notebook: Path) -> list[str]:
    nb = nbformat.read(notebook, as_version=4)
    found = going_deeper_problems(page, notebook)
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    shown = page.locator(f"{ARTICLE} div.cell").count()
    if shown != len(code_cells):
        found.append(f"{shown} code cells shown, the notebook has {len(code_cells)}")
    # the reading and running times, under the title
    stats = notebook_stats().stats(notebook)
    times = page.locator(f"{ARTICLE} p.notebook-times")
    if times.count() != 1:
        found.append(f"{times.count()} lines of reading and running times (one expected, under the title)")
    else:
        line = times.inner_text()
        for part in (f"about {stats.read_minutes} min", f"Running time: {stats.run_text}"):
            if part not in line:
                found.append(f"the times line says {line!r}, not {part!r} (scripts/notebook_stats.py)")
    # each explorer: its saved figure, then the line about the live version
    notes = page.locator(f"{ARTICLE} p.explorer-note")
    if notes.count() != explorer_count(notebook):
        found.append(f"{notes.count()} explorer notes for {explorer_count(notebook)} explorers")
    for k in range(notes.count()):
        note = notes.nth(k)
        if EXPLORER_NOTE not in note.inner_text() or not note.is_visible():
            found.append(f"explorer {k}: its note does not say where the live version is: {note.inner_text()!r}")
        figure = note.locator("xpath=preceding-sibling::div[contains(@class, 'cell_output')]//img")
        if figure.count() != 1 or not figure.evaluate("i => i.complete && i.naturalWidth > 0"):
            found.append(f"explorer {k}: no saved figure above its note")
    # math: a notebook with $...$ in its markdown shows typeset formulas
    if any("$" in c.source for c in nb.cells if c.cell_type == "markdown"):
        if page.locator(f"{ARTICLE} mjx-container").count() == 0:
            found.append("the notebook has math, the page shows no typeset formula")
    return found


def homework_problems(page) -> list[str]:
    text = page.locator(ARTICLE).inner_text()
    found = [f"the student version shows {marker!r}" for marker in
             ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "raise_if_failed") if marker in text]
    if "raise NotImplementedError()" not in text:
        found.append("no exercise left to write (raise NotImplementedError())")
    return found


# ---------------------------------------------------------------------------------------------------
# the tests


@pytest.mark.parametrize("path", PAGES, ids=lambda p: Path(p).stem)
def test_page_as_read(reader, base, path):
    """Images, math, no raw markdown or metadata, links and anchors, nothing from outside; per kind of page."""
    page = open_page(reader.browser, f"{base}/{path}")
    try:
        found = []
        notebook = ROOT / Path(path).with_suffix(".ipynb")
        if path.startswith("notebooks/0"):
            found += notebook_problems(page, notebook)  # first: it unfolds Going deeper for the checks below
        elif path.startswith("notebooks/homework"):
            found += homework_problems(page)
        more, _ = reader.problems(page)
        found += more
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SHOTS / f"{Path(path).stem}.png", full_page=True)
        assert not found, f"{path} in the book:\n  " + "\n  ".join(found)
    finally:
        page.close()


def test_navigation_in_notebook_order(reader, base, site):
    """index.html opens the README; the sidebar lists 00-07 then the homework in order; no other page."""
    page = open_page(reader.browser, f"{base}/index.html")
    try:
        page.wait_for_url(f"{base}/README.html", timeout=10_000)
        hrefs = page.eval_on_selector_all("nav.bd-docs-nav a[href]", "links => links.map(a => a.href)")
    finally:
        page.close()
    listed = [h[len(base) + 1:].split("#")[0] for h in hrefs if h.startswith(base + "/")]
    assert [p for p in listed if p != "README.html"] == PAGES[1:], f"the sidebar lists {listed}"
    pages = {p.relative_to(site).as_posix() for p in site.rglob("*.html") if not p.name.startswith("_")}
    extra = pages - set(PAGES) - {"index.html", "search.html", "genindex.html"} - {
        p for p in pages if p.startswith("_static/")}
    assert not extra, f"pages in the book that are not in its navigation: {sorted(extra)}"


def test_search_finds_mask(reader, base):
    """The search page (its index built with the site, no server needed) finds "mask" in notebook 04."""
    page = open_page(reader.browser, f"{base}/search.html?q=mask")
    try:
        page.wait_for_function("() => document.querySelectorAll('#search-results ul.search li').length > 0 || "
                               "/did not match/.test(document.querySelector('#search-results')?.textContent || '')",
                               timeout=30_000)
        results = page.eval_on_selector_all("#search-results ul.search li a", "links => links.map(a => a.href)")
        assert page.outside == [] and page.errors == [], (page.outside, page.errors)
    finally:
        page.close()
    found = {r[len(base) + 1:].split("?")[0].split("#")[0] for r in results}
    assert "notebooks/04_shifted_windows.html" in found, f"searching 'mask' found {sorted(found)}"


BROKEN = r"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>broken on purpose</title>
<script defer src="/_static/mathjax/tex-chtml.js"></script></head>
<body><article class="bd-article">
<h1 id="broken">Broken on purpose</h1>
<p>Good math <span class="math">\(a^2 + b\)</span>, a TeX error <span class="math">\(x^^2\)</span>.</p>
<p>Left raw: $y = 2$ and **bold text** and [a link](elsewhere.ipynb).</p>
<p>{"nbgrader": {"grade_id": "ex1"}}</p>
<p>A missing image <img src="no_such_image.png" alt="missing">, one from outside
<img src="https://cdn.example.invalid/x.png" alt="outside">.</p>
<p><a href="no_such_page.html">a missing page</a>, <a href="/README.html#no-such-heading">a missing anchor</a>,
<a href="/README.html#two-commands">a good anchor</a>, <a href="#broken">this page</a>,
<a href="https://example.invalid/">another site</a>.</p>
<pre><code>**in code** $not math$ [code](link)</code></pre>
</article></body></html>
"""


def test_checks_see_what_is_broken(reader, base, check_dir):
    """The checks flag each broken thing of a page built to fail, and nothing that is fine."""
    (check_dir / "broken.html").write_text(BROKEN)
    page = open_page(reader.browser, f"{base}/__check__/broken.html")
    try:
        found, _ = reader.problems(page)
    finally:
        page.close()
    report = "\n".join(found)
    expected = {
        "TeX error": "math error: Missing open brace for superscript",
        "raw math": "math left as raw text: $y = 2$",
        "raw bold": "raw markdown shown: **bold text**",
        "raw link": "raw markdown shown: ](elsewhere.ipynb)",
        "metadata": 'cell metadata shown: {"nbgrader":',
        "missing image": "image not loaded: no_such_image.png",
        "request outside": "request outside the site (stopped): https://cdn.example.invalid/x.png",
        "missing page": "__check__/no_such_page.html answers 404",
        "missing anchor": "no element with id #no-such-heading in /README.html",
    }
    missed = [name for name, text in expected.items() if text not in report]
    assert not missed, f"the checks missed {missed}; they reported:\n{report}"
    for fine in ("a^2", "[a good anchor]", "[this page]", "in code", "not math", "example.invalid/]"):
        assert fine not in report, f"{fine} is fine but was reported:\n{report}"
    # the notebook checks, on a page that is no notebook (the README), against a notebook with an explorer
    notebook = next((nb for nb in NOTEBOOKS if explorer_count(nb)), NOTEBOOKS[0])
    page = open_page(reader.browser, f"{base}/README.html")
    try:
        report = "\n".join(notebook_problems(page, notebook) + homework_problems(page))
    finally:
        page.close()
    expected = {
        "Going deeper not folded": "0 folded sections (one expected: Going deeper)",
        "code cells": f"0 code cells shown, the notebook has {sum(c.cell_type == 'code' for c in cells(notebook))}",
        "times": "0 lines of reading and running times",
        "a solution shown": "the student version shows 'BEGIN SOLUTION'",  # the README quotes nbgrader's markers
    }
    if explorer_count(notebook):
        expected["explorer"] = f"0 explorer notes for {explorer_count(notebook)} explorers"
    missed = [name for name, text in expected.items() if text not in report]
    assert not missed, f"the notebook checks missed {missed}; they reported:\n{report}"
