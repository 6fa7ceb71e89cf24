from __future__ import annotations

import json

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
