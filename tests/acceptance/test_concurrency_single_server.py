"""A single server counts its concurrency slots in memory alone: a dispatch or a start under a
limit writes its slot to the database, for a restart, but counts none of the slots stored there
(replicas sharing a database must, as the others' slots are stored only)."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
from temporalio.client import Client

from cadenza.concurrency import ACTIVITY_QUEUE, WORKFLOW_TYPE
from tests import servers
from tests.acceptance import workflows_concurrency as wc
from tests.acceptance.test_concurrency_limits import most_overlapping, set_limit, worker_process


async def test_a_single_servers_limited_dispatches_and_starts_count_no_stored_slots(tmp_path: Path) -> None:
    async with servers.in_process(tmp_path / "cadenza.db") as cadenza:
        if cadenza.db.startswith("postgresql"):
            pytest.skip("replicas on one database count the stored slots")
        statements: list[str] = []
        writer = cadenza.server._store._conn  # type: ignore[attr-defined]
        writer.set_trace_callback(statements.append)  # every statement SQLite runs, as run
        try:
            client = await Client.connect(cadenza.address)
            queue = f"single-{uuid.uuid4().hex[:6]}"
            await set_limit(cadenza, ACTIVITY_QUEUE, queue, 2, fairnessKeyLimit=1)
            await set_limit(cadenza, WORKFLOW_TYPE, "OneStep", 4)
            log = tmp_path / "activities.log"
            handles = [
                await client.start_workflow(
                    wc.OneStep.run, args=[f"{key}{i}", key], id=f"{queue}-{key}{i}", task_queue=queue
                )
                for i in range(2)
                for key in "ab"
            ]
            with worker_process(cadenza.address, queue, log):
                results = await asyncio.wait_for(asyncio.gather(*(h.result() for h in handles)), 60)
        finally:
            writer.set_trace_callback(None)
    assert sorted(results) == ["a0", "a1", "b0", "b1"]
    assert most_overlapping(log, "a") == most_overlapping(log, "b") == 1  # the limits held
    taken = [s for s in statements if s.lstrip().startswith("INSERT INTO concurrency_slots")]
    assert len(taken) >= 8  # each start and each activity attempt took its slot in the store
    assert [s for s in statements if "COUNT(*) FROM concurrency_slots" in s] == []
