"""Errors are loud but scoped (design decision 10).

401 fails the sync with a config error that says what to fix; 403 skips only the stream that got it, with a
WARNING naming the stream and the Harvest role or feature it needs; a child 404 skips that parent only; a missing
envelope or a body that is not JSON fails the stream; 5xx and 429 are retried and a recovered sync emits each record
exactly once. Waits take no real time (`fake_sleep` moves a frozen clock instead).
"""

from __future__ import annotations

from collections import Counter

import pytest
import requests
from airbyte_cdk.models import FailureType, Level, SyncMode
from airbyte_cdk.test.mock_http import HttpMocker, HttpResponse
from freezegun import freeze_time

from .config import _A_START_DATE, _AN_ACCOUNT_ID, ConfigBuilder
from .conftest import FakeSleep
from .helpers import given_children, given_failure_then_response, given_invoices, records_of, sent_requests
from .request_builder import HarvestRequest
from .response_builder import ErrorResponse, HarvestResponse, json_response
from .source import read_streams

_AN_INVOICE_ID = 13150403
_A_DELETED_INVOICE_ID = 13150378


def _clients() -> HarvestRequest:
    return HarvestRequest.clients().with_updated_since(_A_START_DATE)


def _warnings(output: object) -> list[str]:
    return [m.log.message for m in output.logs if m.log.level == Level.WARN]  # type: ignore[attr-defined]


# ---- 401 ------------------------------------------------------------------------------------------------------------
def test_given_401_when_read_then_sync_fails_with_a_config_error_naming_the_token_and_account_id(
    http_mocker: HttpMocker,
) -> None:
    http_mocker.get(_clients().build(), ErrorResponse.with_status(401))

    output = read_streams(ConfigBuilder().build(), "clients", expecting_exception=True)

    assert output.records == []
    error = output.errors[0].trace.error
    assert error.failure_type == FailureType.config_error
    assert "401" in error.message
    assert "token" in error.message.lower()
    assert _AN_ACCOUNT_ID in error.message


# ---- 403 ------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "forbidden_stream, role_or_feature",
    [
        pytest.param("users", "Administrator", id="users"),
        pytest.param("invoices", "Invoices feature", id="invoices"),
        pytest.param("expense_categories", "Expenses feature", id="expense_categories"),
        pytest.param("roles", "Administrator", id="roles"),
    ],
)
def test_given_403_on_one_stream_when_read_then_that_stream_is_empty_with_a_warning_and_other_streams_complete(
    forbidden_stream: str, role_or_feature: str, http_mocker: HttpMocker
) -> None:
    forbidden = HarvestRequest.endpoint(forbidden_stream)
    if forbidden_stream != "roles":
        forbidden = forbidden.with_updated_since(_A_START_DATE)
    http_mocker.get(forbidden.build(), ErrorResponse.with_status(403))
    http_mocker.get(
        _clients().build(), HarvestResponse.of("clients").with_records(records_of("clients", [1, 2])).build()
    )

    output = read_streams(ConfigBuilder().build(), forbidden_stream, "clients")

    assert Counter(record.record.stream for record in output.records) == {"clients": 2}
    assert not output.errors
    warnings = [message for message in _warnings(output) if "403" in message]
    assert warnings, _warnings(output)
    assert any(forbidden_stream in message and role_or_feature in message for message in warnings), warnings
    assert output.get_stream_statuses("clients")[-1].name == "COMPLETE"
    assert output.get_stream_statuses(forbidden_stream)[-1].name == "COMPLETE"


def test_given_403_on_a_report_when_read_then_the_report_is_empty_with_a_warning(http_mocker: HttpMocker) -> None:
    http_mocker.get(HarvestRequest.report("project_budget").build(), ErrorResponse.with_status(403))

    output = read_streams(ConfigBuilder().build(), "project_budget")

    assert output.records == []
    assert not output.errors
    assert any("project_budget" in message and "report" in message for message in _warnings(output))


# ---- child 404 ------------------------------------------------------------------------------------------------------
def test_given_a_parent_deleted_mid_sync_when_its_children_answer_404_then_only_that_parent_is_skipped(
    http_mocker: HttpMocker,
) -> None:
    given_invoices(http_mocker, [_AN_INVOICE_ID, _A_DELETED_INVOICE_ID])
    given_children(http_mocker, "invoice_messages", HarvestRequest.invoice_messages(_AN_INVOICE_ID), [11, 12])
    http_mocker.get(
        HarvestRequest.invoice_messages(_A_DELETED_INVOICE_ID).build(),
        ErrorResponse.with_status(404),
    )

    output = read_streams(ConfigBuilder().build(), "invoice_messages")

    assert sorted(record.record.data["id"] for record in output.records) == [11, 12]
    assert not output.errors


def test_given_an_entity_endpoint_answers_404_when_read_then_the_stream_fails(http_mocker: HttpMocker) -> None:
    http_mocker.get(_clients().build(), ErrorResponse.with_status(404))

    output = read_streams(ConfigBuilder().build(), "clients", expecting_exception=True)

    assert output.errors


# ---- bodies that are not Harvest's envelope --------------------------------------------------------------------------
def test_given_a_response_without_the_envelope_key_when_read_then_the_stream_fails_naming_the_key(
    http_mocker: HttpMocker,
) -> None:
    http_mocker.get(_clients().build(), json_response({"message": "down for maintenance"}))

    output = read_streams(ConfigBuilder().build(), "clients", expecting_exception=True)

    assert output.records == []
    assert output.errors
    assert "clients" in output.errors[0].trace.error.message
    assert output.get_stream_statuses("clients")[-1].name == "INCOMPLETE"


def test_given_a_body_that_is_not_json_when_read_then_the_stream_fails(http_mocker: HttpMocker) -> None:
    http_mocker.get(_clients().build(), HttpResponse("<html><body>Maintenance</body></html>", 200))

    output = read_streams(ConfigBuilder().build(), "clients", expecting_exception=True)

    assert output.records == []
    assert output.errors
    assert "JSON" in output.get_formatted_error_message()


# ---- retries --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("status_code", [500, 502, 503, 504])
def test_given_a_server_error_then_200_when_read_then_request_is_retried_and_records_emitted_exactly_once(
    status_code: int, http_mocker: HttpMocker, fake_sleep: FakeSleep
) -> None:
    http_mocker.get(
        _clients().build(),
        [
            ErrorResponse.with_status(status_code),
            HarvestResponse.of("clients").with_records(records_of("clients", [1, 2])).build(),
        ],
    )

    output = read_streams(ConfigBuilder().build(), "clients")

    assert sorted(record.record.data["id"] for record in output.records) == [1, 2]
    assert not output.errors
    assert len(sent_requests(http_mocker)) == 2
    assert max(fake_sleep.waits, default=0) >= 1, fake_sleep.waits  # a retry backs off


def test_given_a_429_with_retry_after_then_200_when_read_then_the_connector_waits_at_least_retry_after_and_retries(
    http_mocker: HttpMocker, fake_sleep: FakeSleep
) -> None:
    http_mocker.get(
        _clients().build(),
        [
            ErrorResponse.with_status(429, headers={"Retry-After": "15"}),
            HarvestResponse.of("clients").with_records(records_of("clients", [1, 2])).build(),
        ],
    )

    output = read_streams(ConfigBuilder().build(), "clients")

    assert sorted(record.record.data["id"] for record in output.records) == [1, 2]
    assert not output.errors
    assert len(sent_requests(http_mocker)) == 2
    assert max(fake_sleep.waits) >= 15, fake_sleep.waits  # Retry-After: 15


def test_given_a_429_on_a_second_page_when_read_then_no_page_is_read_twice_and_no_record_duplicated(
    http_mocker: HttpMocker, fake_sleep: FakeSleep
) -> None:
    second_page = _clients().with_cursor("eyJhZnRlciI6eyJpZCI6Mn19")
    http_mocker.get(
        _clients().build(),
        HarvestResponse.of("clients")
        .with_records(records_of("clients", [1, 2]))
        .with_next_link(second_page.url())
        .build(),
    )
    http_mocker.get(
        second_page.build(),
        [
            ErrorResponse.with_status(429, headers={"Retry-After": "1"}),
            HarvestResponse.of("clients").with_records(records_of("clients", [3])).build(),
        ],
    )

    output = read_streams(ConfigBuilder().build(), "clients", sync_mode=SyncMode.incremental)

    assert sorted(record.record.data["id"] for record in output.records) == [1, 2, 3]
    assert len(sent_requests(http_mocker)) == 3


def test_given_403_on_every_window_of_a_report_when_read_then_one_warning_names_the_report(
    http_mocker: HttpMocker,
) -> None:
    for from_, to in (("20220315", "20230314"), ("20230315", "20240314"), ("20240315", "20250314")):
        http_mocker.get(
            HarvestRequest.report("time/clients").with_window(from_, to).with_include_fixed_fee(True).build(),
            ErrorResponse.with_status(403),
        )

    with freeze_time("2024-07-01T12:00:00Z"):
        output = read_streams(ConfigBuilder().with_start_date("2022-03-15T00:00:00Z").build(), "time_clients")

    assert output.records == []
    assert not output.errors
    warnings = [message for message in _warnings(output) if "403" in message]
    assert len(warnings) == 1 and "time_clients" in warnings[0], warnings


def test_given_403_on_the_parent_invoices_when_read_invoice_messages_then_the_child_stream_is_empty_with_a_warning(
    http_mocker: HttpMocker,
) -> None:
    http_mocker.get(HarvestRequest.invoices().build(), ErrorResponse.with_status(403))

    output = read_streams(ConfigBuilder().build(), "invoice_messages")

    assert output.records == []
    assert not output.errors
    assert any("403" in message and "Invoices feature" in message for message in _warnings(output)), _warnings(output)


def test_given_a_report_answer_without_results_when_read_then_the_report_fails_naming_the_key(
    http_mocker: HttpMocker,
) -> None:
    http_mocker.get(
        HarvestRequest.report("expenses/team").with_window("20240315", "20250314").build(),
        json_response({"message": "Something went wrong"}),
    )

    with freeze_time("2024-07-01T12:00:00Z"):
        output = read_streams(
            ConfigBuilder().with_start_date("2024-03-15T00:00:00Z").build(), "expenses_team", expecting_exception=True
        )

    assert output.records == []
    assert "results" in output.errors[0].trace.error.message


@pytest.mark.parametrize(
    "failure",
    [
        pytest.param(requests.exceptions.ConnectTimeout, id="connect-timeout"),
        pytest.param(requests.exceptions.ReadTimeout, id="read-timeout"),
        pytest.param(requests.exceptions.ConnectionError, id="connection-reset"),
    ],
)
def test_given_a_transport_failure_then_200_when_read_then_the_request_is_retried_and_records_emitted_once(
    failure: type[Exception], http_mocker: HttpMocker, fake_sleep: FakeSleep
) -> None:
    given_failure_then_response(
        http_mocker,
        _clients(),
        failure,
        HarvestResponse.of("clients").with_records(records_of("clients", [1, 2])).build(),
    )

    output = read_streams(ConfigBuilder().build(), "clients")

    assert sorted(record.record.data["id"] for record in output.records) == [1, 2]
    assert not output.errors
    assert len(sent_requests(http_mocker)) == 2


def test_given_a_422_when_read_then_the_stream_fails_without_retrying(
    http_mocker: HttpMocker, fake_sleep: FakeSleep
) -> None:
    # Harvest's 422 is a validation error (e.g. an invalid per_page): asking again cannot succeed
    http_mocker.get(_clients().build(), ErrorResponse.with_status(422))

    output = read_streams(ConfigBuilder().build(), "clients", expecting_exception=True)

    assert output.records == []
    assert output.errors
    assert len(sent_requests(http_mocker)) == 1
