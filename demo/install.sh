#!/usr/bin/env bash
# Create the PyAirbyte venv used by `make demo` and `make sync` (and by unit_tests/demo): .venv-demo.
#
# Idempotent: does nothing when the venv is installed and demo/requirements.txt has not changed since.
# Environment: PYTHON (interpreter, default python3; 3.10-3.12), DEMO_VENV (default .venv-demo).
# Takes a few minutes and ~800 MB the first time.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON="${PYTHON:-python3}"
VENV="${DEMO_VENV:-.venv-demo}"
REQUIREMENTS=demo/requirements.txt
STAMP="$VENV/.installed"

if [[ -f "$STAMP" && "$STAMP" -nt "$REQUIREMENTS" && -x "$VENV/bin/python" ]]; then
    exit 0
fi

echo "Installing PyAirbyte into $VENV (a few minutes, ~800 MB, once) ..."
rm -f "$STAMP"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet -r "$REQUIREMENTS"
DO_NOT_TRACK=1 AIRBYTE_OFFLINE_MODE=1 "$VENV/bin/python" -W ignore -c \
    "import airbyte, duckdb; from importlib.metadata import version; print('PyAirbyte', version('airbyte'), 'ready in $VENV')"
touch "$STAMP"
