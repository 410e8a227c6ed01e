"""Listing and counting with the filter language, on every backend, against known answers."""

from __future__ import annotations

import json

import pytest

from cadenza.exceptions import InvalidArgumentError
from cadenza.persistence import visibility_sql
from cadenza.persistence.records import (
    CurrentExecution,
    ExecutionKey,
    ExecutionWrite,
    ListCursor,
    ListedExecution,
    Visibility,
)
from cadenza.persistence.sqlite.visibility import SqliteDialect
from cadenza.persistence.store import Store
from cadenza.visibility import attributes as attrs
from cadenza.visibility import filters
from cadenza.visibility.query import parse

TYPES: dict[str, int] = {
    "Color": attrs.KEYWORD,
    "Size": attrs.INT,
    "Ratio": attrs.DOUBLE,
    "Done": attrs.BOOL,
    "Tags": attrs.KEYWORD_LIST,
    "Note": attrs.TEXT,
    "When": attrs.DATETIME,
}
# (workflow ID, type, status, start, close, search attributes as kept for filtering)
RUNS: list[tuple[str, str, int, float, float | None, dict[str, object]]] = [
    (
        "a-1",
        "Alpha",
        1,
        100.0,
        None,
        {
            "Color": "red",
            "Size": 3,
            "Ratio": 0.5,
            "Done": True,
            "Tags": ["x", "y"],
            "Note": attrs.text_index_form("Hello, World!"),
            "When": 1000.0,
        },
    ),
    (
        "a-2",
        "Alpha",
        2,
        200.0,
        250.0,
        {
            "Color": "blue",
            "Size": 10,
            "Ratio": 2.5,
            "Done": False,
            "Tags": ["y"],
            "Note": attrs.text_index_form("goodbye"),
            "When": 2000.0,
        },
    ),
    ("b-1", "Beta", 2, 300.0, 310.0, {"Color": "red", "Tags": "z"}),
    ("b_2", "Beta", 4, 400.0, 350.0, {}),
]
# Temporal's listing order: the open run, then the closed ones by close time, newest first.
ALL = ["a-1", "b_2", "b-1", "a-2"]


def run(
    workflow_id: str,
    workflow_type: str,
    status: int,
    start: float,
    close: float | None,
    values: dict[str, object],
    namespace: str = "ns",
) -> ExecutionWrite:
    return ExecutionWrite(
        key=ExecutionKey(namespace, workflow_id, f"run-{workflow_id}"),
        expected_version=0,
        state=b"",
        status=status,
        workflow_type=workflow_type,
        task_queue="q",
        start_time=start,
        close_time=close,
        new_current=CurrentExecution(f"run-{workflow_id}", status, "r"),
        visibility=Visibility(start, 3, json.dumps(values), b"", b""),
    )


@pytest.fixture
async def listed(store: Store) -> Store:
    for row in RUNS:
        await store.commit(run(*row))
    await store.commit(run("a-1", "Alpha", 1, 1.0, None, {}, namespace="other-ns"))
    return store


async def page(
    store: Store, text: str, limit: int = 100, after: ListCursor | None = None
) -> list[ListedExecution]:
    return await store.list_executions("ns", filters.check(parse(text), TYPES), TYPES, limit, after)


async def ids(store: Store, text: str) -> list[str]:
    return [e.workflow_id for e in await page(store, text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ALL),
        ("Color = 'red'", ["a-1", "b-1"]),
        ("Color != 'red'", ["a-2"]),
        ("Color IN ('blue', 'green')", ["a-2"]),
        ("Color IS NULL", ["b_2"]),
        ("Size > 5", ["a-2"]),
        ("Size >= 3 AND Size <= 3", ["a-1"]),
        ("Size BETWEEN 1 AND 10", ["a-1", "a-2"]),
        ("Size NOT BETWEEN 4 AND 10", ["a-1"]),
        ("Ratio < 1", ["a-1"]),
        ("Ratio = 2.5", ["a-2"]),
        ("Done = true", ["a-1"]),
        ("Done = false", ["a-2"]),
        ("Tags = 'y'", ["a-1", "a-2"]),
        ("Tags = 'z'", ["b-1"]),
        ("Tags != 'y'", ["b_2", "b-1"]),
        ("Tags IN ('x', 'z')", ["a-1", "b-1"]),
        ("Tags NOT IN ('x', 'z')", ["b_2", "a-2"]),
        ("Note = 'world'", ["a-1"]),
        ("Note = 'WORLD'", ["a-1"]),
        ("Note = 'nothing hello'", ["a-1"]),
        ("Note = 'good'", []),  # words match whole, not as prefixes
        ("Note = 'hello-world'", ["a-1"]),  # a phrase: its words in order
        ("Note = 'world-hello'", []),
        ("Note = '-'", []),
        ("Note != 'world'", ["b_2", "b-1", "a-2"]),  # runs without Note match !=
        ("NOT Note = 'world'", ["b_2", "b-1", "a-2"]),
        ("When > '1970-01-01T00:20:00Z'", ["a-2"]),
        ("When BETWEEN '1970-01-01T00:00:00Z' AND '1970-01-01T00:40:00Z'", ["a-1", "a-2"]),
        ("WorkflowId STARTS_WITH 'a-'", ["a-1", "a-2"]),
        ("WorkflowId STARTS_WITH 'b_'", ["b_2"]),
        ("WorkflowId = 'a-1'", ["a-1"]),
        ("WorkflowType IN ('Beta')", ["b_2", "b-1"]),
        ("ExecutionStatus = 'Completed'", ["b-1", "a-2"]),
        ("ExecutionStatus = 2", ["b-1", "a-2"]),
        ("ExecutionStatus != 'Running' AND WorkflowType = 'Beta'", ["b_2", "b-1"]),
        ("CloseTime IS NULL", ["a-1"]),
        ("CloseTime IS NOT NULL", ["b_2", "b-1", "a-2"]),
        ("StartTime > '1970-01-01T00:02:30Z'", ["b_2", "b-1", "a-2"]),
        ("HistoryLength = 3", ALL),
        ("NOT (Color = 'red') AND WorkflowType = 'Alpha'", ["a-2"]),
        ("Color = 'red' OR Size = 10", ["a-1", "b-1", "a-2"]),
    ],
)
async def test_filters(listed: Store, text: str, expected: list[str]) -> None:
    assert await ids(listed, text) == expected


def _alternating(levels: int) -> str:
    """Color = 'red', under ``levels`` alternations of AND and OR that change nothing."""
    text = "Color = 'red'"
    for level in range(levels):
        text = f"HistoryLength = 3 AND ({text})" if level % 2 else f"WorkflowId = 'none' OR ({text})"
    return text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("HistoryLength > 99999999999999999999999", []),
        ("HistoryLength < 99999999999999999999999", ALL),
        ("Size > -99999999999999999999999", ["a-1", "a-2"]),
        ("NOT NOT Color = 'red'", ["a-1", "b-1"]),
        ("NOT " * 199 + "Color = 'red'", ["a-2"]),
        ("(NOT " * 99 + "Color = 'red'" + ")" * 99, ["a-2"]),
        ("NOT (Color = 'red' OR Size = 10)", []),  # b_2 has neither: unknown, as in SQL
        ("NOT (Color = 'blue' AND Size = 10) AND WorkflowType = 'Alpha'", ["a-1"]),
        ("NOT (Tags = 'x' OR Note = 'world')", ["b_2", "b-1", "a-2"]),
        (_alternating(60), ["a-1", "b-1"]),
        ("Tags IN (" + ", ".join(f"'v{i}'" for i in range(5000)) + ", 'z')", ["b-1"]),
        (" OR ".join(f"WorkflowId = 'w{i}'" for i in range(994)) + " OR WorkflowId = 'a-2'", ["a-2"]),
        # More values than PostgreSQL takes parameters: a long list is bound as one.
        ("WorkflowId IN (" + "'w', " * 40_000 + "'a-2')", ["a-2"]),
        ("Color NOT IN (" + "'w', " * 40_000 + "'blue')", ["a-1", "b-1"]),
        ("Size IN (" + "1000, " * 200 + "10)", ["a-2"]),
        ("ExecutionStatus IN (" + "'Failed', " * 200 + "'Completed')", ["b-1", "a-2"]),
        ("Done NOT IN (" + "true, " * 200 + "true)", ["a-2"]),
    ],
)
async def test_deep_and_large_filters(listed: Store, text: str, expected: list[str]) -> None:
    """Filters as deep and as long as Temporal takes compile to SQL each database parses."""
    assert await ids(listed, text) == expected
    assert await listed.count_executions("ns", filters.check(parse(text), TYPES, True), TYPES)


def test_more_values_than_a_statement_can_bind_are_invalid() -> None:
    many_tags = "Tags IN (" + ", ".join(f"'t{i}'" for i in range(40_000)) + ")"
    with pytest.raises(InvalidArgumentError, match="compares with more than 30000 values"):
        visibility_sql.counting(SqliteDialect(), "ns", filters.check(parse(many_tags), TYPES), TYPES)


def test_and_or_alternating_past_what_databases_parse_is_invalid() -> None:
    with pytest.raises(InvalidArgumentError, match="AND and OR nest too deeply"):
        visibility_sql.counting(SqliteDialect(), "ns", filters.check(parse(_alternating(150)), TYPES), TYPES)


async def test_pages_continue_after_the_last_run_of_the_previous_page(listed: Store) -> None:
    first = await page(listed, "", limit=2)
    assert [e.workflow_id for e in first] == ["a-1", "b_2"]
    for last, expected in ((first[-1], ["b-1", "a-2"]), (first[0], ["b_2", "b-1"])):
        after = ListCursor(last.close_time, last.start_time, last.run_id)
        assert [e.workflow_id for e in await page(listed, "", 2, after)] == expected
    after = ListCursor(250.0, 200.0, "run-a-2")
    assert await page(listed, "", 2, after) == []
    filtered = await page(listed, "WorkflowType = 'Beta' OR Color = 'red'", 2)
    assert [e.workflow_id for e in filtered] == ["a-1", "b_2"]
    after = ListCursor(filtered[-1].close_time, filtered[-1].start_time, filtered[-1].run_id)
    assert [
        e.workflow_id for e in await page(listed, "WorkflowType = 'Beta' OR Color = 'red'", 2, after)
    ] == ["b-1"]


async def test_runs_closed_together_list_by_start_time_then_run_id(store: Store) -> None:
    for workflow_id, start in (("x", 5.0), ("y", 7.0), ("z", 7.0)):
        await store.commit(run(workflow_id, "T", 2, start, 9.0, {}))
    await store.commit(run("open-old", "T", 1, 1.0, None, {}))
    await store.commit(run("open-new", "T", 1, 8.0, None, {}))
    order = ["open-new", "open-old", "y", "z", "x"]
    assert await ids(store, "") == order
    seen: list[str] = []
    after = None
    while rows := await page(store, "", 1, after):
        seen += [r.workflow_id for r in rows]
        after = ListCursor(rows[-1].close_time, rows[-1].start_time, rows[-1].run_id)
    assert seen == order


async def test_counts(listed: Store) -> None:
    async def count(text: str) -> list[tuple[int | None, int]]:
        return await listed.count_executions("ns", filters.check(parse(text), TYPES, counting=True), TYPES)

    assert await count("") == [(None, 4)]
    assert await count("Color = 'none'") == [(None, 0)]
    assert sorted(await count("GROUP BY ExecutionStatus")) == [(1, 1), (2, 2), (4, 1)]
    assert sorted(await count("WorkflowType = 'Beta' GROUP BY ExecutionStatus")) == [(2, 1), (4, 1)]


async def test_a_status_change_moves_the_run_in_the_listing(listed: Store) -> None:
    """Status and close time are written apart from the state, and only when they change."""
    key = ExecutionKey("ns", "a-1", "run-a-1")
    for version in (1, 2):  # closing, then a change that leaves status and close time alone
        await listed.commit(
            ExecutionWrite(
                key=key,
                expected_version=version,
                state=b"v%d" % version,
                status=2,
                workflow_type="Alpha",
                task_queue="q",
                start_time=100.0,
                close_time=300.0,
            )
        )
        assert await ids(listed, "") == ["b_2", "b-1", "a-1", "a-2"]
        assert await ids(listed, "ExecutionStatus = 'Completed'") == ["b-1", "a-1", "a-2"]
        stored = await listed.load_execution(key)
        assert stored is not None and stored.version == version + 1


@pytest.mark.parametrize(
    "text",
    [
        "Size = 'big'",
        "Nope = 1",
        "Done = 3",
        "Tags > 'a'",
        "ExecutionStatus = 'Sleeping'",
        "GROUP BY WorkflowType",
        "Note STARTS_WITH 'good'",
        "Note = ''",
        "ORDER BY StartTime",
        "Done = 'false'",
    ],
)
def test_bad_filters_are_invalid(text: str) -> None:
    with pytest.raises(InvalidArgumentError):
        filters.check(parse(text), TYPES, counting=True)
