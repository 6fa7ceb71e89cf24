"""A `links.next` to any other host fails the stream and is never requested: the bearer token stays on Harvest's
host (design decision 1). HttpMocker refuses any request it has no mock for, so "never requested" is checked twice:
by the absence of a mock and by the request log."""

from __future__ import annotations

import pytest
from airbyte_cdk.models import FailureType
from airbyte_cdk.test.mock_http import HttpMocker

from .config import _A_START_DATE, ConfigBuilder
from .helpers import records_of, sent_requests
from .request_builder import HarvestRequest
from .response_builder import HarvestResponse
from .source import read_streams

_A_SANDBOX_URL = "http://127.0.0.1:8765"


@pytest.mark.parametrize(
    "foreign_next_link",
    [
        pytest.param("https://evil.example/v2/clients?page=2&per_page=2000", id="another-host"),
        pytest.param("https://api.harvestapp.com.evil.example/v2/clients?page=2&per_page=2000", id="lookalike-host"),
        pytest.param("https://api.harvestapp.com@evil.example/v2/clients?page=2&per_page=2000", id="userinfo-trick"),
        pytest.param("http://api.harvestapp.com/v2/clients?page=2&per_page=2000", id="plain-http"),
        pytest.param("https://api.harvestapp.com:8443/v2/clients?page=2&per_page=2000", id="another-port"),
    ],
)
def test_given_a_next_link_to_another_host_when_read_then_the_stream_fails_and_no_request_leaves_harvest(
    foreign_next_link: str, http_mocker: HttpMocker
) -> None:
    http_mocker.get(
        HarvestRequest.clients().with_updated_since(_A_START_DATE).build(),
        HarvestResponse.of("clients")
        .with_records(records_of("clients", [1]))
        .with_next_link(foreign_next_link)
        .build(),
    )

    output = read_streams(ConfigBuilder().build(), "clients", expecting_exception=True)

    assert [request.netloc for request in sent_requests(http_mocker)] == ["api.harvestapp.com"]
    assert output.errors, "a foreign next link must fail the stream"
    error = output.errors[0].trace.error
    assert error.failure_type == FailureType.system_error
    assert "api.harvestapp.com" in error.message
    assert "NoMockAddress" not in output.get_formatted_error_message()


def test_given_a_configured_api_url_when_next_link_is_on_that_host_then_it_is_followed(http_mocker: HttpMocker) -> None:
    first_page = HarvestRequest.clients().with_api_url(_A_SANDBOX_URL).with_updated_since(_A_START_DATE)
    second_page = (
        HarvestRequest.clients().with_api_url(_A_SANDBOX_URL).with_updated_since(_A_START_DATE).with_cursor("abc")
    )
    http_mocker.get(
        first_page.build(),
        HarvestResponse.of("clients")
        .with_records(records_of("clients", [1]))
        .with_next_link(second_page.url())
        .build(),
    )
    http_mocker.get(second_page.build(), HarvestResponse.of("clients").with_records(records_of("clients", [2])).build())

    output = read_streams(ConfigBuilder().with_api_url(_A_SANDBOX_URL).build(), "clients")

    assert sorted(record.record.data["id"] for record in output.records) == [1, 2]


def test_given_a_configured_api_url_when_next_link_points_to_the_real_harvest_then_the_stream_fails(
    http_mocker: HttpMocker,
) -> None:
    http_mocker.get(
        HarvestRequest.clients().with_api_url(_A_SANDBOX_URL).with_updated_since(_A_START_DATE).build(),
        HarvestResponse.of("clients")
        .with_records(records_of("clients", [1]))
        .with_next_link("https://api.harvestapp.com/v2/clients?page=2&per_page=2000")
        .build(),
    )

    output = read_streams(ConfigBuilder().with_api_url(_A_SANDBOX_URL).build(), "clients", expecting_exception=True)

    assert output.errors
    assert [request.netloc for request in sent_requests(http_mocker)] == ["127.0.0.1:8765"]
