"""The workflow list's pure parts: a time range written into a filter, and search attribute
payloads shown as text."""

from __future__ import annotations

import datetime
import json

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import IndexedValueType

from cadenza.web.ui import list_columns, time_range

NOW = datetime.datetime(2026, 1, 1, 12, 0, tzinfo=datetime.UTC)


@pytest.mark.parametrize(
    ("query", "chosen", "written"),
    [
        ("", "15m", 'StartTime > "2026-01-01T11:45:00Z"'),
        ('WorkflowType = "A"', "7d", 'WorkflowType = "A" AND StartTime > "2025-12-25T12:00:00Z"'),
        ('StartTime > "2020-01-01T00:00:00Z"', "1h", 'StartTime > "2026-01-01T11:00:00Z"'),
        (
            'A = "x" AND StartTime > "2020-01-01T00:00:00Z" AND B = "y"',
            "24h",
            'A = "x" AND B = "y" AND StartTime > "2025-12-31T12:00:00Z"',
        ),
        ('A = "x" OR B = "y"', "1h", '(A = "x" OR B = "y") AND StartTime > "2026-01-01T11:00:00Z"'),
    ],
)
def test_a_relative_range_replaces_the_one_written_before(query: str, chosen: str, written: str) -> None:
    assert time_range.with_clause(query, time_range.clause("StartTime", chosen, "", "", NOW)) == written


def test_a_custom_range_takes_either_end_or_both() -> None:
    assert time_range.clause("CloseTime", "custom", "2026-01-01T08:00", "", NOW) == (
        'CloseTime >= "2026-01-01T08:00:00Z"'
    )
    assert time_range.clause("CloseTime", "custom", "", "2026-01-01T09:30:15+01:00", NOW) == (
        'CloseTime <= "2026-01-01T08:30:15Z"'
    )


@pytest.mark.parametrize(
    ("field", "chosen", "start", "end", "problem"),
    [
        ("HistoryLength", "1h", "", "", "expected one of StartTime, CloseTime"),
        ("StartTime", "3w", "", "", "expected one of 15m, 1h, 24h, 7d, custom"),
        ("StartTime", "custom", "", "", "needs a start, an end or both"),
        ("StartTime", "custom", "yesterday", "", "is not a date and time"),
        ("StartTime", "custom", "2026-01-02T00:00", "2026-01-01T00:00", "ends before it starts"),
    ],
)
def test_a_range_that_cannot_be_read_is_refused(
    field: str, chosen: str, start: str, end: str, problem: str
) -> None:
    with pytest.raises(time_range.BadRange, match=problem):
        time_range.clause(field, chosen, start, end, NOW)


@pytest.mark.parametrize(
    ("value", "kind", "shown"),
    [
        (["gold", "vip"], IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST, "gold, vip"),
        (
            "2030-05-01T14:30:00+02:00",
            IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
            "2030-05-01 12:30:00 UTC",
        ),
        (True, IndexedValueType.INDEXED_VALUE_TYPE_BOOL, "true"),
        (2.5, IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE, "2.5"),
        ("plain", IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD, "plain"),
    ],
)
def test_search_attribute_payloads_show_as_text(value: object, kind: int, shown: str) -> None:
    payload = Payload(metadata={"encoding": b"json/plain"}, data=json.dumps(value).encode())
    assert list_columns.decoded(payload, kind) == shown


def test_columns_asked_for_that_do_not_exist_leave_the_defaults() -> None:
    choices = list_columns.available({"BuildIds": 7}, {"CustomerId": 2})
    assert choices[:6] == list(list_columns.DEFAULT_COLUMNS) and choices[-2:] == ["BuildIds", "CustomerId"]
    assert list_columns.chosen(["CustomerId", "Nope", "CustomerId"], choices) == ["CustomerId"]
    assert list_columns.chosen(["Nope"], choices) == list(list_columns.DEFAULT_COLUMNS)
