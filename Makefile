# reactive-notebook: `make test` and `make run` work on a fresh machine with Python 3.11+.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: test lint typecheck unit bench run clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## test: install into the local virtualenv, lint, type-check and run the whole suite
test: lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check reactive_notebook tests bench
	$(BIN)/ruff format --check reactive_notebook tests bench

typecheck: $(STAMP)
	$(BIN)/mypy reactive_notebook
	$(BIN)/mypy --strict reactive_notebook/reactive

unit: $(STAMP)
	$(BIN)/python -m pytest --cov=reactive_notebook --cov-report=term $(PYTEST_ARGS)

## bench: the speed figures recorded in bench/README.md
bench: $(STAMP)
	$(BIN)/python bench/bench_reactive.py
	$(BIN)/python bench/bench_kernel.py

## run: arrives with the server extension (issue 4)
run:
	@echo "make run arrives with the server extension (issue 4): nothing to launch yet." >&2
	@exit 1

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage htmlcov
