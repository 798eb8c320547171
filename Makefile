# make lab   : create .venv if missing, install swin_edu with its dev extras, open JupyterLab on notebooks/
# make test  : the same set-up, then all tests (unit tests + every notebook executed by nbval)
# make figures: regenerate figures/
# make notebooks: re-execute and save every notebook (after changing the package)
# make homework: execute the exercise notebooks, generate the student version with nbgrader, execute it
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: lab test figures bench notebooks homework clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -e '.[dev]'
	touch $@

lab: $(VENV)/.installed
	$(VENV)/bin/jupyter lab notebooks/

test: $(VENV)/.installed
	$(PY) -m pytest

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
