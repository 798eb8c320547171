# make lab   : create .venv if missing, install swin_edu with its dev extras, open JupyterLab on notebooks/
#              (make lab PORT=8899 to choose the port)
#              (the repo root is served, so links from the notebooks to ../figures and ../README.md open)
# make test  : the same set-up, then all tests (unit tests + every notebook executed by nbval
#              + every notebook opened in JupyterLab in Chromium, skipped without Chromium); what CI runs
# make check : the fast loop while working: the unit tests without nbval, the browser and the slow
#              tests (trainings, nbgrader, notebooks re-run with other values)
# make stats : each notebook's main-line words against its budget, reading and running time
# make browser-deps: install what that browser test needs (Debian's chromium via apt, playwright via pip)
# make book  : the README, notebooks 00-07 and the homework (student versions) as a static site, build/book/html/
#              (from the committed outputs, nothing executed; installs the `book` extra; prints the build time)
# make figures: regenerate figures/
# make notebooks: re-execute and save every notebook (after changing the package)
# make homework: execute the exercise notebooks, generate the student version with nbgrader, execute it
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# how `make lab` starts JupyterLab; tests/test_browser.py reads this line and starts it the same way
LAB_ARGS ?= --ServerApp.root_dir=. --ServerApp.ip=127.0.0.1 --LabApp.default_url=/lab/tree/notebooks

.PHONY: lab test check stats figures bench notebooks homework clean browser-deps

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -e '.[dev]'
	touch $@

lab: $(VENV)/.installed
	$(VENV)/bin/jupyter lab $(LAB_ARGS) $(if $(PORT),--ServerApp.port=$(PORT))

# Chromium from Debian (apt-get, through sudo when not root) and the `browser` extra (playwright).
browser-deps: $(VENV)/.installed
	@if [ -x /usr/bin/chromium ]; then echo "chromium: $$(/usr/bin/chromium --version 2>/dev/null)"; \
	else SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; fi
	$(PY) -c "import playwright.sync_api" 2>/dev/null || $(PY) -m pip install -e '.[browser]'

# the `book` extra (Sphinx, myst-nb, the book theme, MathJax), then book/build.py
.PHONY: book
book: $(VENV)/.installed
	$(PY) -c "import myst_nb, sphinx_book_theme, importlib.util as u; assert u.find_spec('sphinx-mathjax-offline')" \
	  2>/dev/null || $(PY) -m pip install -e '.[book]'
	$(PY) book/build.py

test: $(VENV)/.installed
	$(PY) -m pytest

# one torch thread: the unit tests' tensors are small, and two threads per process spin against each other
# (and against anything else running) on a 2-core laptop: 87 s instead of 163 s here, under the same load
check: $(VENV)/.installed
	OMP_NUM_THREADS=1 $(PY) -m pytest tests -o addopts="-p no:cacheprovider" -m "not slow and not browser" -q

stats:
	$(PYTHON) scripts/notebook_stats.py --check

figures: $(VENV)/.installed
	$(PY) -m swin_edu.figures

bench: $(VENV)/.installed
	$(PY) -m swin_edu.bench

clean:
	rm -rf $(VENV) build *.egg-info

notebooks: $(VENV)/.installed
	$(PY) scripts/run_notebooks.py

homework: $(VENV)/.installed
	$(PY) scripts/make_homework.py

# make gpu-data: copy the CIFAR-10 strips of ../shared/data/cifar10 into gpu_data/ (git-ignored) for scripts/gpu_run.sh
# make gpu-run : the three steps of the GPU run on a machine with one CUDA GPU, into results/gpu-<date>/
SHARED_CIFAR ?= ../shared/data/cifar10
GPU_OUT ?= results/gpu-$(shell date -u +%F)
.PHONY: gpu-data gpu-run

gpu-data:
	mkdir -p gpu_data
	cp -r $(SHARED_CIFAR)/part1 $(SHARED_CIFAR)/part2 $(SHARED_CIFAR)/part3 $(SHARED_CIFAR)/build.py gpu_data/
	# the commit the run records (run.json, env.txt): the GPU machine gets the working tree without .git
	echo "$$(git rev-parse --short HEAD)$$(git diff --quiet HEAD -- swin_edu scripts || echo '+local changes')" > gpu_data/commit.txt

gpu-run:
	bash scripts/gpu_run.sh all $(GPU_OUT)
