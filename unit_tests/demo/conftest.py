"""The demo venv, installed once per test process (and once per test run: the install is locked, see
pyairbyte_venv.install_demo_venv)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyairbyte_venv import DEMO_PYTHON, install_demo_venv


@pytest.fixture(scope="session")
def demo_venv() -> Path:
    install_demo_venv()
    return DEMO_PYTHON
