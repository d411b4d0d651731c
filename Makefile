# One virtual environment in .venv; every target installs what it needs from pyproject.toml.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-slow lint bench paper clean

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

lint: $(STAMP)
	$(BIN)/ruff check simrank tests benchmarks
	$(BIN)/ruff format --check simrank tests benchmarks

test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow || [ $$? -eq 5 ]  # 5 = no slow tests collected

# Prediction experiments whose results/paper/ tables are missing, figures/, and paper/paper.md's generated blocks.
paper: $(STAMP)
	$(BIN)/simrank figures
	$(BIN)/simrank paper

clean:
	rm -rf $(VENV) results
