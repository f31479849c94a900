# reactive-notebook: `make test` and `make run` work on a fresh machine with Python 3.11+.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# More pytest arguments, e.g. PYTEST_ARGS=tests/reactive. A run given some only reports
# coverage: the threshold (pyproject.toml) is for the whole suite.
PYTEST_ARGS ?=
# pytest processes (pytest-xdist, a test file per process at a time: module fixtures stay
# in one). Two fill a 2-core machine: a test spends most of its time waiting on a kernel
# or a server. 0 runs everything in one process (for a debugger or a single test).
PYTEST_WORKERS ?= 2
PYTEST_PARALLEL := $(if $(filter 0,$(PYTEST_WORKERS)),,-n $(PYTEST_WORKERS) --dist loadfile)

# make run: JupyterLab with the extension, on 127.0.0.1:$(PORT), notebooks in $(NOTEBOOKS_DIR).
PORT ?= 8888
NOTEBOOKS_DIR ?= notebooks
# Empty: Jupyter makes up a token and prints the URL with it. Set it for a fixed one.
TOKEN ?=
# More options for `jupyter lab`, e.g. LAB_ARGS='--MappingKernelManager.cull_idle_timeout=3600'
LAB_ARGS ?=
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)
# Where `make run` keeps notebooks: files (in $(NOTEBOOKS_DIR)) or dynamodb (a local moto
# server started for the run, table $(DYNAMODB_TABLE) on 127.0.0.1:$(MOTO_PORT), 0 = a free port).
STORAGE ?= files
DYNAMODB_TABLE ?= reactive-notebook-contents
MOTO_PORT ?= 0

.PHONY: test lint typecheck unit postgres chromium lint-ui test-ui bench run labextension clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "reactive-notebook needs Python 3.11+; $(PYTHON) is older (try PYTHON=python3.12)" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## test: install into the local virtualenv, lint, type-check and run the whole suite
## (the browser tests too)
test: lint typecheck test-ts unit test-ui

lint: $(STAMP)
	$(BIN)/ruff check reactive_notebook tests bench
	$(BIN)/ruff format --check reactive_notebook tests bench

typecheck: $(STAMP)
	$(BIN)/mypy reactive_notebook
	$(BIN)/mypy --strict reactive_notebook/reactive

## The API's contract tests run a second time with jupyter-collaboration's rooms loaded
## (open notebooks are room documents then; tests/rooms test the rooms themselves).
ROOMS_CONTRACT := tests/handlers/test_rest_cells.py tests/handlers/test_rest_notebooks.py \
  tests/handlers/test_websocket.py tests/handlers/test_ws_scenarios.py \
  tests/handlers/test_openapi.py

unit: $(STAMP) postgres upstream-tests
	$(BIN)/python -m pytest $(PYTEST_PARALLEL) --cov=reactive_notebook --cov-report=term \
	  $(if $(PYTEST_ARGS),--cov-fail-under=0) $(PYTEST_ARGS)
	$(if $(PYTEST_ARGS),,REACTIVE_TEST_ROOMS=1 $(BIN)/python -m pytest $(PYTEST_PARALLEL) -q \
	  -p no:cacheprovider $(ROOMS_CONTRACT))

## upstream-tests: jupyter_server's own contents tests (in its sdist; the wheel has none) for
## the installed version, from the package index like any dependency, into .cache/upstream;
## tests/contents/test_upstream_suite.py runs them on the DynamoDB manager. If the index
## has no sdist, that test is skipped and says why.
UPSTREAM_DIR := .cache/upstream
upstream-tests: $(STAMP)
	@v=$$($(BIN)/python -c 'import jupyter_server; print(jupyter_server.__version__)'); \
	 test -d "$(UPSTREAM_DIR)/jupyter_server-$$v/tests" || { mkdir -p "$(UPSTREAM_DIR)" && \
	   $(BIN)/python -m pip download --quiet --no-deps --no-binary :all: \
	     "jupyter_server==$$v" -d "$(UPSTREAM_DIR)" 2>/dev/null && \
	   tar xzf "$(UPSTREAM_DIR)/jupyter_server-$$v.tar.gz" -C "$(UPSTREAM_DIR)" || \
	   echo "upstream-tests: no sdist of jupyter_server $$v on the index (its contents tests are skipped)" >&2; }

## postgres: PostgreSQL's server programs, with which the tests start a throwaway server
## (tests/postgres.py). When neither $(PG_LIBDIR)/<version>/bin nor PATH has them, installs
## Debian's postgresql package (apt-get update only if the install fails without it).
PG_LIBDIR ?= /usr/lib/postgresql
APT_GET := env DEBIAN_FRONTEND=noninteractive apt-get -y -qq -o Dpkg::Use-Pty=0
postgres:
	@for bin in $(PG_LIBDIR)/*/bin; do \
	   [ -x "$$bin/initdb" ] && [ -x "$$bin/pg_ctl" ] && [ -x "$$bin/postgres" ] && exit 0; \
	 done; \
	 for program in initdb pg_ctl postgres; do command -v $$program >/dev/null || break; \
	   [ $$program = postgres ] && exit 0; done; \
	 command -v apt-get >/dev/null || { echo "PostgreSQL's server programs (initdb, pg_ctl," \
	   "postgres) are missing and there is no apt-get: install PostgreSQL" >&2; exit 1; }; \
	 sudo=; [ "$$(id -u)" = 0 ] || if sudo -n true 2>/dev/null; then sudo="sudo -n"; \
	   else echo "PostgreSQL is missing: sudo apt-get install postgresql" >&2; exit 1; fi; \
	 echo "Installing PostgreSQL for the SQL tests (apt-get install postgresql)"; \
	 log=$$(mktemp); \
	 $$sudo $(APT_GET) install --no-install-recommends postgresql >"$$log" 2>&1 || \
	 { $$sudo $(APT_GET) update >>"$$log" 2>&1 && \
	   $$sudo $(APT_GET) install --no-install-recommends postgresql >>"$$log" 2>&1; } || \
	 { cat "$$log" >&2; rm -f "$$log"; echo "Installing postgresql failed" >&2; exit 1; }; \
	 rm -f "$$log"

## chromium: the browser the UI tests drive (Debian's chromium package; no browser download).
## Installs it with apt when $(CHROMIUM) is missing (apt-get update only if the install fails
## without it); nothing when it is there.
CHROMIUM ?= /usr/bin/chromium
chromium:
	@[ -x "$(CHROMIUM)" ] && exit 0; \
	 command -v apt-get >/dev/null || { echo "$(CHROMIUM) is missing and there is no apt-get:" \
	   "install Chromium (or set CHROMIUM=/path/to/chromium)" >&2; exit 1; }; \
	 sudo=; [ "$$(id -u)" = 0 ] || if sudo -n true 2>/dev/null; then sudo="sudo -n"; \
	   else echo "Chromium is missing: sudo apt-get install chromium" >&2; exit 1; fi; \
	 echo "Installing Chromium for the UI tests (apt-get install chromium)"; \
	 log=$$(mktemp); \
	 $$sudo $(APT_GET) install --no-install-recommends chromium >"$$log" 2>&1 || \
	 { $$sudo $(APT_GET) update >>"$$log" 2>&1 && \
	   $$sudo $(APT_GET) install --no-install-recommends chromium >>"$$log" 2>&1; } || \
	 { cat "$$log" >&2; rm -f "$$log"; echo "Installing chromium failed" >&2; exit 1; }; \
	 rm -f "$$log"; [ -x "$(CHROMIUM)" ] || { echo "chromium installed but $(CHROMIUM) is" \
	   "missing (set CHROMIUM=)" >&2; exit 1; }

## test-ui: browser tests (tests/ui): a real `jupyter lab` on 127.0.0.1 with the extension,
## driven through playwright-core in Debian's headless Chromium (make chromium; no browser
## download). Screenshots of each step in test-artifacts/ui/<test>/. Needs Node.js 20+ and npm.
UI_DIR := tests/ui
UI_STAMP := $(UI_DIR)/node_modules/.installed
$(UI_STAMP): $(UI_DIR)/package.json $(UI_DIR)/package-lock.json
	@command -v npm >/dev/null || { echo "make test-ui needs Node.js 20+ and npm" >&2; exit 1; }
	cd $(UI_DIR) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

## lint-ui: the UI tests' own checks, no browser: eslint (tests/ui/eslint.config.mjs) and
## prettier --check of tests/ui, and that labextension/style/*.css take every colour from
## --jp-* variables (tests/ui/style-colours.test.mjs). make test-ui runs it first.
lint-ui: $(UI_STAMP)
	cd $(UI_DIR) && npx --no-install eslint . && npx --no-install prettier --check --log-level=warn . && \
	  node --test --test-reporter=spec style-colours.test.mjs lab-log.test.mjs

# node --test runs the two lanes (tests/ui/suite.mjs) at once, each in a process of its own
# with its own jupyter lab and Chromium; --test-timeout bounds each lane's whole file (its
# specs) as well as each test: it is the budget of the browser tests.
UI_TIMEOUT_MS ?= 480000
test-ui: lint-ui $(STAMP) labextension chromium $(UI_STAMP)
	rm -rf test-artifacts/ui
	cd $(UI_DIR) && CHROMIUM="$(CHROMIUM)" VENV="$(abspath $(VENV))" \
	  node --test --test-reporter=spec --test-concurrency=2 --test-timeout=$(UI_TIMEOUT_MS) \
	  lane-1.test.mjs lane-2.test.mjs

## bench: the speed figures recorded in bench/README.md
bench: $(STAMP) labextension chromium $(UI_STAMP)
	$(BIN)/python bench/bench_reactive.py
	$(BIN)/python bench/bench_kernel.py
	$(BIN)/python bench/bench_server.py
	$(BIN)/python bench/bench_sql.py
	$(BIN)/python bench/bench_agent.py
	$(BIN)/python bench/bench_outputs.py
	$(BIN)/python bench/bench_scale.py
	$(BIN)/python bench/bench_corpus.py
	$(BIN)/python bench/bench_rooms.py
	$(BIN)/python bench/bench_dynamodb.py
	CHROMIUM=$(CHROMIUM) VENV=$(VENV) node bench/ui_run_all.mjs

## labextension: build the JupyterLab front end (labextension/, TypeScript) into
## reactive_notebook/labextension/ (shipped in the wheel as shared data), only when its
## sources changed, and link it into the virtualenv's share/jupyter/labextensions so the
## editable install serves the fresh build. Needs Node.js 20+ and npm. `make run` builds it first.
LABEXT := labextension
LABEXT_OUT := reactive_notebook/labextension
LABEXT_NODE := $(LABEXT)/node_modules/.installed
LABEXT_BUILT := $(LABEXT)/.build-stamp
LABEXT_SOURCES := $(shell find $(LABEXT)/src $(LABEXT)/style $(LABEXT)/schema -type f \
  -not -path '*/__tests__/*' 2>/dev/null) $(addprefix $(LABEXT)/,package.json tsconfig.json)
LABEXT_LINK := $(VENV)/share/jupyter/labextensions/reactive-notebook

$(LABEXT_NODE): $(LABEXT)/package.json $(LABEXT)/package-lock.json
	@command -v npm >/dev/null || { echo "make labextension needs Node.js 20+ and npm" >&2; exit 1; }
	rm -rf $(LABEXT)/node_modules  # npm ci replaces it anyway, and trips over a partial one
	cd $(LABEXT) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(LABEXT_BUILT): $(LABEXT_SOURCES) $(LABEXT_NODE) $(if $(wildcard $(LABEXT_OUT)/package.json),,FORCE) | $(STAMP)
	cd $(LABEXT) && PATH="$(abspath $(BIN)):$$PATH" npm run --silent build
	touch $@

labextension: $(STAMP) $(LABEXT_BUILT)
	@if [ "$$(readlink $(LABEXT_LINK))" != "$(abspath $(LABEXT_OUT))" ]; then \
	   rm -rf $(LABEXT_LINK) && mkdir -p $(dir $(LABEXT_LINK)) && \
	   ln -s $(abspath $(LABEXT_OUT)) $(LABEXT_LINK); fi

## test-ts: the labextension's checks: tsc --noEmit (sources and tests), eslint,
## prettier --check and the jest unit tests of the client and model
test-ts: $(LABEXT_NODE)
	cd $(LABEXT) && npm run --silent typecheck && npx eslint src && \
	  npm run --silent prettier:check && npx jest --ci

.PHONY: test-ts FORCE
FORCE:

## run: JupyterLab with the extension on http://127.0.0.1:$(PORT)/lab (Jupyter token auth),
## notebooks kept in $(NOTEBOOKS_DIR)/ (created if missing), saved atomically.
## STORAGE=dynamodb: notebooks in DynamoDB instead, on a local moto server started on
## 127.0.0.1 for the run (dummy credentials, given to it and the server only), in a session
## of its own so Ctrl-C's confirmation prompt does not kill it, and stopped when the run ends; its table is created at first use and lives in memory: gone when the run stops
## (keep notebooks with `jupyter reactive-notebook copy dynamodb://TABLE FOLDER --endpoint-url ...`).
run: $(STAMP) labextension
ifeq ($(STORAGE),dynamodb)
	@set -u; port=$(MOTO_PORT); \
	 [ "$$port" != 0 ] || port=$$($(BIN)/python -c 'import socket as s; k = s.socket(); \
	   k.bind(("127.0.0.1", 0)); print(k.getsockname()[1])'); \
	 log="$${TMPDIR:-/tmp}/reactive-notebook-moto-$$port.log"; \
	 $(BIN)/python -c 'import os, sys; os.setsid(); os.execv(sys.executable, [sys.executable, \
	   "-m", "moto.server", "-H", "127.0.0.1", "-p", sys.argv[1]])' $$port >"$$log" 2>&1 & moto=$$!; \
	 trap 'kill $$moto 2>/dev/null; wait $$moto 2>/dev/null; echo "moto server stopped"' EXIT; \
	 trap 'exit 130' INT; trap 'exit 143' TERM HUP; \
	 for attempt in $$(seq 150); do \
	   (exec 3<>"/dev/tcp/127.0.0.1/$$port") 2>/dev/null && break; \
	   kill -0 $$moto 2>/dev/null && [ $$attempt != 150 ] || \
	     { echo "the moto server did not start on 127.0.0.1:$$port (see $$log)" >&2; exit 1; }; \
	   sleep 0.2; done; \
	 echo "reactive-notebook: JupyterLab on http://127.0.0.1:$(PORT)/lab with notebooks in" \
	   "DynamoDB table $(DYNAMODB_TABLE) of a local moto server, http://127.0.0.1:$$port" \
	   "(pid $$moto, log $$log)"; \
	 echo "  REST API: http://127.0.0.1:$(PORT)/reactive/api/v1 (header 'Authorization: token <token>')"; \
	 if [ -n "$(TOKEN)" ]; then echo "  token: the one given as TOKEN"; \
	 else echo "  token: in the URL Jupyter prints below (.../lab?token=...); also $(BIN)/jupyter server list"; fi; \
	 mkdir -p "$(NOTEBOOKS_DIR)"; echo "  kernels run in $$(cd "$(NOTEBOOKS_DIR)" && pwd)"; \
	 echo "  stop with Ctrl-C (the moto server and its tables go with it)"; \
	 env -u AWS_PROFILE -u AWS_SESSION_TOKEN -u AWS_ROLE_ARN -u AWS_WEB_IDENTITY_TOKEN_FILE \
	   AWS_ACCESS_KEY_ID=local-moto AWS_SECRET_ACCESS_KEY=local-moto \
	   AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true \
	 $(BIN)/jupyter lab $(ROOT_FLAG) --no-browser \
	  --ServerApp.ip=127.0.0.1 --ServerApp.port=$(PORT) --ServerApp.port_retries=0 \
	  --ServerApp.root_dir="$(NOTEBOOKS_DIR)" \
	  --ServerApp.contents_manager_class=reactive_notebook.contents.DynamoDBContentsManager \
	  --DynamoDBContentsManager.endpoint_url=http://127.0.0.1:$$port \
	  --DynamoDBContentsManager.region_name=us-east-1 \
	  --DynamoDBContentsManager.table_name="$(DYNAMODB_TABLE)" \
	  --DynamoDBContentsManager.create_table=True \
	  --FileIdExtension.file_id_manager_class=jupyter_server_fileid.manager.ArbitraryFileIdManager \
	  --ServerApp.allow_unauthenticated_access=False \
	  $(if $(TOKEN),--IdentityProvider.token="$(TOKEN)") $(LAB_ARGS)
else ifeq ($(STORAGE),files)
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
else
	@echo "STORAGE=$(STORAGE): use STORAGE=files (the default) or STORAGE=dynamodb" >&2; exit 2
endif

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage htmlcov
	rm -rf $(LABEXT)/node_modules $(LABEXT)/lib $(LABEXT)/tsconfig.tsbuildinfo \
	  $(LABEXT_BUILT) $(LABEXT_OUT)
