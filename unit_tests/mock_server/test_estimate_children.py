"""estimate_messages: children of estimates (design decision 8).

First sync: the messages of EVERY estimate. Later syncs: the messages of estimates updated since the last sync, plus
sent estimates (a client viewing a sent estimate adds a message but leaves the estimate alone); no draft list
(sending a draft stamps its `sent_at` and `updated_at`); each estimate's messages once; `parent_id` on each record.
"""

from __future__ import annotations

from collections import Counter

from airbyte_cdk.test.mock_http import HttpMocker

from .config import _A_START_DATE, ConfigBuilder
from .helpers import given_children, given_estimates, given_estimates_in_state, sent_requests
from .request_builder import HarvestRequest
from .source import read_streams, state_for

_STREAM = "estimate_messages"
_AN_ESTIMATE_ID = 1439818
_AN_OLD_ESTIMATE_ID = 1439814  # last updated before the start date
_A_SENT_ESTIMATE_ID = 1439900
_A_FORMER_DRAFT_ESTIMATE_ID = 1439950
_THE_EPOCH = "1970-01-01T00:00:00Z"
_CHILD_CURSOR_MINUS_LOOKBACK = "2024-01-31T23:59:00Z"


def _parent_ids(output: object) -> dict[int, int]:
    return {record.record.data["id"]: record.record.data["parent_id"] for record in output.records}  # type: ignore[attr-defined]


def _later_sync_state() -> list:  # type: ignore[type-arg]
    return state_for(
        _STREAM,
        {
            "use_global_cursor": True,
            "state": {"updated_at": "2024-02-01T00:00:00Z"},
            "lookback_window": 0,
            "parent_state": {"estimates": {"updated_at": "2024-01-15T00:00:00Z"}},
        },
    )


def test_given_first_sync_when_read_then_messages_of_every_estimate_are_read_with_their_estimate_id(
    http_mocker: HttpMocker,
) -> None:
    given_estimates(
        http_mocker,
        {_AN_ESTIMATE_ID: "2024-01-10T00:00:00Z", _AN_OLD_ESTIMATE_ID: "2016-05-01T00:00:00Z"},
        updated_since=_THE_EPOCH,
    )
    messages = HarvestRequest.estimate_messages
    given_children(http_mocker, _STREAM, messages(_AN_ESTIMATE_ID).with_updated_since(_A_START_DATE), [11, 12])
    given_children(http_mocker, _STREAM, messages(_AN_OLD_ESTIMATE_ID).with_updated_since(_A_START_DATE), [21])

    output = read_streams(ConfigBuilder().build(), _STREAM)

    assert _parent_ids(output) == {11: _AN_ESTIMATE_ID, 12: _AN_ESTIMATE_ID, 21: _AN_OLD_ESTIMATE_ID}
    assert not output.errors


def test_given_state_when_later_sync_then_messages_of_updated_and_sent_estimates_are_read_once_each_and_no_drafts(
    http_mocker: HttpMocker,
) -> None:
    # a draft sent since the last sync is updated (and now sent): it comes back from both lists, read once
    updated = [_AN_ESTIMATE_ID, _A_FORMER_DRAFT_ESTIMATE_ID]
    given_estimates(http_mocker, updated, updated_since="2024-01-14T23:59:00Z")
    given_estimates_in_state(http_mocker, "sent", [_A_SENT_ESTIMATE_ID, _A_FORMER_DRAFT_ESTIMATE_ID])
    messages = HarvestRequest.estimate_messages
    given_children(
        http_mocker, _STREAM, messages(_AN_ESTIMATE_ID).with_updated_since(_CHILD_CURSOR_MINUS_LOOKBACK), [11]
    )
    given_children(
        http_mocker, _STREAM, messages(_A_SENT_ESTIMATE_ID).with_updated_since(_CHILD_CURSOR_MINUS_LOOKBACK), [31]
    )
    given_children(
        http_mocker,
        _STREAM,
        messages(_A_FORMER_DRAFT_ESTIMATE_ID).with_updated_since(_CHILD_CURSOR_MINUS_LOOKBACK),
        [41],
    )

    output = read_streams(ConfigBuilder().build(), _STREAM, state=_later_sync_state())

    assert _parent_ids(output) == {11: _AN_ESTIMATE_ID, 31: _A_SENT_ESTIMATE_ID, 41: _A_FORMER_DRAFT_ESTIMATE_ID}
    assert not output.errors
    estimate_lists = sorted(r.query for r in sent_requests(http_mocker) if r.path == "/v2/estimates")
    assert estimate_lists == ["per_page=2000&state=sent", "per_page=2000&updated_since=2024-01-14t23%3a59%3a00z"]
    child_paths = Counter(request.path for request in sent_requests(http_mocker) if request.path.endswith("/messages"))
    assert set(child_paths.values()) == {1}, child_paths


def test_given_state_when_later_sync_and_nothing_changed_then_no_estimate_messages_are_requested(
    http_mocker: HttpMocker,
) -> None:
    given_estimates(http_mocker, [], updated_since="2024-01-14T23:59:00Z")
    given_estimates_in_state(http_mocker, "sent", [])

    output = read_streams(ConfigBuilder().build(), _STREAM, state=_later_sync_state())

    assert output.records == []
    assert not output.errors
