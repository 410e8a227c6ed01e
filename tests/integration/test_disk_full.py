"""A full disk or a read-only database: writes fail with a status clients retry, nothing is
half-written, and once space returns the server carries on by itself, old workflows too.

Once on a real full filesystem (a small tmpfs, where the test may mount one), and once with
SQLite's own errors (``database or disk is full``, ``attempt to write a readonly database``)
raised at the group commit, where SQLite raises them.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import sqlite3
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from temporalio.api.common.v1 import WorkflowType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import StartWorkflowExecutionRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker

from cadenza.persistence.sqlite import store as sqlite_store
from tests import postgres, servers
from tests.faults import workload
from tests.faults.plan import FaultPlan, Rates
from tests.faults.sqlite_connection import DISK_FULL, READ_ONLY, faulty_connect
from tests.faults.workload import Gate

pytestmark = pytest.mark.skipif(
    postgres.suite_server() is not None, reason="a SQLite file's disk; PostgreSQL has its own"
)

REFUSED = (RPCStatusCode.UNAVAILABLE, RPCStatusCode.RESOURCE_EXHAUSTED)


def _start_request(workflow_id: str, task_queue: str) -> StartWorkflowExecutionRequest:
    return StartWorkflowExecutionRequest(
        namespace="default",
        workflow_id=workflow_id,
        workflow_type=WorkflowType(name="Gate"),
        task_queue=TaskQueue(name=task_queue),
        request_id=str(uuid.uuid4()),
    )


async def _refused_then_carried_on(
    address: str, fill: Callable[[], None], free: Callable[[], None], says: str
) -> None:
    """While storage is full, a start is refused and leaves no trace; once freed, the same start
    works and a workflow started before the disk filled finishes."""
    client = await Client.connect(address)
    task_queue = f"full-{uuid.uuid4().hex[:8]}"
    async with Worker(client, task_queue=task_queue, workflows=[Gate], activities=workload.ACTIVITIES):
        old = await client.start_workflow(Gate.run, 1, id=f"old-{task_queue}", task_queue=task_queue)
        request = _start_request(f"new-{task_queue}", task_queue)
        fill()
        with pytest.raises(RPCError) as refused:
            await client.workflow_service.start_workflow_execution(request, retry=False)
        assert refused.value.status in REFUSED
        assert says in refused.value.message
        with pytest.raises(RPCError) as missing:
            await client.get_workflow_handle(request.workflow_id).describe()
        assert missing.value.status == RPCStatusCode.NOT_FOUND
        free()
        await client.workflow_service.start_workflow_execution(request, retry=False)
        new = client.get_workflow_handle_for(Gate.run, request.workflow_id)
        for handle in (old, new):
            await handle.signal(Gate.go)
        assert await asyncio.wait_for(old.result(), 30) == 2
        assert await asyncio.wait_for(new.result(), 30) == 1


@pytest.mark.parametrize("message", [DISK_FULL, READ_ONLY])
async def test_sqlite_write_errors_refuse_the_change_until_they_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, message: str
) -> None:
    rates: dict[str, Rates] = {}
    plan = FaultPlan(0, rates)
    monkeypatch.setattr(sqlite_store, "connect", faulty_connect(sqlite_store.connect, plan, message))
    db = tmp_path / "full.db"
    async with servers.in_process(db=db) as server:
        await _refused_then_carried_on(
            server.address,
            lambda: rates.update({"group.commit": Rates(fail_before=1.0)}),
            rates.clear,
            message,
        )
    assert _integrity(db) == "ok"


@contextlib.contextmanager
def _small_filesystem(folder: Path) -> Iterator[Path]:
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(folder)], capture_output=True, check=False
    )
    if mounted.returncode != 0:
        pytest.skip("mounting a small tmpfs needs root")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def _fill(folder: Path, db: Path) -> None:
    """Take every free byte of the filesystem, after emptying the write-ahead log (else a commit
    could reuse the log's pages and need no new space)."""
    with contextlib.closing(sqlite3.connect(db)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    chunk = b"\0" * 65536
    with (folder / "filler").open("wb") as filler:
        try:
            while True:
                filler.write(chunk)
                filler.flush()
        except OSError as error:
            assert error.errno == errno.ENOSPC


async def test_a_full_filesystem_refuses_writes_until_space_returns(tmp_path: Path) -> None:
    with _small_filesystem(tmp_path / "small") as folder:
        db = folder / "cadenza.db"
        async with servers.in_process(db=db) as server:
            await _refused_then_carried_on(
                server.address, lambda: _fill(folder, db), (folder / "filler").unlink, DISK_FULL
            )
        assert _integrity(db) == "ok"


def _integrity(db: Path) -> str:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
