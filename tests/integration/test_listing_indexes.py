"""Listing reads the newest page of a common filter from an index, without sorting.

The listing order and pages themselves are checked on every backend in
test_store_visibility.py; here each backend's query plan is.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from cadenza.persistence import visibility_sql
from cadenza.persistence.backends import open_store
from cadenza.persistence.postgres.visibility import DIALECT as POSTGRES
from cadenza.persistence.records import (
    CurrentExecution,
    ExecutionKey,
    ExecutionWrite,
    ListCursor,
    Visibility,
)
from cadenza.persistence.sqlite.visibility import DIALECT as SQLITE
from cadenza.persistence.store import Store
from cadenza.visibility import filters
from cadenza.visibility import query as q
from tests import postgres

RUNNING, COMPLETED = 1, 2
TYPES: dict[str, int] = {}


def run(index: int, workflow_type: str, closed_at: float | None) -> ExecutionWrite:
    key = ExecutionKey("ns", f"wf{index}", f"run{index}")
    return ExecutionWrite(
        key=key,
        expected_version=0,
        state=b"{}",
        workflow_type=workflow_type,
        task_queue="q",
        status=COMPLETED if closed_at else RUNNING,
        start_time=float(index),
        close_time=closed_at,
        new_current=CurrentExecution(key.run_id, 1, f"req{index}"),
        visibility=Visibility(float(index), 3, json.dumps({}), b"", b""),
    )


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = open_store(str(tmp_path / "v.db"))
    await opened.open()
    # Runs 0..9 start a second apart; the even ones are type A; runs 0..3 closed, run 0 last.
    for i in range(10):
        closed_at = {0: 50.0, 1: 40.0, 2: 30.0, 3: 40.0}.get(i)
        await opened.commit(run(i, "A" if i % 2 == 0 else "B", closed_at))
    yield opened
    await opened.close()


INDEXED = [
    ("", "executions_listed"),
    ("WorkflowType = 'A' AND ExecutionStatus = 'Running'", "executions_listed_by_type_status"),
    ("ExecutionStatus = 'Running' AND WorkflowType = 'A'", "executions_listed_by_type_status"),
    ("WorkflowType = 'A'", "executions_listed_by_type"),
    ("ExecutionStatus = 'Completed'", "executions_listed_by_status"),
    ("TaskQueue = 'q'", "executions_listed_by_queue"),
    ("WorkflowId = 'wf1'", "executions_listed_by_id"),
]
"""Filters the listing indexes serve, with the index each should use."""
AFTER = ListCursor(None, 5.0, "run5")


@pytest.mark.parametrize(("text", "index"), INDEXED)
async def test_sqlite_reads_the_newest_page_from_an_index_without_sorting(
    store: Store,
    tmp_path: Path,
    text: str,
    index: str,
) -> None:
    checked = filters.check(q.parse(text), TYPES)
    with sqlite3.connect(tmp_path / "v.db") as conn:
        for cursor in (None, AFTER):
            sql, params = visibility_sql.listing(SQLITE, "ns", checked, TYPES, 100, cursor)
            plan = " | ".join(row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params))
            assert f"USING INDEX {index} " in plan
            assert "TEMP B-TREE" not in plan  # no sort: the index is in listing order


@pytest.mark.parametrize(("text", "index"), INDEXED)
async def test_postgres_reads_the_newest_page_from_an_index_without_sorting(
    postgres_server: str,
    text: str,
    index: str,
) -> None:
    url = await postgres.create_database(postgres_server)
    migrated = open_store(url)
    await migrated.open()
    await migrated.close()
    checked = filters.check(q.parse(text), TYPES)
    conn = await asyncpg.connect(url)
    try:
        # A few rows make any plan cheap; asking for no table scan shows which index
        # the planner can read in listing order.
        await conn.execute("SET enable_seqscan = off")
        for cursor in (None, AFTER):
            sql, params = visibility_sql.listing(POSTGRES, "ns", checked, TYPES, 100, cursor)
            plan = " | ".join(row[0] for row in await conn.fetch(f"EXPLAIN {sql}", *params))
            assert f"Index Scan using {index} " in plan
            assert "Sort" not in plan
    finally:
        await conn.close()
        admin = await asyncpg.connect(postgres_server)
        await admin.execute(f'DROP DATABASE "{url.rsplit("/", 1)[-1]}" WITH (FORCE)')
        await admin.close()
