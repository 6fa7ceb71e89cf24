"""roles: /v2/roles ignores `updated_since`, so every role is read and the cursor filters on the client (decision 7)."""

from __future__ import annotations

from airbyte_cdk.test.mock_http import HttpMocker

from .config import ConfigBuilder
from .helpers import records_of
from .request_builder import HarvestRequest
from .response_builder import HarvestResponse
from .source import read_streams, state_for

_A_ROLE_ID = 618100
_ANOTHER_ROLE_ID = 618099
_A_THIRD_ROLE_ID = 617630


def _ids(output: object) -> list[int]:
    return sorted(record.record.data["id"] for record in output.records)  # type: ignore[attr-defined]


def test_given_no_state_when_read_roles_then_request_has_no_updated_since_and_roles_before_start_date_are_dropped(
    http_mocker: HttpMocker,
) -> None:
    http_mocker.get(
        HarvestRequest.roles().build(),
        HarvestResponse.of("roles")
        .with_records(records_of("roles", [_A_ROLE_ID], updated_at="2020-04-17T10:09:41Z"))
        .with_records(records_of("roles", [_ANOTHER_ROLE_ID], updated_at="2022-02-01T00:00:00Z"))
        .build(),
    )

    output = read_streams(ConfigBuilder().with_start_date("2021-01-01T00:00:00Z").build(), "roles")

    assert _ids(output) == [_ANOTHER_ROLE_ID]


def test_given_state_when_read_roles_incremental_then_all_roles_are_requested_and_only_updated_ones_emitted(
    http_mocker: HttpMocker,
) -> None:
    http_mocker.get(
        HarvestRequest.roles().build(),
        HarvestResponse.of("roles")
        .with_records(records_of("roles", [_A_ROLE_ID], updated_at="2023-05-01T00:00:00Z"))
        .with_records(records_of("roles", [_ANOTHER_ROLE_ID], updated_at="2024-03-01T09:59:30Z"))
        .with_records(records_of("roles", [_A_THIRD_ROLE_ID], updated_at="2024-04-02T00:00:00Z"))
        .build(),
    )

    output = read_streams(
        ConfigBuilder().build(), "roles", state=state_for("roles", {"updated_at": "2024-03-01T10:00:00Z"})
    )

    # 09:59:30 is inside the default 60 s lookback below the cursor: re-emitted rather than risk losing it
    assert _ids(output) == sorted([_ANOTHER_ROLE_ID, _A_THIRD_ROLE_ID])
    assert output.most_recent_state.stream_state.__dict__["updated_at"] == "2024-04-02T00:00:00Z"


def test_given_a_next_link_when_read_roles_then_every_page_is_read_without_updated_since(
    http_mocker: HttpMocker,
) -> None:
    second_page = HarvestRequest.roles().with_cursor("eyJhZnRlciI6eyJpZCI6NjE3NjMwfX0")
    http_mocker.get(
        HarvestRequest.roles().build(),
        HarvestResponse.of("roles")
        .with_records(records_of("roles", [_A_ROLE_ID], updated_at="2024-01-01T00:00:00Z"))
        .with_next_link(second_page.url())
        .build(),
    )
    http_mocker.get(
        second_page.build(),
        HarvestResponse.of("roles")
        .with_records(records_of("roles", [_ANOTHER_ROLE_ID], updated_at="2024-01-02T00:00:00Z"))
        .build(),
    )

    output = read_streams(ConfigBuilder().build(), "roles")

    assert _ids(output) == sorted([_A_ROLE_ID, _ANOTHER_ROLE_ID])


def test_given_an_end_date_when_read_roles_then_roles_updated_after_it_are_not_emitted(http_mocker: HttpMocker) -> None:
    http_mocker.get(
        HarvestRequest.roles().build(),
        HarvestResponse.of("roles")
        .with_records(records_of("roles", [_A_ROLE_ID], updated_at="2022-05-01T00:00:00Z"))
        .with_records(records_of("roles", [_ANOTHER_ROLE_ID], updated_at="2024-05-01T00:00:00Z"))
        .build(),
    )

    output = read_streams(ConfigBuilder().with_end_date("2023-01-01T00:00:00Z").build(), "roles")

    assert _ids(output) == [_A_ROLE_ID]
