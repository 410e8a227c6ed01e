"""``cadenza db copy`` from SQLite into PostgreSQL, with real servers on both sides.

Workflows and a schedule run on a SQLite server that is stopped mid-run; the copy moves every
table, its counts and checksums match; a server on PostgreSQL then completes every workflow
and the schedule keeps firing. A non-empty target is refused, a served source too, and a row
changed after the copy is caught by ``db compare``.
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleIntervalSpec,
    ScheduleSpec,
    WorkflowExecutionStatus,
)

from cadenza.matching import version_sets as vs
from cadenza.matching.version_set_book import VersionSetBook
from cadenza.persistence.backends import open_store
from tests import postgres
from tests.integration import workflows_db_ops as w
from tests.integration.test_db_backup import cli, complete_all, serving, start_workflows, worker

pytestmark = pytest.mark.timeout(120)
WORKFLOWS = 15


async def create_schedule(client: Client, queue: str) -> str:
    schedule_id = f"sched-{uuid.uuid4().hex[:8]}"
    await client.create_schedule(
        schedule_id,
        Schedule(
            action=ScheduleActionStartWorkflow(w.Tick.run, id=f"tick-{schedule_id}", task_queue=queue),
            spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(seconds=1))]),
        ),
    )
    return schedule_id


async def schedule_actions(client: Client, schedule_id: str) -> int:
    return (await client.get_schedule_handle(schedule_id).describe()).info.num_actions


async def wait_for_more_actions(client: Client, schedule_id: str, than: int) -> int:
    """The schedule's action count once it has fired at least twice more than ``than``."""
    for _ in range(300):
        actions = await schedule_actions(client, schedule_id)
        if actions > than + 1:
            return actions
        await asyncio.sleep(0.2)
    raise AssertionError(f"schedule {schedule_id} stopped firing at {than} actions")


async def test_a_stopped_sqlite_server_moves_to_postgresql_and_every_workflow_completes(
    tmp_path: Path, postgres_server: str
) -> None:
    queue = f"tq-{uuid.uuid4().hex[:8]}"
    source = tmp_path / "cadenza.db"
    target = await postgres.create_database(postgres_server)
    try:
        async with serving(str(source), tmp_path / "sqlite.log") as (server, client):
            schedule_id = await create_schedule(client, queue)
            code, out = await cli("db", "copy", "--from", str(source), "--to", target)
            assert code == 1 and "in use by another Cadenza process" in out
            async with worker(client, queue):
                before = await wait_for_more_actions(client, schedule_id, 0)
                ids = await start_workflows(client, queue, WORKFLOWS)
                await asyncio.sleep(1)
            server.stop()

        code, out = await cli("db", "copy", "--from", str(source), "--to", target)
        assert code == 0, out
        assert "ok: " in out and "MISMATCH" not in out
        for table in ("executions", "history_batches", "timers", "schedules", "namespaces"):
            assert f" {table}\n" in out
        code, out = await cli("db", "copy", "--from", str(source), "--to", target)
        assert code == 1 and "the target database is not empty" in out

        async with serving(target, tmp_path / "postgres.log") as (_, client):
            running = [
                e.id async for e in client.list_workflows(f"WorkflowType = '{w.TimerActivityTimer.__name__}'")
            ]
            assert sorted(running) == sorted(ids)
            described = [await client.get_workflow_handle(i).describe() for i in ids]
            assert any(d.status == WorkflowExecutionStatus.RUNNING for d in described)
            await complete_all(client, queue, ids)
            async with worker(client, queue):
                await wait_for_more_actions(client, schedule_id, before)
    finally:
        await postgres.drop_database(postgres_server, target)


async def add_a_table_on_both_sides(source: Path, target: str) -> None:
    """A table as a later migration would add it: the copy moves it without being told of it."""
    with sqlite3.connect(source) as conn:
        conn.execute(
            "CREATE TABLE later_table (id TEXT PRIMARY KEY, at REAL NOT NULL, flag INTEGER NOT NULL, "
            "doc TEXT NOT NULL, data BLOB, n INTEGER)"
        )
        conn.executemany(
            "INSERT INTO later_table VALUES (?, ?, ?, ?, ?, ?)",
            [
                ("a", 1.25, 1, '{"b": 1, "a": [1.5, "x"]}', b"\x00\xff", 2**40),
                ("b", 0.1, 0, "{}", None, None),
            ],
        )
    conn.close()
    pg = await asyncpg.connect(target)
    try:
        await pg.execute(
            "CREATE TABLE later_table (id TEXT PRIMARY KEY, at DOUBLE PRECISION NOT NULL, "
            "flag BOOLEAN NOT NULL, doc JSONB NOT NULL, data BYTEA, n BIGINT, "
            "seq BIGINT GENERATED ALWAYS AS IDENTITY, added TEXT NOT NULL DEFAULT '')"
        )
    finally:
        await pg.close()


async def test_compare_catches_a_row_changed_after_the_copy(tmp_path: Path, postgres_server: str) -> None:
    queue = f"tq-{uuid.uuid4().hex[:8]}"
    source = tmp_path / "cadenza.db"
    target = await postgres.create_database(postgres_server)
    try:
        async with serving(str(source), tmp_path / "sqlite.log") as (_, client):
            await start_workflows(client, queue, 3)
        await add_a_table_on_both_sides(source, target)
        code, out = await cli("db", "copy", "--from", str(source), "--to", target)
        assert code == 0, out
        assert "copied          2 rows  later_table" in out
        assert "tables match" in out and "MISMATCH" not in out

        conn = await asyncpg.connect(target)
        try:
            await conn.execute("UPDATE executions SET history_length = history_length + 1")
            code, out = await cli("db", "compare", "--from", str(source), "--to", target)
            assert code == 1 and "MISMATCH" in out and "differ in executions" in out
            await conn.execute("UPDATE executions SET history_length = history_length - 1")
            await conn.execute("DELETE FROM tasks WHERE task_id = (SELECT min(task_id) FROM tasks)")
            code, out = await cli("db", "compare", "--from", str(source), "--to", target)
            assert code == 1 and "differ in tasks" in out
        finally:
            await conn.close()
    finally:
        await postgres.drop_database(postgres_server, target)


async def test_version_sets_move_and_still_find_their_queues_by_build_id(
    tmp_path: Path, postgres_server: str
) -> None:
    source = tmp_path / "cadenza.db"
    lite = open_store(str(source))
    await lite.open()
    try:
        book = VersionSetBook(lite, vs.SetLimits())
        await book.update("ns", "q", lambda state: vs.add_new_default(state, "1.0"))
        await book.update("ns", "q", lambda state: vs.add_compatible(state, "1.1", "1.0", False))
        await book.update("ns", "r", lambda state: vs.add_new_default(state, "1.0"))
    finally:
        await lite.close()
    target = await postgres.create_database(postgres_server)
    try:
        code, out = await cli("db", "copy", "--from", str(source), "--to", target)
        assert code == 0, out
        assert "2 rows  task_queue_version_sets\n" in out and "3 rows  task_queue_build_ids\n" in out
        assert "tables match" in out and "MISMATCH" not in out
        pg = open_store(target)
        await pg.open()
        try:
            book = VersionSetBook(pg, vs.SetLimits())
            assert (await book.get("ns", "q")).names() == [["1.0", "1.1"]]
            assert await book.queues_holding("ns", "1.0") == ["q", "r"]
            await book.update("ns", "r", lambda state: vs.add_new_default(state, "2.0"))
            assert await book.queues_holding("ns", "2.0") == ["r"]
        finally:
            await pg.close()
        code, out = await cli("db", "compare", "--from", str(source), "--to", target)
        assert code == 1 and "differ in task_queue_build_ids" in out
    finally:
        await postgres.drop_database(postgres_server, target)
