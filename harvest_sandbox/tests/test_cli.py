"""``python -m harvest_sandbox`` prints the docs/CONTRACT.md lines, serves, and stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

CONTRACT_KEYS = [
    "HARVEST_SANDBOX_URL",
    "HARVEST_SANDBOX_ACCOUNT_ID",
    "HARVEST_SANDBOX_TOKEN_ADMINISTRATOR",
    "HARVEST_SANDBOX_TOKEN_MANAGER",
    "HARVEST_SANDBOX_TOKEN_MEMBER",
    "HARVEST_SANDBOX_OAUTH_CLIENT_ID",
    "HARVEST_SANDBOX_OAUTH_CLIENT_SECRET",
    "HARVEST_SANDBOX_OAUTH_REFRESH_TOKEN",
]


def test_given_port_0_when_cli_starts_then_prints_contract_lines_and_serves(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "harvest_sandbox", "--port", "0", "--seed", "42", "--dataset", "tiny"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline().rstrip("\n") for _ in CONTRACT_KEYS]
        values = dict(line.split("=", 1) for line in lines)

        assert [line.split("=", 1)[0] for line in lines] == CONTRACT_KEYS
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", values["HARVEST_SANDBOX_URL"])
        assert values["HARVEST_SANDBOX_ACCOUNT_ID"].isdigit()
        request = urllib.request.Request(
            values["HARVEST_SANDBOX_URL"] + "/v2/clients?per_page=2",
            headers={
                "Authorization": "Bearer " + values["HARVEST_SANDBOX_TOKEN_ADMINISTRATOR"],
                "Harvest-Account-Id": values["HARVEST_SANDBOX_ACCOUNT_ID"],
                "User-Agent": "cli-test (https://example.com)",
            },
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            page = json.loads(response.read())
        assert len(page["clients"]) == 2
        assert page["links"]["next"].startswith(values["HARVEST_SANDBOX_URL"] + "/v2/clients?cursor=")
    finally:
        process.terminate()
        code = process.wait(timeout=10)
    assert code == 0, process.stderr.read() if process.stderr else ""


def test_given_dump_flag_when_run_then_dataset_file_loads_back(tmp_path: Path) -> None:
    target = tmp_path / "tiny.json"
    subprocess.run(
        [sys.executable, "-m", "harvest_sandbox", "--seed", "42", "--dataset", "tiny", "--dump", str(target)],
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    from harvest_sandbox import SandboxServer

    with SandboxServer(dataset=str(target), rate_limits=False) as server:
        ids = [
            r["id"]
            for r in server.store.list(
                "invoice_messages",
                parent_id=server.store.parent_of(
                    "invoice_messages", server.store.iter_records("invoice_messages")[0]["id"]
                ),
            )
        ]
        assert ids
        assert server.account_id == json.loads(target.read_text())["account_id"].__str__()
