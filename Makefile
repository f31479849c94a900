# reactive-notebook: `make test` and `make run` work on a fresh machine with Python 3.11+.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

# make run: JupyterLab with the extension, on 127.0.0.1:$(PORT), notebooks in $(NOTEBOOKS_DIR).
PORT ?= 8888
NOTEBOOKS_DIR ?= notebooks
# Empty: Jupyter makes up a token and prints the URL with it. Set it for a fixed one.
TOKEN ?=
# More options for `jupyter lab`, e.g. LAB_ARGS='--MappingKernelManager.cull_idle_timeout=3600'
LAB_ARGS ?=
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: test lint typecheck unit bench run labextension clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "reactive-notebook needs Python 3.11+; $(PYTHON) is older (try PYTHON=python3.12)" >&2; exit 1; }
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
	$(BIN)/python bench/bench_server.py

## labextension: build the JupyterLab front end into the package (issue 6 fills this in;
## there is nothing to build yet). `make run` builds it first.
labextension: $(STAMP)

## run: JupyterLab with the extension on http://127.0.0.1:$(PORT)/lab (Jupyter token auth),
## notebooks kept in $(NOTEBOOKS_DIR)/ (created if missing), saved atomically
run: $(STAMP) labextension
	@mkdir -p "$(NOTEBOOKS_DIR)"
	@echo "reactive-notebook: JupyterLab on http://127.0.0.1:$(PORT)/lab" \
	  "with notebooks in $$(cd "$(NOTEBOOKS_DIR)" && pwd)"
	@echo "  REST API: http://127.0.0.1:$(PORT)/reactive/api/v1 (header 'Authorization: token <token>')"
	@if [ -n "$(TOKEN)" ]; then echo "  token: the one given as TOKEN"; \
	 else echo "  token: in the URL Jupyter prints below (.../lab?token=...); also $(BIN)/jupyter server list"; fi
	@echo "  stop with Ctrl-C"
	$(BIN)/jupyter lab $(ROOT_FLAG) --no-browser \
	  --ServerApp.ip=127.0.0.1 --ServerApp.port=$(PORT) --ServerApp.port_retries=0 \
	  --ServerApp.root_dir="$(NOTEBOOKS_DIR)" \
	  --ServerApp.contents_manager_class=reactive_notebook.contents.atomic.AtomicFileContentsManager \
	  --ServerApp.allow_unauthenticated_access=False \
	  $(if $(TOKEN),--IdentityProvider.token="$(TOKEN)") $(LAB_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage htmlcov
