#!/usr/bin/env bash
# Create the PyAirbyte venv used by `make demo` and `make sync` (and by unit_tests/demo): .venv-demo.
#
# Idempotent: does nothing when the venv is installed and demo/requirements.txt has not changed since.
# Environment: PYTHON (interpreter, default python3; 3.10-3.12), DEMO_VENV (default .venv-demo),
# UV (the installer, default .venv/bin/uv, which `make venv` installs; pip when there is no uv).
# About 800 MB; with uv under a minute the first time (pip takes a few minutes).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON="${PYTHON:-python3}"
VENV="${DEMO_VENV:-.venv-demo}"
UV="${UV:-.venv/bin/uv}"
REQUIREMENTS=demo/requirements.txt
STAMP="$VENV/.installed"

if [[ -f "$STAMP" && "$STAMP" -nt "$REQUIREMENTS" && -x "$VENV/bin/python" ]]; then
    exit 0
fi

echo "Installing PyAirbyte into $VENV (~800 MB, once) ..."
rm -f "$STAMP"
"$PYTHON" -m venv "$VENV"
if [[ -x "$UV" ]]; then
    # uv resolves and unpacks several times faster than pip, from the same index (PyPI).
    "$UV" pip install --quiet --python "$VENV/bin/python" -r "$REQUIREMENTS"
else
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet -r "$REQUIREMENTS"
fi
DO_NOT_TRACK=1 AIRBYTE_OFFLINE_MODE=1 "$VENV/bin/python" -W ignore -c \
    "import airbyte, duckdb; from importlib.metadata import version; print('PyAirbyte', version('airbyte'), 'ready in $VENV')"
touch "$STAMP"
