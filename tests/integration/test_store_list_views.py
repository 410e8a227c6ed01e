"""What the workflow list's views keep in the store, on every backend: listings in each order
a filter may ask for, paged without repeating or skipping a run however many share a time, and
saved views unique by name within a namespace."""

from __future__ import annotations

import sqlite3

import pytest

from cadenza.persistence import visibility_sql
from cadenza.persistence.records import ListCursor, ListedExecution
from cadenza.persistence.sqlite.visibility import SqliteDialect
from cadenza.persistence.store import Store
from cadenza.visibility import filters
from cadenza.visibility.query import parse
from tests.integration.test_store_visibility import TYPES, run

# (workflow ID, start, close): times shared on purpose, open runs among them.
RUNS = [
    ("a", 5.0, 9.0),
    ("b", 7.0, None),
    ("c", 7.0, 9.0),
    ("d", 7.0, 12.0),
    ("e", 3.0, None),
    ("f", 7.0, 9.0),
    ("g", 1.0, 12.0),
]
ORDERS = [
    "",
    "ORDER BY StartTime",
    "ORDER BY StartTime DESC",
    "ORDER BY CloseTime",
    "ORDER BY CloseTime DESC",
]


def expected(order: str) -> list[str]:
    """The order worked out by hand: Temporal's (close time newest first, open runs as if
    closing last), or by start or close time, the run ID breaking every tie."""
    by_close = sorted(RUNS, key=lambda r: (-(r[2] or 9e18), -r[1], r[0]))
    by_start = sorted(RUNS, key=lambda r: (r[1], r[0]))
    rows = {
        "": by_close,
        "ORDER BY CloseTime DESC": by_close,
        "ORDER BY CloseTime": by_close[::-1],
        "ORDER BY StartTime": by_start,
        "ORDER BY StartTime DESC": by_start[::-1],
    }[order]
    return [workflow_id for workflow_id, _, _ in rows]


async def page(store: Store, text: str, limit: int, after: ListCursor | None) -> list[ListedExecution]:
    return await store.list_executions("ns", filters.check(parse(text), TYPES), TYPES, limit, after)


@pytest.fixture
async def tied(store: Store) -> Store:
    for workflow_id, start, close in RUNS:
        await store.commit(run(workflow_id, "T", 1 if close is None else 2, start, close, {}))
    return store


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("limit", [1, 2, 3, 100])
async def test_every_order_pages_through_each_run_once(tied: Store, order: str, limit: int) -> None:
    seen: list[str] = []
    after = None
    while rows := await page(tied, order, limit, after):
        seen += [row.workflow_id for row in rows]
        after = ListCursor(rows[-1].close_time, rows[-1].start_time, rows[-1].run_id)
    assert seen == expected(order)


async def test_an_ordered_filter_pages_within_its_matches(tied: Store) -> None:
    text = "StartTime >= '1970-01-01T00:00:05Z' ORDER BY StartTime"
    first = await page(tied, text, 2, None)
    last = first[-1]
    rest = await page(tied, text, 10, ListCursor(last.close_time, last.start_time, last.run_id))
    assert [row.workflow_id for row in first + rest] == ["a", "b", "c", "d", "f"]


def test_a_page_by_start_time_is_read_from_an_index_where_the_last_one_ended() -> None:
    """No sorting step and no walk over earlier pages: SQLite seeks ``executions_by_start_time``,
    either way, to just after the previous page's last run."""
    conn = sqlite3.connect(":memory:")
    for statement in (
        "CREATE TABLE executions (namespace_id, workflow_id, run_id, workflow_type, task_queue, status, "
        "start_time, close_time, execution_time, history_length, search_payloads, memo, search_attributes)",
        "CREATE INDEX executions_by_start_time ON executions (namespace_id, start_time DESC, run_id DESC)",
    ):
        conn.execute(statement)
    for order in ("ORDER BY StartTime", "ORDER BY StartTime DESC"):
        sql, params = visibility_sql.listing(
            SqliteDialect(), "ns", filters.check(parse(order), TYPES), TYPES, 50, ListCursor(None, 5.0, "r")
        )
        plan = " ".join(str(row[-1]) for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params))
        assert "executions_by_start_time" in plan and "TEMP B-TREE" not in plan, plan
        assert "(start_time,run_id)" in plan, plan


async def test_saved_views_are_unique_by_name_within_a_namespace(store: Store) -> None:
    assert await store.save_view("ns", "Failed", "status=Failed", 100.0, "user:ada")
    assert await store.save_view("ns", "All", "", 101.0, "")
    assert not await store.save_view("ns", "Failed", "status=Running", 102.0, "user:bob")
    assert await store.save_view("other", "Failed", "sort=start-asc", 103.0, "")
    views = await store.saved_views("ns")
    assert [(v.name, v.query_string, v.created_at, v.created_by) for v in views] == [
        ("All", "", 101.0, ""),
        ("Failed", "status=Failed", 100.0, "user:ada"),
    ]
    assert await store.delete_view("ns", "Failed")
    assert not await store.delete_view("ns", "Failed")
    assert [v.name for v in await store.saved_views("ns")] == ["All"]
    assert [v.query_string for v in await store.saved_views("other")] == ["sort=start-asc"]


async def test_deleting_a_namespace_forgets_its_saved_views(store: Store) -> None:
    await store.save_view("gone", "Mine", "", 1.0, "")
    await store.delete_namespace("gone")
    assert await store.saved_views("gone") == []
