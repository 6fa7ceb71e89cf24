# source-harvest: every task creates the virtual environment it needs first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv test lint typecheck unit demo sync bench sandbox schemas docs clean

venv: $(STAMP)

## uv installs the same packages from the same index (PyPI) several times faster than pip.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet uv
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e ".[dev]"
	touch $(STAMP)

## pytest workers (pytest-xdist; each test file runs on one worker, see pyproject.toml and conftest.py). More workers
## than the 2 cores this is sized for: the end-to-end tests spend much of their time waiting (on rate limits, injected
## faults, the connector's start-up in another process), and each worker has its own sandbox on a free port.
TEST_WORKERS ?= 4

## The whole test suite: lint, type checks, unit, sandbox and end-to-end tests.
test: venv lint typecheck
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS)

unit: venv
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) -m "not e2e"

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy components.py harvest_sandbox source_harvest

## Regenerate the streams tables of README.md and docs/harvest.md from the connector.
docs: venv
	$(BIN)/python scripts/docs_tables.py

## Regenerate manifest.yaml's `schemas:` block from schemas/*.json.
schemas: venv
	$(BIN)/python scripts/sync_schemas.py

## Run the Harvest sandbox in the foreground (small dataset).
sandbox: venv
	$(BIN)/python -m harvest_sandbox --port 8765 --seed 42 --dataset small

## PyAirbyte's own venv for `make demo` and `make sync` (demo/install.sh): airbyte 0.71.3 pins older versions of
## packages the connector's .venv uses, so it lives apart. A few minutes and ~800 MB the first time.
DEMO_VENV := .venv-demo
DEMO_ARGS ?=
.PHONY: demo-venv
demo-venv:
	PYTHON=$(PYTHON) DEMO_VENV=$(DEMO_VENV) bash demo/install.sh

## The demo: starts the sandbox (small dataset), full sync of all streams into demo-data/harvest-demo.duckdb
## through PyAirbyte, changes records, incremental sync, then a per-stream table and a SQL answer.
demo: venv demo-venv
	$(DEMO_VENV)/bin/python -m demo.harvest_demo --dataset small $(DEMO_ARGS)

## Sync a real account (or any host the config's api_url names) into demo-data/harvest-<account_id>.duckdb;
## every run after the first is incremental. Usage: make sync CONFIG=path/to/config.json
sync: venv demo-venv
	@if [ -z "$(CONFIG)" ]; then echo "usage: make sync CONFIG=path/to/config.json (see demo/README.md)" >&2; exit 2; fi
	$(DEMO_VENV)/bin/python -m demo.harvest_demo --config "$(CONFIG)" $(DEMO_ARGS)

clean:
	rm -rf $(VENV) .venv-demo .mypy_cache .ruff_cache build dist .tmp

## The benchmark (bench/README.md): syncs against the sandbox, compared with Harvest's rate-limit floor and the
## minimum number of requests, with BASELINE's connector (a git ref; 9b598ff is 2.1.0) beside the checkout on the
## same data: CPU, peak RSS, wall time over the floor and the requests per route of both. Quick by default (tiny and
## small unthrottled, one run each; small rate-limited with windows x0.25; about 3 minutes); FULL=1 runs every
## size, 3 alternated runs each, and small to large (~200k time entries) under Harvest's real limits (40-45 minutes).
## BASELINE= measures the checkout alone. Extra options: BENCH_ARGS="--help".
FULL ?=
BASELINE ?= 9b598ff
BENCH_ARGS ?=
BENCH_STAMP := $(VENV)/.bench-installed
$(BENCH_STAMP): $(STAMP)
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e ".[dev,bench]"
	touch $(BENCH_STAMP)

bench: venv $(BENCH_STAMP)
	$(BIN)/python -m bench $(if $(FULL),--full,--repeat 1) $(if $(BASELINE),--baseline $(BASELINE)) $(BENCH_ARGS)
