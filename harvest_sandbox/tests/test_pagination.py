"""Both pagination forms walk every record exactly once, with Harvest's envelope and links."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from harvest_sandbox import SandboxServer
from harvest_sandbox.tests.client import api, iso_window, last_year, records, walk

CURSOR_LISTS = [
    ("/v2/clients", "clients"),
    ("/v2/contacts", "contacts"),
    ("/v2/projects", "projects"),
    ("/v2/tasks", "tasks"),
    ("/v2/roles", "roles"),
    ("/v2/users", "users"),
    ("/v2/task_assignments", "task_assignments"),
    ("/v2/user_assignments", "user_assignments"),
    ("/v2/expense_categories", "expense_categories"),
    ("/v2/invoice_item_categories", "invoice_item_categories"),
    ("/v2/estimate_item_categories", "estimate_item_categories"),
]
PAGE_LISTS = [
    ("/v2/time_entries", "time_entries"),
    ("/v2/expenses", "expenses"),
    ("/v2/invoices", "invoices"),
    ("/v2/estimates", "estimates"),
]


def _ids(items: list[dict[str, Any]]) -> list[int]:
    return [item["id"] for item in items]


def _query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


@pytest.mark.parametrize(("path", "key"), CURSOR_LISTS + PAGE_LISTS, ids=[p for p, _ in CURSOR_LISTS + PAGE_LISTS])
def test_given_small_per_page_when_following_links_then_every_record_is_seen_once(
    sandbox: SandboxServer, path: str, key: str
) -> None:
    pages = walk(sandbox, path, per_page=2)

    walked = _ids(records(pages, key))
    assert walked == _ids(sandbox.store.list(key))
    assert len(walked) == len(set(walked))
    assert walked == _ids(api(sandbox, path).json()[key])
    assert all(page["total_entries"] == len(walked) for page in pages)


@pytest.mark.parametrize(
    ("child", "key", "parent"),
    [
        ("invoices/{}/messages", "invoice_messages", "invoices"),
        ("invoices/{}/payments", "invoice_payments", "invoices"),
        ("estimates/{}/messages", "estimate_messages", "estimates"),
        ("users/{}/billable_rates", "billable_rates", "users"),
        ("users/{}/cost_rates", "cost_rates", "users"),
        ("users/{}/project_assignments", "project_assignments", "users"),
        ("projects/{}/user_assignments", "user_assignments", "projects"),
        ("projects/{}/task_assignments", "task_assignments", "projects"),
    ],
)
def test_given_child_endpoint_when_walking_every_parent_then_children_match_ground_truth(
    sandbox: SandboxServer, child: str, key: str, parent: str
) -> None:
    total = 0
    for parent_record in sandbox.store.iter_records(parent):
        pages = walk(sandbox, "/v2/" + child.format(parent_record["id"]), per_page=1)
        walked = _ids(records(pages, key))
        assert walked == _ids(sandbox.store.list(key, parent_id=parent_record["id"]))
        total += len(walked)
    assert total > 0


def test_given_cursor_endpoint_when_on_middle_page_then_page_numbers_are_null(sandbox: SandboxServer) -> None:
    pages = walk(sandbox, "/v2/user_assignments", per_page=5)

    assert len(pages) >= 3
    first, middle, last = pages[0], pages[1], pages[-1]
    assert (first["page"], first["next_page"], first["previous_page"]) == (1, 2, None)
    assert (middle["page"], middle["next_page"], middle["previous_page"]) == (None, None, None)
    assert last["page"] == last["total_pages"] and last["next_page"] is None
    assert middle["total_pages"] == first["total_pages"] and middle["total_entries"] == first["total_entries"]


def test_given_cursor_endpoint_when_reading_links_then_cursor_is_keyset_on_id(sandbox: SandboxServer) -> None:
    page = api(sandbox, "/v2/clients", per_page=2, is_active="true").json()

    links = page["links"]
    assert links["first"] == f"{sandbox.url}/v2/clients?is_active=true&page=1&per_page=2&ref=first"
    assert links["last"] == f"{sandbox.url}/v2/clients?is_active=true&page={page['total_pages']}&per_page=2&ref=last"
    assert links["previous"] is None
    query = _query(links["next"])
    assert list(query) == ["cursor", "is_active", "per_page", "ref"]
    assert query["ref"] == "next_cursor"
    decoded = json.loads(base64.urlsafe_b64decode(query["cursor"] + "=="))
    assert decoded == {"after": {"id": page["clients"][-1]["id"]}}
    second = api(sandbox, links["next"]).json()
    assert _query(second["links"]["previous"])["ref"] == "previous_cursor"
    assert _ids(api(sandbox, second["links"]["previous"]).json()["clients"]) == _ids(page["clients"])


def test_given_page_endpoint_when_reading_links_then_filters_are_kept_and_sorted(sandbox: SandboxServer) -> None:
    user_id = sandbox.users["member"]
    page = api(sandbox, "/v2/time_entries", per_page=2, user_id=user_id, is_billed="false").json()

    assert page["links"]["next"] == f"{sandbox.url}/v2/time_entries?is_billed=false&page=2&per_page=2&user_id={user_id}"
    assert page["links"]["first"].endswith("?is_billed=false&page=1&per_page=2&user_id=" + str(user_id))
    assert page["links"]["previous"] is None
    assert (page["page"], page["next_page"], page["previous_page"]) == (1, 2, None)


def test_given_no_per_page_when_listing_then_default_is_2000(sandbox: SandboxServer) -> None:
    page = api(sandbox, "/v2/time_entries").json()

    assert page["per_page"] == 2000 and page["total_pages"] == 1 and page["links"]["next"] is None


@pytest.mark.parametrize("per_page", ["2001", "0", "abc"])
def test_given_invalid_per_page_when_listing_then_422_with_message(sandbox: SandboxServer, per_page: str) -> None:
    response = api(sandbox, "/v2/clients", per_page=per_page)

    assert response.status_code == 422
    assert "message" in response.json()


def test_given_empty_result_when_listing_then_one_empty_page(sandbox: SandboxServer) -> None:
    page = api(sandbox, "/v2/time_entries", updated_since="2100-01-01T00:00:00Z").json()

    assert page["time_entries"] == []
    assert (page["total_pages"], page["total_entries"], page["page"], page["next_page"]) == (1, 0, 1, None)


def test_given_records_created_and_deleted_mid_walk_when_following_cursor_then_survivors_seen_once(
    sandbox: SandboxServer,
) -> None:
    before = _ids(sandbox.store.list("user_assignments"))
    first = api(sandbox, "/v2/user_assignments", per_page=4).json()
    doomed = before[10]
    sandbox.store.delete("user_assignments", doomed)
    sandbox.store.create("user_assignments", {})
    pages = [first, *walk(sandbox, first["links"]["next"], per_page=4)]

    walked = _ids(records(pages, "user_assignments"))
    assert walked == [i for i in before if i != doomed]


@pytest.mark.parametrize("path, key", PAGE_LISTS)
def test_given_a_record_deleted_between_two_page_requests_when_following_page_numbers_then_one_survivor_is_skipped(
    sandbox: SandboxServer, path: str, key: str
) -> None:
    # Page numbers are offsets into the list as it is when each page is asked for: a deletion on page 1 moves the
    # first record of page 2 onto page 1, already read, so a walk never lists it although it still exists. A
    # client that took "not listed" for "deleted" would be wrong; a GET of the record still answers it.
    before = _ids(sandbox.store.list(key))
    first = api(sandbox, path, per_page=4).json()
    sandbox.store.delete(key, before[0])
    pages = [first, *walk(sandbox, first["links"]["next"])]

    walked = _ids(records(pages, key))
    skipped = before[4]
    assert walked == [i for i in before if i != skipped]
    assert api(sandbox, f"{path}/{skipped}").status_code == 200
    assert api(sandbox, f"{path}/{before[0]}").json() == {"status": 404, "error": "Not Found"}


def test_given_my_project_assignments_when_paging_then_links_point_at_numeric_user(sandbox: SandboxServer) -> None:
    me = sandbox.users["member"]
    page = api(sandbox, "/v2/users/me/project_assignments", "member", per_page=1).json()

    assert page["links"]["next"] == f"{sandbox.url}/v2/users/{me}/project_assignments?page=2&per_page=1"
    assert page["total_entries"] >= 2


def test_given_report_when_paging_then_results_are_page_numbered(sandbox: SandboxServer) -> None:
    window = last_year(sandbox)
    pages = walk(sandbox, "/v2/reports/time/tasks", per_page=1, **window)

    rows = records(pages, "results")
    iso = iso_window(window)
    assert rows == sandbox.store.report("time/tasks", from_=iso["from"], to=iso["to"])
    assert len(pages) == len(rows) > 1
    assert f"from={window['from']}" in pages[0]["links"]["next"] and "page=2" in pages[0]["links"]["next"]
