from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from components import HarvestEnvelopeExtractor


def _response(body: str, url: str = "https://api.harvestapp.com/v2/users") -> requests.Response:
    response = requests.Response()
    response._content = body.encode()
    response.status_code = 200
    response.url = url
    return response


def _extractor(data_key: str) -> HarvestEnvelopeExtractor:
    return HarvestEnvelopeExtractor(config={}, parameters={}, data_key=data_key)


def test_given_the_envelope_when_extracted_then_its_records_are_returned() -> None:
    body = json.dumps({"users": [{"id": 1}, {"id": 2}], "links": {"next": None}})
    assert list(_extractor("users").extract_records(_response(body))) == [{"id": 1}, {"id": 2}]


def test_given_an_empty_list_when_extracted_then_no_record_and_no_error() -> None:
    assert list(_extractor("users").extract_records(_response(json.dumps({"users": []})))) == []


def test_given_no_data_key_when_extracted_then_the_bare_object_is_the_record() -> None:
    body = json.dumps({"base_uri": "https://acme.harvestapp.com"})
    assert list(_extractor("").extract_records(_response(body))) == [{"base_uri": "https://acme.harvestapp.com"}]


def test_given_the_data_key_from_parameters_when_extracted_then_it_is_interpolated() -> None:
    extractor = HarvestEnvelopeExtractor(
        config={}, parameters={"data_key": "roles"}, data_key="{{ parameters.data_key }}"
    )
    assert list(extractor.extract_records(_response(json.dumps({"roles": [{"id": 3}]})))) == [{"id": 3}]


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (json.dumps({"message": "maintenance"}), "has no `users` key"),
        (json.dumps({"users": {"id": 1}}), "is not a list"),
        ("<html>Harvest</html>", "is not JSON"),
        (json.dumps([{"id": 1}]), "has no `users` key"),
    ],
    ids=["missing-key", "not-a-list", "html", "bare-list"],
)
def test_given_an_unexpected_body_when_extracted_then_it_fails_loudly(body: str, problem: str) -> None:
    with pytest.raises(AirbyteTracedException) as error:
        list(_extractor("users").extract_records(_response(body)))
    assert problem in error.value.message and "/v2/users" in error.value.message


def _outcome(parse: Any) -> Any:
    try:
        return repr(parse())
    except (ValueError, AirbyteTracedException):
        return "not JSON"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (
            b'{"users": [{"id": 1, "name": "Zo\\u00eb", "rate": 10.10, "cost": 1e-3}]}',
            "application/json; charset=utf-8",
        ),
        ('{"users": [{"id": 9223372036854775807, "name": "Zoë"}]}'.encode(), "application/json"),
        (b'{"users": [{"id": 1, "rate": NaN}]}', "application/json"),  # not strict JSON: requests reads it
        ('{"users": [{"name": "Zoë"}]}'.encode("utf-16"), "application/json"),  # requests refuses it too
        ('{"users": [{"name": "Zoë"}]}'.encode("latin-1"), "application/json; charset=iso-8859-1"),
        (b"<html>maintenance</html>", "text/html"),
    ],
    ids=["utf-8", "largest-id", "nan", "utf-16", "latin-1", "html"],
)
def test_given_any_body_when_extracted_then_the_outcome_equals_what_requests_parses(
    body: bytes, content_type: str
) -> None:
    response = requests.Response()
    response._content = body
    response.status_code = 200
    response.headers["Content-Type"] = content_type
    response.encoding = requests.utils.get_encoding_from_headers(response.headers)
    assert _outcome(lambda: list(_extractor("users").extract_records(response))) == _outcome(
        lambda: response.json()["users"]
    )


def test_given_an_integer_past_64_bits_when_extracted_then_it_is_read_as_orjson_reads_it_a_float() -> None:
    # The one difference with requests' parser, which would give an int: Harvest's integers (ids, counts) fit in 64
    # bits, so no Harvest answer has such a number.
    body = b'{"users": [{"id": 123456789012345678901234567890}]}'
    assert list(_extractor("users").extract_records(_response(body.decode()))) == [{"id": 1.2345678901234568e29}]
