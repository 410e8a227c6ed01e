"""Listing and counting with the filter language, on every backend, against known answers."""

from __future__ import annotations

import json

import pytest

from cadenza.exceptions import InvalidArgumentError
from cadenza.persistence import Store
from cadenza.persistence.records import CurrentExecution, ExecutionKey, ExecutionWrite, Visibility
from cadenza.visibility import attributes as attrs
from cadenza.visibility.query import parse

TYPES: dict[str, int] = {"Color": attrs.KEYWORD, "Size": attrs.INT, "Ratio": attrs.DOUBLE, "Done": attrs.BOOL,
         "Tags": attrs.KEYWORD_LIST, "Note": attrs.TEXT, "When": attrs.DATETIME}
# (workflow ID, type, status, start, close, search attributes)
RUNS = [
    ("a-1", "Alpha", 1, 100.0, None, {"Color": "red", "Size": 3, "Ratio": 0.5, "Done": True,
                                      "Tags": ["x", "y"], "Note": "hello world", "When": 1000.0}),
    ("a-2", "Alpha", 2, 200.0, 250.0, {"Color": "blue", "Size": 10, "Ratio": 2.5, "Done": False,
                                       "Tags": ["y"], "Note": "goodbye", "When": 2000.0}),
    ("b-1", "Beta", 2, 300.0, 310.0, {"Color": "red", "Tags": "z"}),
    ("b_2", "Beta", 4, 400.0, 350.0, {}),
]


@pytest.fixture
async def listed(store: Store) -> Store:
    for workflow_id, workflow_type, status, start, close, values in RUNS:
        visibility = Visibility(start, 3, json.dumps(values), b"", b"")
        await store.commit(ExecutionWrite(
            key=ExecutionKey("ns", workflow_id, "run"), expected_version=0, state=b"", status=status,
            workflow_type=workflow_type, task_queue="q", start_time=start, close_time=close,
            new_current=CurrentExecution("run", status, "r"), visibility=visibility))
    await store.commit(ExecutionWrite(
        key=ExecutionKey("other-ns", "a-1", "run"), expected_version=0, state=b"", status=1,
        workflow_type="Alpha", task_queue="q", start_time=1.0, visibility=Visibility(1.0, 3, "{}", b"", b"")))
    return store


async def ids(store: Store, text: str, limit: int = 100, offset: int = 0) -> list[str]:
    return [e.workflow_id for e in await store.list_executions("ns", parse(text), TYPES, limit, offset)]


@pytest.mark.parametrize(("text", "expected"), [
    ("", ["b_2", "b-1", "a-2", "a-1"]),
    ("Color = 'red'", ["b-1", "a-1"]),
    ("Color != 'red'", ["a-2"]),
    ("Color IN ('blue', 'green')", ["a-2"]),
    ("Color IS NULL", ["b_2"]),
    ("Size > 5", ["a-2"]),
    ("Size >= 3 AND Size <= 3", ["a-1"]),
    ("Size BETWEEN 1 AND 10", ["a-2", "a-1"]),
    ("Size NOT BETWEEN 4 AND 10", ["a-1"]),
    ("Ratio < 1", ["a-1"]),
    ("Ratio = 2.5", ["a-2"]),
    ("Done = true", ["a-1"]),
    ("Done = 'false'", ["a-2"]),
    ("Tags = 'y'", ["a-2", "a-1"]),
    ("Tags = 'z'", ["b-1"]),
    ("Tags != 'y'", ["b_2", "b-1"]),
    ("Tags IN ('x', 'z')", ["b-1", "a-1"]),
    ("Tags NOT IN ('x', 'z')", ["b_2", "a-2"]),
    ("Note = 'world'", ["a-1"]),
    ("Note != 'world'", ["a-2"]),
    ("Note STARTS_WITH 'good'", ["a-2"]),
    ("When > '1970-01-01T00:20:00Z'", ["a-2"]),
    ("When BETWEEN '1970-01-01T00:00:00Z' AND '1970-01-01T00:40:00Z'", ["a-2", "a-1"]),
    ("WorkflowId STARTS_WITH 'a-'", ["a-2", "a-1"]),
    ("WorkflowId STARTS_WITH 'b_'", ["b_2"]),
    ("WorkflowId = 'a-1'", ["a-1"]),
    ("WorkflowType IN ('Beta')", ["b_2", "b-1"]),
    ("ExecutionStatus = 'Completed'", ["b-1", "a-2"]),
    ("ExecutionStatus != 'Running' AND WorkflowType = 'Beta'", ["b_2", "b-1"]),
    ("CloseTime IS NULL", ["a-1"]),
    ("CloseTime IS NOT NULL", ["b_2", "b-1", "a-2"]),
    ("StartTime > '1970-01-01T00:02:30Z'", ["b_2", "b-1", "a-2"]),
    ("HistoryLength = 3", ["b_2", "b-1", "a-2", "a-1"]),
    ("NOT (Color = 'red') AND WorkflowType = 'Alpha'", ["a-2"]),
    ("Color = 'red' OR Size = 10", ["b-1", "a-2", "a-1"]),
    ("ORDER BY CloseTime DESC", ["b_2", "b-1", "a-2", "a-1"]),
    ("ORDER BY CloseTime ASC", ["a-1", "a-2", "b-1", "b_2"]),
    ("ORDER BY Size DESC, WorkflowId ASC", ["a-2", "a-1", "b-1", "b_2"]),
    ("ORDER BY Color ASC, WorkflowId DESC", ["b_2", "a-2", "b-1", "a-1"]),
    ("ORDER BY WorkflowId DESC", ["b_2", "b-1", "a-2", "a-1"]),
])
async def test_filters_and_orders(listed: Store, text: str, expected: list[str]) -> None:
    assert await ids(listed, text) == expected


async def test_pages_and_counts(listed: Store) -> None:
    assert await ids(listed, "", limit=2, offset=1) == ["b-1", "a-2"]
    assert await listed.count_executions("ns", parse(""), TYPES) == [(None, 4)]
    assert await listed.count_executions("ns", parse("Color = 'none'"), TYPES) == [(None, 0)]
    grouped = await listed.count_executions("ns", parse("GROUP BY ExecutionStatus"), TYPES)
    assert sorted(grouped) == [(1, 1), (2, 2), (4, 1)]


@pytest.mark.parametrize("text", ["Size = 'big'", "Nope = 1", "Done = 3", "Tags > 'a'",
                                  "ExecutionStatus = 'Sleeping'", "GROUP BY WorkflowType"])
async def test_bad_filters_are_invalid(listed: Store, text: str) -> None:
    with pytest.raises(InvalidArgumentError):
        await listed.list_executions("ns", parse(text), TYPES, 10, 0)
