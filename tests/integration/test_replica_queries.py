"""Queries asked through one replica and answered by a worker that polls only another.

The caller's replica offers the query to the others through the database; the
worker's replica claims it, builds the task from the stored execution, and
stores the answer for the caller's replica. Nothing stays in the ``queries``
table once the callers are done, whether answered, failed or timed out.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest
from temporalio.client import Client, WorkflowHandle, WorkflowQueryFailedError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker

from tests.helpers import eventually
from tests.integration import workflows_replicas as w
from tests.integration.replica_servers import replicas

pytestmark = [pytest.mark.replicas, pytest.mark.timeout(120)]


@dataclass
class Pair:
    """Two replicas on one database: the caller's (A) and the worker's (B)."""

    asker: Client
    worker_side: Client
    url: str

    def worker(self, task_queue: str) -> Worker:
        """A worker connected to B only."""
        return Worker(
            self.worker_side,
            task_queue=task_queue,
            workflows=[w.Tally],
            graceful_shutdown_timeout=timedelta(seconds=1),
        )

    async def start(self, task_queue: str, name: str) -> WorkflowHandle[w.Tally, list[int]]:
        """Start through A, so A holds nothing B's worker does not get through the database."""
        return await self.asker.start_workflow(w.Tally.run, id=f"{name}-{task_queue}", task_queue=task_queue)

    async def stored_queries(self) -> int:
        conn = await asyncpg.connect(self.url)
        try:
            return int(await conn.fetchval("SELECT count(*) FROM queries"))
        finally:
            await conn.close()

    async def until_stored_queries(self, count: int) -> None:
        """Wait up to 10 s for the number of stored queries to be ``count``."""

        async def stored() -> None:
            assert await self.stored_queries() == count

        await eventually(stored, timeout=10)


@pytest.fixture
async def pair(postgres_database: str, tmp_path: Path) -> AsyncIterator[Pair]:
    async with replicas(postgres_database, tmp_path, 2) as (a, b):
        yield Pair(await Client.connect(a.address), await Client.connect(b.address), postgres_database)


async def test_queries_through_one_replica_are_answered_by_a_worker_on_the_other(
    pair: Pair, task_queue: str
) -> None:
    async with pair.worker(task_queue):
        handles = [await pair.start(task_queue, f"tally-{i}") for i in range(3)]
        assert [await h.query(w.Tally.total) for h in handles] == [0, 0, 0]
        for i, handle in enumerate(handles):
            for value in range(i + 1):
                await handle.signal(w.Tally.add, 10 * i + value + 1)
        # Several at once, each reflecting the signals sent before it.
        totals = await asyncio.gather(*(h.query(w.Tally.total) for h in handles))
        assert totals == [1, 11 + 12, 21 + 22 + 23]
        assert await handles[2].query(w.Tally.seen) == [21, 22, 23]
        through_b = pair.worker_side.get_workflow_handle(handles[2].id)
        assert await through_b.query(w.Tally.seen) == [21, 22, 23]
        await handles[1].signal(w.Tally.finish)
        assert await handles[1].result() == [11, 12]
        assert await handles[1].query(w.Tally.total) == 23  # closed: replayed from history
    assert await pair.stored_queries() == 0


async def test_a_query_failing_in_the_workflow_fails_the_caller_on_the_other_replica(
    pair: Pair, task_queue: str
) -> None:
    async with pair.worker(task_queue):
        handle = await pair.start(task_queue, "broken")
        await handle.signal(w.Tally.add, 5)
        with pytest.raises(WorkflowQueryFailedError, match="cannot answer after 1 values"):
            await handle.query(w.Tally.broken)
        assert await handle.query(w.Tally.total) == 5
        await handle.signal(w.Tally.finish)
        assert await handle.result() == [5]
    assert await pair.stored_queries() == 0


async def test_a_query_nobody_answers_times_out_and_leaves_nothing_behind(
    pair: Pair, task_queue: str
) -> None:
    async with pair.worker(task_queue):
        handle = await pair.start(task_queue, "unanswered")
        assert await handle.query(w.Tally.total) == 0  # its first workflow task is done
    # The worker is gone: no poll on either replica takes the query, which stays offered.
    asked = asyncio.create_task(handle.query(w.Tally.total, rpc_timeout=timedelta(seconds=3)))
    await pair.until_stored_queries(1)
    with pytest.raises(RPCError) as raised:
        await asked
    assert raised.value.status == RPCStatusCode.DEADLINE_EXCEEDED
    await pair.until_stored_queries(0)
