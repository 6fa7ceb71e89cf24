"""estimate_messages: children of estimates (design decision 8).

Every sync lists the estimates in full (no `updated_since`) and reads the picked estimates' messages in full. First
sync: the messages of EVERY estimate. Later syncs: the messages of estimates updated since the last sync, plus sent
estimates (a client viewing a sent estimate adds a message but leaves the estimate alone); no drafts (sending a draft
stamps its `sent_at` and `updated_at`); each estimate's messages once; `parent_id` on each record.
"""

from __future__ import annotations

from collections import Counter

from airbyte_cdk.test.mock_http import HttpMocker

from .config import ConfigBuilder
from .helpers import a_parent, child_state, given_children, given_estimates, given_parent_list, sent_requests
from .request_builder import HarvestRequest
from .source import read_streams, state_for

_STREAM = "estimate_messages"
_AN_ESTIMATE_ID = 1439818
_AN_OLD_ESTIMATE_ID = 1439814  # last updated before the start date
_A_SENT_ESTIMATE_ID = 1439900
_A_DRAFT_ESTIMATE_ID = 1439950
_AN_ACCEPTED_ESTIMATE_ID = 1439960
_UPDATED_SINCE_THE_PARENT_CURSOR = "2024-01-20T00:00:00Z"
_NOT_UPDATED_SINCE = "2023-06-01T00:00:00Z"


def _parent_ids(output: object) -> dict[int, int]:
    return {record.record.data["id"]: record.record.data["parent_id"] for record in output.records}  # type: ignore[attr-defined]


def _later_sync_state(known: dict[int, int]) -> list:  # type: ignore[type-arg]
    return state_for(_STREAM, child_state("estimates", "2024-02-01T00:00:00Z", known, "2024-01-15T00:00:00Z"))


def test_given_first_sync_when_read_then_messages_of_every_estimate_are_read_with_their_estimate_id(
    http_mocker: HttpMocker,
) -> None:
    given_estimates(http_mocker, {_AN_ESTIMATE_ID: "2024-01-10T00:00:00Z", _AN_OLD_ESTIMATE_ID: "2016-05-01T00:00:00Z"})
    messages = HarvestRequest.estimate_messages
    given_children(http_mocker, _STREAM, messages(_AN_ESTIMATE_ID), [11, 12])
    given_children(http_mocker, _STREAM, messages(_AN_OLD_ESTIMATE_ID), [21])

    output = read_streams(ConfigBuilder().build(), _STREAM)

    assert _parent_ids(output) == {11: _AN_ESTIMATE_ID, 12: _AN_ESTIMATE_ID, 21: _AN_OLD_ESTIMATE_ID}
    assert not output.errors


def test_given_state_when_later_sync_then_messages_of_updated_and_sent_estimates_are_read_once_each_and_no_drafts(
    http_mocker: HttpMocker,
) -> None:
    given_parent_list(
        http_mocker,
        "estimates",
        [
            a_parent("estimates", _AN_ESTIMATE_ID, _UPDATED_SINCE_THE_PARENT_CURSOR, "sent"),  # updated AND sent
            a_parent("estimates", _A_SENT_ESTIMATE_ID, _NOT_UPDATED_SINCE, "sent"),
            a_parent("estimates", _A_DRAFT_ESTIMATE_ID, _NOT_UPDATED_SINCE, "draft"),
            a_parent("estimates", _AN_ACCEPTED_ESTIMATE_ID, _NOT_UPDATED_SINCE, "accepted"),
        ],
    )
    messages = HarvestRequest.estimate_messages
    given_children(http_mocker, _STREAM, messages(_AN_ESTIMATE_ID), [11])
    given_children(http_mocker, _STREAM, messages(_A_SENT_ESTIMATE_ID), [31])
    known = {11: _AN_ESTIMATE_ID, 41: _AN_ACCEPTED_ESTIMATE_ID}

    output = read_streams(ConfigBuilder().build(), _STREAM, state=_later_sync_state(known))

    assert _parent_ids(output) == {11: _AN_ESTIMATE_ID, 31: _A_SENT_ESTIMATE_ID}
    assert not output.errors
    assert [r.query for r in sent_requests(http_mocker) if r.path == "/v2/estimates"] == ["per_page=2000"]
    child_reads = Counter(r.path for r in sent_requests(http_mocker) if r.path.endswith("/messages"))
    assert child_reads == {
        f"/v2/estimates/{_AN_ESTIMATE_ID}/messages": 1,
        f"/v2/estimates/{_A_SENT_ESTIMATE_ID}/messages": 1,
    }


def test_given_state_when_later_sync_and_nothing_changed_then_no_estimate_messages_are_requested(
    http_mocker: HttpMocker,
) -> None:
    given_estimates(http_mocker, [_AN_ACCEPTED_ESTIMATE_ID], updated_at=_NOT_UPDATED_SINCE, state="accepted")

    output = read_streams(ConfigBuilder().build(), _STREAM, state=_later_sync_state({41: _AN_ACCEPTED_ESTIMATE_ID}))

    assert output.records == []
    assert not output.errors
    assert [r.path for r in sent_requests(http_mocker)] == ["/v2/estimates"]
