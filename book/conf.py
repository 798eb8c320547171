"""Sphinx configuration of the book: `make book` (book/build.py) builds README.md, notebooks 00-07 and the
homework's student versions into build/book/, from the outputs committed in the notebooks (never executed).

The source folder is the repo root, so that the README's and the notebooks' relative links (to each
other, to figures/) resolve as they do on GitHub and in JupyterLab; only the files of
`include_patterns` are read. What the book adds to the notebooks (Going deeper folded, the reading and
running times, the line under each explorer's figure, MathJax carried by the site, the navigation) is
in book/swin_book.py.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # swin_book

project = "swin-edu"
author = "the swin-edu authors"
copyright = "the swin-edu authors, MIT license"
html_title = "swin-edu: the Swin Transformer, built cell by cell"

extensions = ["myst_nb", "sphinx.ext.githubpages", "swin_book"]  # githubpages: .nojekyll, for GitHub Pages

root_doc = "README"
include_patterns = ["README.md", "notebooks/0[0-7]_*.ipynb", "notebooks/homework/release/swin/*.ipynb"]
# not even walked into
exclude_patterns = [".*", "build", "data", "results", "gpu_data", "swin_edu", "*.egg-info", "tests", "scripts",
                    "figures", "book", "notebooks/checkpoints", "notebooks/homework/source", "node_modules"]

# the notebooks as committed: their saved outputs, never run
nb_execution_mode = "off"
# an explorer's output is an ipywidgets view (live only with a kernel) plus the saved image/png of its
# starting values: the book shows the image (swin_book adds the line saying where the live one is),
# and loads no widget JavaScript (which would come from a CDN)
nb_mime_priority_overrides = [("html", "application/vnd.jupyter.widget-view+json", None)]
nb_ipywidgets_js = {}
nb_output_stderr = "warn"  # a notebook committed with stderr output is a warning, so `make book` fails

myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3  # GitHub's heading anchors, which the README's #links use
myst_dmath_double_inline = True

html_theme = "sphinx_book_theme"
html_theme_options = {
    "home_page_in_toc": True,
    "show_navbar_depth": 1,
    "show_toc_level": 2,
    "use_download_button": True,  # the page's source: the .ipynb itself, to open in JupyterLab
    "use_fullscreen_button": False,
}
html_static_path = ["_static"]
html_css_files = ["book.css"]
html_js_files = ["book.js"]
html_last_updated_fmt = None
html_show_sourcelink = False
html_copy_source = True  # the download button's .ipynb

# MathJax 3 from the site itself (swin_book copies it from the sphinx-mathjax-offline package): no CDN
mathjax_path = "mathjax/tex-chtml.js"
