"""COVERAGE.md is generated from the OpenAPI extract and the routing table; it must not go stale."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SPEC = Path("/work/shared/harvest-api/harvest-openapi.yaml")


def test_given_routing_table_when_checking_coverage_md_then_it_is_up_to_date() -> None:
    result = subprocess.run(
        [sys.executable, "scripts/sandbox_coverage.py", "--check"], cwd=ROOT, capture_output=True, text=True
    )

    assert result.returncode == 0, result.stderr


@pytest.mark.skipif(not SPEC.exists(), reason="the OpenAPI file is not available on this machine")
def test_given_openapi_file_when_extracting_then_extract_is_up_to_date() -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import sandbox_coverage
    finally:
        sys.path.pop(0)

    assert sandbox_coverage.extract(SPEC) == json.loads(
        (ROOT / "harvest_sandbox/data/openapi_endpoints.json").read_text()
    )
