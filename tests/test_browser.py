"""Every notebook as a reader sees it: JupyterLab in Chromium, driven by Playwright.

A JupyterLab server is started the way `make lab` starts it (the Makefile's LAB_ARGS: the repo root
served, notebooks/ opened, localhost only), plus a free port, no token and no browser. Each of
notebooks/00..07 is opened in headless Chromium (Debian's `chromium`, never a downloaded browser),
all cells rendered (windowing off), and the test checks what a reader sees:

* every image (outputs and markdown) loaded (naturalWidth > 0);
* no math that failed to render (MathJax error nodes, undefined macros, raw `$...$` left in the text);
* no error output and no stderr output;
* every link between notebooks and to figures/, README.md, ... resolves on the server, and every
  anchor (`#...`) names a heading of its target notebook;
* the kernelspec is the kernel's own (else JupyterLab modifies the notebook as it opens it, and
  autosave writes it back);
* "## Going deeper" opens collapsed: its heading cell is folded and every cell after it hidden,
  every cell before it shown; one click on "N cells hidden" shows them all (the other checks then
  read the whole notebook, Going deeper included);
* an explorer cell shows its figure before it is run;
* one explorer responds: notebook 04 (or the first notebook with an explorer) is run from a fresh
  kernel (Run > Run All Cells), a slider is moved, and the figure must change.

A full-page PNG of each notebook goes to build/screenshots/ (git-ignored). A self-check runs the same
checks on a notebook built to fail (build/browser_check/) so that a check that silently stopped
seeing anything is caught too. The server cannot save files: the test never changes a notebook.

Needs /usr/bin/chromium and the `playwright` package; without them the tests are skipped with a
warning (`make browser-deps` installs both), or fail where SWIN_EDU_REQUIRE_BROWSER=1 (CI).
`pytest -m "not browser"` leaves them out.
"""
from __future__ import annotations

import io
import json
import os
import re
import shlex
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import warnings
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("0[0-7]_*.ipynb"))
EXPLORER_NOTEBOOK = "04_shifted_windows.ipynb"  # the explorer that must respond (else the first one found)
SHOTS = ROOT / "build" / "screenshots"
CHECK_DIR = ROOT / "build" / "browser_check"
CHROMIUM = os.environ.get("SWIN_EDU_CHROMIUM", "/usr/bin/chromium")
# the machine's closed network refuses Chromium's background connections: switch them off
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ENABLE = ("the browser test needs Debian's Chromium at /usr/bin/chromium and the `playwright` Python package: "
          "run `make browser-deps` (apt-get install chromium; pip install playwright), or deselect it "
          "with `pytest -m 'not browser'`")
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
# JupyterLab user settings for the test's server only: every cell rendered (no virtual scrolling),
# nothing saved behind the test's back, no news pop-up
SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none", "scrollPastEnd": False},
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false"},
}
STDERR_MIME = "application/vnd.jupyter.stderr"
ERROR_MIME = "application/vnd.jupyter.error"


def lab_args() -> list[str]:
    """The arguments `make lab` gives `jupyter lab` (the Makefile's LAB_ARGS line)."""
    match = re.search(r"^LAB_ARGS\s*[:?]?=(.*)$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    if match is None:
        raise ValueError("the Makefile has no LAB_ARGS line: `make lab` and this test share it")
    return shlex.split(match.group(1))


# the server's config (its own JUPYTER_CONFIG_DIR): the test can read every file but save none, so
# running a notebook in the browser never writes the repo (checkpoints go to the temp folder)
SERVER_CONFIG = """\
from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager
from tornado.web import HTTPError


class ReadOnlyContents(AsyncLargeFileManager):
    async def save(self, model, path=""):
        raise HTTPError(403, f"the browser test does not save {path}")

    async def delete_file(self, path):
        raise HTTPError(403, f"the browser test does not delete {path}")

    async def rename_file(self, old_path, new_path):
        raise HTTPError(403, f"the browser test does not rename {old_path}")


c.ServerApp.contents_manager_class = ReadOnlyContents
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------------------------------
# fixtures: one JupyterLab server and one Chromium for the module


def skip_or_fail(reason: str):
    """Skip (a machine without a browser), but fail where SWIN_EDU_REQUIRE_BROWSER=1 (CI)."""
    if os.environ.get("SWIN_EDU_REQUIRE_BROWSER") == "1":
        pytest.fail(f"SWIN_EDU_REQUIRE_BROWSER=1 but {reason}")
    warnings.warn(f"browser test skipped: {reason}", UserWarning)  # shown in `make test`'s summary
    pytest.skip(reason)


@pytest.fixture(scope="module")
def playwright_api():
    if not Path(CHROMIUM).exists():
        skip_or_fail(f"{CHROMIUM} not found: {ENABLE}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail(f"playwright is not installed: {ENABLE}")
    with sync_playwright() as api:
        yield api


@pytest.fixture(scope="module")
def browser(playwright_api):
    browser = playwright_api.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def lab(playwright_api):
    """Base URL of a JupyterLab started like `make lab` (free port, no token), stopped afterwards."""
    with tempfile.TemporaryDirectory(prefix="swin-edu-lab-") as tmp:
        tmp = Path(tmp)
        for name, value in SETTINGS.items():
            (tmp / "settings" / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp / "settings" / name).write_text(json.dumps(value))
        (tmp / "config").mkdir()
        (tmp / "config" / "jupyter_server_config.py").write_text(SERVER_CONFIG)
        port = free_port()
        command = [sys.executable, "-m", "jupyter", "lab", *lab_args(), f"--port={port}", "--no-browser",
                   "--IdentityProvider.token=", "--ServerApp.password=", "--ServerApp.port_retries=0",
                   f"--LabApp.user_settings_dir={tmp / 'settings'}", f"--LabApp.workspaces_dir={tmp / 'workspaces'}",
                   f"--FileCheckpoints.checkpoint_dir={tmp / 'checkpoints'}"]  # none in notebooks/
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.append("--allow-root")
        # the user's own Jupyter config and kernels stay out: the kernel is this Python
        env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp / "config"), "JUPYTER_DATA_DIR": str(tmp / "data"),
               "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"), "TQDM_DISABLE": "1"}
        log = open(tmp / "lab.log", "w+")
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    with urllib.request.urlopen(f"{base}/api/status", timeout=2):
                        break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        log.seek(0)
                        raise RuntimeError(f"JupyterLab did not start: {' '.join(command)}\n{log.read()[-3000:]}")
                    time.sleep(0.5)
            yield base
        finally:
            server.terminate()
            try:
                server.wait(20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
            log.close()


# ---------------------------------------------------------------------------------------------------
# reading a notebook page

COLLECT_JS = r"""
(nb) => {
  const cells = [...nb.querySelectorAll('.jp-Cell')];
  const cellOf = el => cells.indexOf(el.closest('.jp-Cell'));
  const text = el => (el.textContent || '').replace(/\s+/g, ' ').trim().slice(0, 200);
  const images = [...nb.querySelectorAll('img')].map(i => ({
    cell: cellOf(i), src: (i.getAttribute('src') || '').slice(0, 100), ok: i.complete && i.naturalWidth > 0}));
  // a TeX error is typeset as an merror node, an undefined macro as its name in red; the text of
  // the formula comes from the assistive MathML (the typeset glyphs are CSS, without text)
  const mathErrors = [];
  for (const c of nb.querySelectorAll('mjx-container')) {
    const error = c.querySelector('mjx-merror');
    const red = [...c.querySelectorAll('mjx-mtext')].some(e => /color:\s*red/.test(e.getAttribute('style') || ''));
    if (!error && !red) continue;
    const mml = c.querySelector('mjx-assistive-mml');
    const formula = mml ? text(mml) : '?';
    mathErrors.push({cell: cellOf(c), text: error ? `${error.getAttribute('data-mjx-error')}: ${formula}`
                                                  : `undefined macro in ${formula}`});
  }
  const rawMath = [];
  for (const md of nb.querySelectorAll('.jp-RenderedMarkdown, .jp-RenderedLatex')) {
    const clone = md.cloneNode(true);
    clone.querySelectorAll('code, pre, mjx-container, mjx-assistive-mml, script, style').forEach(e => e.remove());
    const found = clone.textContent.match(/\$\$?[^$]*\$\$?|\\\(|\\\[|\\begin\{|Math input error/g);
    if (found) rawMath.push({cell: cellOf(md), text: found.join(' ').slice(0, 200)});
  }
  const outputs = mime => [...nb.querySelectorAll(`.jp-OutputArea-output[data-mime-type="${mime}"]`)].map(e => ({
    cell: cellOf(e), text: text(e)}));
  const widgetErrors = [...nb.querySelectorAll('.jp-OutputArea-output')].filter(
    e => /Error displaying widget|Error rendering output item/.test(e.textContent)).map(e => ({cell: cellOf(e), text: text(e)}));
  const links = [...nb.querySelectorAll('.jp-RenderedMarkdown a[href]:not(.jp-InternalAnchorLink)')].map(a => ({
    cell: cellOf(a), href: a.getAttribute('href'), text: text(a)}));
  const ids = [...nb.querySelectorAll('[data-jupyter-id], .jp-RenderedMarkdown [id], .jp-RenderedMarkdown a[name]')].map(
    e => e.getAttribute('data-jupyter-id') || e.getAttribute('id') || e.getAttribute('name'));
  // what each output area shows first: the widget itself, or the static image/png it falls back to
  const shown = [...nb.querySelectorAll('.jp-OutputArea-output')].map(e => ({
    cell: cellOf(e), mime: e.getAttribute('data-mime-type') || (e.querySelector('.jupyter-widgets') ? 'widget' : '?')}));
  return {cells: cells.length, images, mathErrors, rawMath, stderr: outputs('%STDERR%'), errors: outputs('%ERROR%'),
          widgetErrors, links, ids, shown};
}
""".replace("%STDERR%", STDERR_MIME).replace("%ERROR%", ERROR_MIME)

NOTEBOOK = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook"
IDLE = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator[data-status='idle']"  # kernel ready


def open_notebook(browser, base: str, path: str):
    """A fresh page showing the notebook at `path` (relative to the repo root), every cell rendered."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.page_errors = []
    page.on("pageerror", lambda error: page.page_errors.append(str(error)))
    page.goto(f"{base}/lab/tree/{path}?reset")  # ?reset: a fresh workspace, only this notebook open
    n_cells = len(nbformat.read(ROOT / path, as_version=4).cells)
    page.wait_for_function(f"() => document.querySelectorAll('{NOTEBOOK} .jp-Cell').length === {n_cells}",
                           timeout=90_000)
    # fold the file browser away: a wider notebook in the screenshots
    page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current").first.click()
    settle(page)
    return page


def settle(page, timeout: float = 30.0) -> None:
    """Wait until every image finished loading and MathJax stopped typesetting (nothing changes for 1 s)."""
    page.wait_for_function(f"() => [...document.querySelectorAll('{NOTEBOOK} img')].every(i => i.complete)",
                           timeout=timeout * 1000)
    probe = (f"() => {{ const nb = document.querySelector('{NOTEBOOK}'); return [nb.querySelectorAll('mjx-container').length, "
             "nb.querySelectorAll('img').length, nb.scrollHeight]; }")
    last, stable, deadline = None, 0, time.monotonic() + timeout
    while stable < 4 and time.monotonic() < deadline:
        now = page.evaluate(probe)
        stable = stable + 1 if now == last else 0
        last = now
        page.wait_for_timeout(250)


def collect(page) -> dict:
    return page.locator(NOTEBOOK).evaluate(COLLECT_JS)


def target_of(href: str, base: str, folder: str):
    """(kind, path, fragment) of a rendered link: 'local' (a repo path), 'anchor' (this page) or 'external'."""
    if href.startswith("#"):
        return "anchor", None, unquote(href[1:])
    parts = urlsplit(href)
    if parts.scheme in ("http", "https") and not href.startswith(base + "/"):
        return "external", href, None
    if href.startswith(base + "/"):
        path = parts.path
        for prefix in ("/files/", "/lab/tree/", "/tree/"):
            if path.startswith(prefix):
                return "local", unquote(path[len(prefix):]), unquote(parts.fragment) or None
        return "local", unquote(path.lstrip("/")), unquote(parts.fragment) or None
    # JupyterLab left it relative (it normally rewrites it to /files/...): resolve against the notebook's folder
    path = os.path.normpath(os.path.join(folder, unquote(parts.path))).replace(os.sep, "/")
    return "local", path, unquote(parts.fragment) or None


def server_has(page, base: str, path: str) -> bool:
    """Does the server serve `path` (a file or a folder under the repo root)?"""
    if path.startswith("../") or path == "..":
        return False  # outside the served root: JupyterLab cannot open it
    return page.evaluate("async (url) => (await fetch(url)).status === 200",
                         f"{base}/api/contents/{path}?content=0")


class Reader:
    """Opens notebooks and reports what is wrong with them, remembering each notebook's heading ids."""

    def __init__(self, browser, base: str):
        self.browser, self.base, self.ids = browser, base, {}

    def heading_ids(self, path: str) -> set[str]:
        if path not in self.ids:
            page = open_notebook(self.browser, self.base, path)
            self.ids[path] = set(collect(page)["ids"])
            page.close()
        return self.ids[path]

    def problems(self, page, path: str) -> tuple[list[str], dict]:
        found = going_deeper_problems(page, path)  # first: it unfolds Going deeper for the checks below
        seen = collect(page)
        self.ids[path] = set(seen["ids"])
        folder = os.path.dirname(path)
        found += [f"cell {i['cell']}: image not loaded: {i['src']}" for i in seen["images"] if not i["ok"]]
        found += [f"cell {m['cell']}: math error: {m['text']}" for m in seen["mathErrors"]]
        found += [f"cell {m['cell']}: math left as raw text: {m['text']}" for m in seen["rawMath"]]
        found += [f"JavaScript error on the page: {error}" for error in page.page_errors]
        # a kernelspec other than the kernel's is rewritten by JupyterLab as soon as the kernel starts:
        # the notebook is then modified, and autosave in `make lab` writes it (a diff from reading it)
        saved = nbformat.read(ROOT / path, as_version=4).metadata.get("kernelspec", {})
        specs = page.evaluate("async (url) => (await (await fetch(url)).json()).kernelspecs",
                              f"{self.base}/api/kernelspecs")
        spec = specs.get(saved.get("name"), {}).get("spec", {})
        if saved.get("display_name") != spec.get("display_name"):
            found.append(f"kernelspec {dict(saved)} is not the kernel's own (display_name "
                         f"{spec.get('display_name')!r}): JupyterLab marks the notebook modified on opening "
                         "and autosave rewrites it")
        # JupyterLab shows an error (traceback) with the stderr renderer: both are reported here
        found += [f"cell {o['cell']}: stderr or error output: {o['text']}" for o in seen["stderr"] + seen["errors"]]
        found += [f"cell {o['cell']}: widget not shown: {o['text']}" for o in seen["widgetErrors"]]
        # an explorer cell opened without running it shows its figure: the live widget (a trusted
        # notebook, state restored) or the saved image/png (untrusted, e.g. a fresh clone)
        for index in explorer_cells(ROOT / path):
            mimes = [o["mime"] for o in seen["shown"] if o["cell"] == index]
            if not {"widget", "image/png"} & set(mimes):
                found.append(f"cell {index}: the explorer shows no figure before it is run, only {mimes}")
        for link in seen["links"]:
            kind, target, fragment = target_of(link["href"], self.base, folder)
            where = f"cell {link['cell']}: link [{link['text']}]({link['href']})"
            if kind == "external" or link["href"].startswith("mailto:"):
                continue  # no network in CI: external links are not followed
            if kind == "local":
                if not server_has(page, self.base, target):
                    found.append(f"{where}: {target} does not exist on the server")
                    continue
                if fragment and target.endswith(".ipynb") and fragment not in self.heading_ids(target):
                    found.append(f"{where}: {target} has no heading with id #{fragment}")
            elif fragment not in self.ids[path]:
                found.append(f"{where}: no heading with id #{fragment} in this notebook")
        return found, seen


HIDDEN_JS = f"() => [...document.querySelectorAll('{NOTEBOOK} .jp-Cell')].map(c => c.classList.contains('lm-mod-hidden'))"


def going_deeper_problems(page, path: str) -> list[str]:
    """Is "## Going deeper" folded on opening (its cells hidden, the main line shown), and does one
    click on its "N cells hidden" button show every cell? Leaves the notebook unfolded."""
    cells = nbformat.read(ROOT / path, as_version=4).cells
    at = [i for i, c in enumerate(cells) if c.cell_type == "markdown" and c.source.lstrip().startswith("## Going deeper")]
    if len(at) != 1:
        return [f"{len(at)} '## Going deeper' headings (one expected, the notebook's last part)"]
    at = at[0]
    hidden = page.evaluate(HIDDEN_JS)
    found = [f"cell {i}: on the main line but hidden on opening" for i in range(at + 1) if hidden[i]]
    found += [f"cell {i}: in Going deeper but shown on opening (the heading is not collapsed)"
              for i in range(at + 1, len(cells)) if not hidden[i]]
    button = page.locator(f"{NOTEBOOK} .jp-Cell").nth(at).locator(".jp-showHiddenCellsButton")
    if button.count() != 1:
        return found + [f"cell {at}: Going deeper has no 'cells hidden' button to unfold it"]
    button.click()
    try:
        page.wait_for_function(f"() => ({HIDDEN_JS})().every(h => !h)", timeout=10_000)
    except Exception:  # noqa: BLE001 - reported below with the cells still hidden
        still = [i for i, h in enumerate(page.evaluate(HIDDEN_JS)) if h]
        found.append(f"one click on Going deeper left cells {still} hidden")
    settle(page)
    return found


def screenshot(page, path: Path, tile: int = 12_000) -> None:
    """The whole notebook as one PNG: the window made as tall as the notebook (up to `tile` pixels
    at a time, stacked: Chromium cannot paint one image of any height)."""
    from PIL import Image

    outer = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer")
    size = page.viewport_size
    view, total = outer.evaluate("e => [e.clientHeight, e.scrollHeight]")
    page.set_viewport_size({"width": size["width"], "height": size["height"] - view + min(total, tile)})
    try:
        tiles, top = [], 0
        while True:
            top = outer.evaluate("(e, top) => { e.scrollTop = top; return e.scrollTop; }", top)
            page.wait_for_timeout(100)
            tiles.append((top, outer.screenshot()))
            if top + tile >= total:
                break
            top += tile
    finally:
        outer.evaluate("e => { e.scrollTop = 0; }")
        page.set_viewport_size(size)
    path.parent.mkdir(parents=True, exist_ok=True)
    if len(tiles) == 1:
        path.write_bytes(tiles[0][1])
        return
    images = [(top, Image.open(io.BytesIO(png))) for top, png in tiles]
    sheet = Image.new("RGB", (images[0][1].width, images[-1][0] + images[-1][1].height), "white")
    for top, image in images:
        sheet.paste(image, (0, top))
    sheet.save(path)


@pytest.fixture(scope="module")
def reader(browser, lab):
    return Reader(browser, lab)


# ---------------------------------------------------------------------------------------------------
# the tests


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_as_read(reader, notebook):
    """Images loaded, math typeset, no error/stderr output, links and anchors resolve; a screenshot saved."""
    path = f"notebooks/{notebook.name}"
    page = open_notebook(reader.browser, reader.base, path)
    try:
        found, seen = reader.problems(page, path)
        screenshot(page, SHOTS / f"{notebook.stem}.png")
        assert seen["cells"] == len(nbformat.read(notebook, as_version=4).cells)
        assert not found, f"{notebook.name} as JupyterLab shows it:\n  " + "\n  ".join(found)
    finally:
        page.close()


def explorer_cells(notebook: Path) -> list[int]:
    """Indices of the cells whose saved output is a widget (an explorer)."""
    nb = nbformat.read(notebook, as_version=4)
    return [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
            and any(WIDGET_MIME in output.get("data", {}) for output in cell.get("outputs", []))]


def run_all_cells(page, timeout: float = 300.0) -> None:
    """Run > Run All Cells, as a reader does, and wait until the kernel is idle again."""
    page.wait_for_selector(IDLE, timeout=120_000)  # the kernel has started
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
    # every code cell has its execution count (no "[*]" left), then the kernel is idle
    page.wait_for_function(
        f"() => [...document.querySelectorAll('{NOTEBOOK} .jp-CodeCell .jp-InputPrompt')].every("
        "p => /\\[\\d+\\]/.test(p.textContent))", timeout=timeout * 1000)
    page.wait_for_selector(IDLE, timeout=timeout * 1000)


def move_a_slider(page, cell) -> str:
    """Press ArrowRight (then ArrowLeft) on each slider of the explorer in `cell` until its image changes.

    Returns what happened, for the assertion message; '' when the image changed.
    """
    image = cell.locator(".widget-image").first
    image.wait_for(timeout=60_000)
    status = cell.locator(".widget-html").nth(1)  # the Explorer's title, then its status line
    handles = cell.locator(".noUi-handle")
    tried = []
    for k in range(handles.count()):
        for key in ("ArrowRight", "ArrowLeft", "ArrowLeft"):
            before, said = image.get_attribute("src"), status.inner_text()
            handles.nth(k).focus()
            page.keyboard.press(key)
            try:
                page.wait_for_function(
                    "([img, src, st, said]) => img.getAttribute('src') !== src || st.innerText !== said",
                    arg=[image.element_handle(), before, status.element_handle(), said], timeout=30_000)
            except Exception:  # noqa: BLE001 - nothing changed within the time: say so below
                pass
            value = handles.nth(k).get_attribute("aria-valuenow")
            if image.get_attribute("src") != before:
                return ""
            tried.append(f"slider {k} {key} -> {value}: figure unchanged, status {status.inner_text()!r}")
    return "; ".join(tried) or "no slider found"


def check_explorer(page, notebook: Path) -> None:
    cells = explorer_cells(notebook)
    assert cells, f"{notebook.name} has no explorer output saved"
    run_all_cells(page)
    settle(page)
    seen = collect(page)
    bad = [f"cell {o['cell']}: {o['text']}" for o in seen["stderr"] + seen["errors"] + seen["widgetErrors"]]
    assert not bad, f"{notebook.name} run in JupyterLab printed errors:\n  " + "\n  ".join(bad)
    cell = page.locator(f"{NOTEBOOK} .jp-Cell").nth(cells[0])
    assert cell.locator(".widget-image").count() == 1, f"cell {cells[0]} of {notebook.name} shows no explorer"
    status = cell.locator(".widget-html").nth(1).inner_text()
    assert status == "", f"the explorer of {notebook.name} starts with an error: {status}"
    failed = move_a_slider(page, cell)
    assert not failed, f"the explorer in cell {cells[0]} of {notebook.name} does not respond: {failed}"


def test_explorer_responds(reader):
    """Run the explorer notebook from a fresh kernel in the browser; a slider moved changes the figure."""
    with_explorer = [nb for nb in NOTEBOOKS if explorer_cells(nb)]
    assert with_explorer, "no notebook shows an explorer (an ipywidgets output saved in the notebook)"
    notebook = next((nb for nb in with_explorer if nb.name == EXPLORER_NOTEBOOK), with_explorer[0])
    page = open_notebook(reader.browser, reader.base, f"notebooks/{notebook.name}")
    try:
        check_explorer(page, notebook)
        screenshot(page, SHOTS / f"{notebook.stem}_running.png")
    finally:
        page.close()  # without saving: autosave is off for this server


# a notebook built to fail every check, to catch a check that silently stopped seeing anything
BAD_MARKDOWN = r"""# Broken on purpose
Good math $a^2 + b$, a TeX error $x^^2$, an undefined macro $\nosuchmacro x$.

Unbalanced braces leave the text raw: $\frac{1}{$ and so on.

Missing image: ![nothing](no_such_image.png). Present image: ![grid](../../figures/patch_grid.png)

[a missing notebook](no_such_notebook.ipynb), [a missing anchor](#No-such-heading),
[a notebook that exists](../../notebooks/00_overview.ipynb), [its missing anchor](../../notebooks/00_overview.ipynb#Nope),
[this heading](#Broken-on-purpose), [outside the root](../../../elsewhere.md)
"""
EXPLORER_SOURCE = """\
import ipywidgets as widgets
import matplotlib.pyplot as plt
from swin_edu.explorers import Explorer

def draw(k):
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1], [0, k])
    ax.set_ylim(0, 5)
    return fig

Explorer(draw, {"k": widgets.IntSlider(1, min=0, max=5, description="k")}, "check")"""


def bad_notebook() -> Path:
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                           "language": "python"}})
    stderr = nbformat.v4.new_output("stream", name="stderr", text="something went to stderr\n")
    error = nbformat.v4.new_output("error", ename="ValueError", evalue="an error output", traceback=["ValueError"])
    widget = nbformat.v4.new_output("display_data", data={WIDGET_MIME: {"model_id": "0" * 32, "version_major": 2,
                                                                         "version_minor": 0},
                                                          "text/plain": "check"})
    nb.cells = [nbformat.v4.new_markdown_cell(BAD_MARKDOWN),
                # the saved outputs are what the checks read; run again, these cells print nothing
                nbformat.v4.new_code_cell("# saved output: stderr", outputs=[stderr], execution_count=1),
                nbformat.v4.new_code_cell("# saved output: an error", outputs=[error], execution_count=2),
                nbformat.v4.new_code_cell(EXPLORER_SOURCE, outputs=[widget], execution_count=3),
                # a Going deeper heading not marked collapsed: its part shows on opening
                nbformat.v4.new_markdown_cell("## Going deeper\nOptional."),
                nbformat.v4.new_markdown_cell("### A detail\nShown, although it should be folded.")]
    path = CHECK_DIR / "broken_on_purpose.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def test_checks_see_what_is_broken(reader):
    """The checks flag each broken thing in a notebook built to fail, and the slider check works."""
    path = bad_notebook()
    rel = path.relative_to(ROOT).as_posix()
    page = open_notebook(reader.browser, reader.base, rel)
    try:
        found, _ = reader.problems(page, rel)
        report = "\n".join(found)
        expected = {
            "missing image": "image not loaded: ",
            "TeX error": "math error: Missing open brace for superscript: x^^2",
            "undefined macro": "math error: undefined macro in \\nosuchmacro",
            "unbalanced braces": "math left as raw text: $\\frac{1}{$",
            "stderr": "stderr or error output: something went to stderr",
            "error output": "stderr or error output: ValueError",
            "missing notebook": "no_such_notebook.ipynb does not exist",
            "missing anchor here": "no heading with id #No-such-heading in this notebook",
            "missing anchor elsewhere": "00_overview.ipynb has no heading with id #Nope",
            "outside the root": "elsewhere.md does not exist",
            "kernelspec display_name": "JupyterLab marks the notebook modified on opening",
            "explorer without its figure": "the explorer shows no figure before it is run, only ['text/plain']",
            "Going deeper not collapsed": "cell 5: in Going deeper but shown on opening (the heading is not collapsed)",
        }
        missed = [name for name, text in expected.items() if text not in report]
        assert not missed, f"the checks missed {missed}; they reported:\n{report}"
        # and nothing that is fine
        for fine in ("patch_grid.png", "[a notebook that exists]", "[this heading]", "$a^2"):
            assert fine not in report, f"{fine} is fine but was reported:\n{report}"
        # the same explorer machinery, on a figure that always changes with its slider
        run_all_cells(page, timeout=120)
        cell = page.locator(f"{NOTEBOOK} .jp-Cell").nth(3)
        failed = move_a_slider(page, cell)
        assert not failed, failed
        # the server saves nothing: Ctrl+S on the changed notebook leaves the file as it was
        saved = path.read_bytes()
        page.keyboard.press("Control+s")
        page.wait_for_timeout(1500)
        assert path.read_bytes() == saved, "the test's JupyterLab wrote a notebook"
    finally:
        page.close()
