# source-harvest: every task creates the virtual environment it needs first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv test lint typecheck unit demo sync bench sandbox schemas clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

## The whole test suite: lint, type checks, unit, sandbox and end-to-end tests.
test: venv lint typecheck
	$(BIN)/python -m pytest -q

unit: venv
	$(BIN)/python -m pytest -q -m "not e2e"

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy components.py harvest_sandbox source_harvest

## Regenerate manifest.yaml's `schemas:` block from schemas/*.json.
schemas: venv
	$(BIN)/python scripts/sync_schemas.py

## Run the Harvest sandbox in the foreground (small dataset).
sandbox: venv
	$(BIN)/python -m harvest_sandbox --port 8765 --seed 42 --dataset small

clean:
	rm -rf $(VENV) .venv-demo .mypy_cache .ruff_cache build dist .tmp
