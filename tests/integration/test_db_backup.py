"""``cadenza db backup`` of a server under load, ``db restore``, and a damaged file refused.

The backup is taken by its own process while the server runs with a worker polling and
workflows waiting on timers and activities; the restored file, served by a new server, runs
every workflow the backup holds to completion.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.worker import Worker

from cadenza.matching import version_sets as vs
from cadenza.matching.version_set_book import VersionSetBook
from cadenza.persistence.backends import open_store
from tests import servers
from tests.integration import workflows_db_ops as w

pytestmark = pytest.mark.timeout(120)
WORKFLOWS = 20


async def cli(*args: str) -> tuple[int, str]:
    """``cadenza ARGS`` as its own process, without blocking the workers on this event loop."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cadenza",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode()


@asynccontextmanager
async def serving(url: str, log: Path) -> AsyncIterator[tuple[servers.ServerProcess, Client]]:
    server = servers.cadenza_at(url, log)
    server.start()
    try:
        await server.wait_ready()
        yield server, await Client.connect(server.address)
    finally:
        server.stop()


def worker(client: Client, queue: str) -> Worker:
    return Worker(
        client,
        task_queue=queue,
        workflows=[w.TimerActivityTimer, w.Tick],
        activities=[w.step],
        graceful_shutdown_timeout=timedelta(seconds=1),
    )


async def start_workflows(client: Client, queue: str, count: int = WORKFLOWS) -> list[str]:
    ids = [f"wf-{uuid.uuid4().hex[:10]}" for _ in range(count)]
    for number, workflow_id in enumerate(ids):
        await client.start_workflow(
            w.TimerActivityTimer.run,
            number,
            id=workflow_id,
            task_queue=queue,
            task_timeout=timedelta(seconds=2),
        )
        await asyncio.sleep(0.05)
    return ids


async def complete_all(client: Client, queue: str, ids: list[str]) -> None:
    """Every workflow of ``ids`` completes under a fresh worker."""
    async with worker(client, queue):
        results = await asyncio.gather(*(client.get_workflow_handle(i).result() for i in ids))
    assert len(results) == len(ids) and all(result.startswith("step ") for result in results)


async def test_a_backup_taken_under_load_restores_into_a_server_that_completes_every_workflow(
    tmp_path: Path,
) -> None:
    queue = f"tq-{uuid.uuid4().hex[:8]}"
    live, backup_file, restored = tmp_path / "live.db", tmp_path / "backup.db", tmp_path / "restored.db"
    async with serving(str(live), tmp_path / "live.log") as (server, client):
        async with worker(client, queue):
            await start_workflows(client, queue)
            # More workflows start while the backup runs: it holds those committed before it began.
            _, (code, out) = await asyncio.gather(
                start_workflows(client, queue, 3 * WORKFLOWS),
                cli("db", "backup", "--db", str(live), "--to", str(backup_file)),
            )
            assert code == 0, out
        server.kill()
    assert "backup written and checked" in out and "schema version" in out

    code, out = await cli("db", "restore", "--from", str(backup_file), "--db", str(restored))
    assert code == 0, out
    async with serving(str(restored), tmp_path / "restored.log") as (_, client):
        listed = [(e.id, e.status) async for e in client.list_workflows()]
        assert len(listed) > WORKFLOWS
        assert WorkflowExecutionStatus.RUNNING in {status for _, status in listed}, (
            "the backup was taken after every workflow had finished"
        )
        await complete_all(client, queue, [workflow_id for workflow_id, _ in listed])


async def test_restore_refuses_a_served_path_and_an_existing_file_and_checks_the_backup(
    tmp_path: Path,
) -> None:
    live, backup_file = tmp_path / "live.db", tmp_path / "backup.db"
    async with serving(str(live), tmp_path / "live.log"):
        code, out = await cli("db", "backup", "--db", str(live), "--to", str(backup_file))
        assert code == 0, out
        code, out = await cli("db", "restore", "--from", str(backup_file), "--db", str(live), "--force")
        assert code == 1 and "in use by another Cadenza process" in out
    code, out = await cli("db", "backup", "--db", str(live), "--to", str(backup_file))
    assert code == 1 and "exists and is not empty" in out
    code, out = await cli("db", "restore", "--from", str(backup_file), "--db", str(live))
    assert code == 1 and "exists and is not empty" in out
    damage_table(backup_file, "executions")
    code, out = await cli("db", "restore", "--from", str(backup_file), "--db", str(tmp_path / "new.db"))
    assert code == 1 and "is damaged" in out
    assert not (tmp_path / "new.db").exists() or (tmp_path / "new.db").stat().st_size == 0


def damage_table(path: Path, table: str) -> None:
    """Overwrite the b-tree root page of ``table`` with garbage, as a failing disk would."""
    conn = sqlite3.connect(path)
    try:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
    finally:
        conn.close()
    with path.open("r+b") as file:
        file.seek((root - 1) * page_size)
        file.write(bytes([0xA5]) * page_size)


@pytest.mark.parametrize("damage", ["table page", "header"])
async def test_a_damaged_database_is_refused_at_start_with_a_clear_message(
    tmp_path: Path, damage: str
) -> None:
    db = tmp_path / "cadenza.db"
    async with serving(str(db), tmp_path / "first.log"):
        pass
    if damage == "header":
        with db.open("r+b") as file:
            file.write(b"not a database header")
    else:
        damage_table(db, "namespaces")
    server = servers.cadenza_at(str(db), tmp_path / "second.log")
    server.start()
    with pytest.raises(RuntimeError, match="server exited early"):
        await server.wait_ready()
    assert server.returncode == 1
    assert f"the SQLite database {db} is damaged" in server.log_text()


async def test_restore_refuses_a_schema_newer_than_this_cadenza_and_backup_names_pg_dump(
    tmp_path: Path,
) -> None:
    newer = tmp_path / "newer.db"
    code, out = await cli("db", "migrate", "--db", str(newer))
    assert code == 0, out
    with sqlite3.connect(newer) as conn:
        conn.execute("INSERT INTO schema_migrations VALUES (999, 'future', 'x', '2030-01-01T00:00:00+00:00')")
    conn.close()
    code, out = await cli("db", "restore", "--from", str(newer), "--db", str(tmp_path / "target.db"))
    assert code == 1 and "newer than this Cadenza knows" in out
    assert not (tmp_path / "target.db").exists()
    code, out = await cli("db", "backup", "--db", "postgresql://host/db", "--to", str(tmp_path / "b.db"))
    assert code == 1 and "use pg_dump" in out


async def test_version_sets_come_back_from_a_backup_and_a_damaged_build_id_table_is_caught(
    tmp_path: Path,
) -> None:
    live, backup_file, restored = tmp_path / "live.db", tmp_path / "backup.db", tmp_path / "restored.db"
    store = open_store(str(live))
    await store.open()
    try:
        await VersionSetBook(store, vs.SetLimits()).update("ns", "q", lambda s: vs.add_new_default(s, "1.0"))
    finally:
        await store.close()
    code, out = await cli("db", "backup", "--db", str(live), "--to", str(backup_file))
    assert code == 0, out
    code, out = await cli("db", "restore", "--from", str(backup_file), "--db", str(restored))
    assert code == 0, out
    store = open_store(str(restored))
    await store.open()
    try:
        book = VersionSetBook(store, vs.SetLimits())
        assert (await book.get("ns", "q")).names() == [["1.0"]]
        assert await book.queues_holding("ns", "1.0") == ["q"]
    finally:
        await store.close()
    damage_table(backup_file, "task_queue_build_ids")
    code, out = await cli("db", "restore", "--from", str(backup_file), "--db", str(tmp_path / "new.db"))
    assert code == 1 and "is damaged" in out
