"""Same seed, same bytes; different seed, different data."""

from __future__ import annotations

import json

import requests

from harvest_sandbox import SandboxServer
from harvest_sandbox.clock import REFERENCE_ANCHOR
from harvest_sandbox.datagen import generate


def _page(server: SandboxServer, path: str) -> bytes:
    headers = {**server.headers(), "Host": "sandbox.test"}
    return requests.get(server.url + path, headers=headers, timeout=10).content


def test_given_same_seed_and_anchor_when_generating_twice_then_identical_datasets() -> None:
    first, second = generate(42, "tiny", REFERENCE_ANCHOR), generate(42, "tiny", REFERENCE_ANCHOR)

    assert json.dumps(first.collections) == json.dumps(second.collections)
    assert first.tokens == second.tokens and first.account_id == second.account_id


def test_given_different_seed_when_generating_then_data_differs() -> None:
    first, other = generate(42, "tiny", REFERENCE_ANCHOR), generate(43, "tiny", REFERENCE_ANCHOR)

    assert json.dumps(first.collections) != json.dumps(other.collections)


def test_given_two_servers_with_same_seed_and_anchor_when_reading_a_page_then_same_bytes(
    sandbox: SandboxServer,
) -> None:
    path = "/v2/time_entries?per_page=25&page=2"
    with SandboxServer(seed=42, dataset="tiny", anchor=sandbox.store.dataset.anchor, rate_limits=False) as other:
        assert _page(other, path) == _page(sandbox, path)
        assert b"http://sandbox.test/v2/time_entries?page=3&per_page=25" in _page(other, path)


def test_given_other_seed_when_reading_a_page_then_bytes_differ(sandbox: SandboxServer) -> None:
    with SandboxServer(seed=7, dataset="tiny", rate_limits=False) as other:
        assert _page(other, "/v2/clients") != _page(sandbox, "/v2/clients")


def test_given_small_dataset_then_sizes_match_the_demo_profile() -> None:
    dataset = generate(42, "small", REFERENCE_ANCHOR)
    sizes = {name: len(records) for name, records in dataset.collections.items()}

    assert sizes["users"] == 20 and sizes["clients"] == 30 and sizes["projects"] == 60
    assert sizes["time_entries"] == 5000 and sizes["invoices"] == 300 and sizes["expenses"] == 1000
    years = {e["spent_date"][:4] for e in dataset.collections["time_entries"]}
    assert len(years) >= 4
