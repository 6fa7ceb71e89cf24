from __future__ import annotations

from typing import Any

import pytest
from airbyte_cdk.sources.types import StreamSlice

from components import HarvestReportWindow


def test_given_a_report_row_then_it_gets_the_window_as_the_strings_sent_as_from_and_to() -> None:
    record: dict[str, Any] = {"client_id": 7, "total_hours": 3.5}
    stream_slice = StreamSlice(partition={}, cursor_slice={"start_time": "20240315", "end_time": "20250314"})
    HarvestReportWindow().transform(record, config={}, stream_slice=stream_slice)
    assert record == {"client_id": 7, "total_hours": 3.5, "from": "20240315", "to": "20250314"}


def test_given_no_slice_then_it_fails_instead_of_guessing() -> None:
    with pytest.raises(ValueError, match="window"):
        HarvestReportWindow().transform({"client_id": 7})
