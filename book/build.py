"""Build the book: `make book` (or `python book/build.py [OUT]`), into build/book/ by default.

The site is OUT/html (open OUT/html/index.html, or publish that folder); Sphinx's doctrees and
myst-nb's extracted outputs go beside it. Built from scratch every time, from the notebooks' committed
outputs (nothing is executed), with every Sphinx warning an error: a broken link between pages, a
missing image or a notebook saved with stderr output fails the build.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def build(out: Path) -> Path:
    """Build the site into out/html and return that folder; raises CalledProcessError on a warning."""
    shutil.rmtree(out, ignore_errors=True)
    command = [sys.executable, "-m", "sphinx", "-b", "html", "-c", str(ROOT / "book"), "-d", str(out / "doctrees"),
               "-W", "--keep-going", "-q", "-j", "auto", str(ROOT), str(out / "html")]
    try:
        subprocess.run(command, check=True, cwd=ROOT)
    except subprocess.CalledProcessError:
        # Sphinx wrote the pages despite the warnings: no front door, so that nothing takes them for a book
        (out / "html" / "index.html").unlink(missing_ok=True)
        raise
    return out / "html"


def size(folder: Path) -> str:
    total = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
    return f"{total / 2**20:.0f} MiB"


if __name__ == "__main__":
    out = Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else ROOT / "build" / "book"
    start = time.monotonic()
    try:
        site = build(out)
    except subprocess.CalledProcessError:
        sys.exit("the book did not build: see the warnings above (every warning fails the build)")
    print(f"book built in {time.monotonic() - start:.0f} s: {site / 'index.html'} ({size(site)})")
