"""Reads see an execution as last committed, never a change still being written.

A change mutates the cached run in memory before its transaction commits, so a
read that does not wait could report a close that is not yet durable (and that
a failed commit would take back), or look for the close event in a history the
commit has not extended yet. The store's commit is held open here to widen that
window, as slow storage would.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from temporalio.client import Client, WorkflowExecutionStatus

from cadenza.persistence.records import ExecutionWrite
from tests import servers
from tests.acceptance import workflows as w
from tests.helpers import Registered, worker_for

GREETER = Registered([w.OneActivity], [w.shout])
RUNNING = WorkflowExecutionStatus.RUNNING.value


class HeldClose:
    """Holds the commit of the change that closes a run until ``release`` is set."""

    def __init__(self, commit: Callable[..., Awaitable[None]]) -> None:
        self._commit = commit
        self.closing = asyncio.Event()
        self.release = asyncio.Event()

    async def __call__(self, write: ExecutionWrite, *more: ExecutionWrite) -> None:
        if write.status != RUNNING and not self.release.is_set():
            self.closing.set()
            await self.release.wait()
        await self._commit(write, *more)


async def _pending(task: asyncio.Task[Any]) -> bool:
    """Whether ``task`` is still waiting after the server has had time to answer it."""
    await asyncio.sleep(0.3)
    return not task.done()


async def test_a_close_being_committed_is_not_read_before_it_is_durable(
    monkeypatch: pytest.MonkeyPatch, workflow_id: str, task_queue: str
) -> None:
    async with servers.in_process() as server:
        store = server.server._store
        held = HeldClose(store.commit)
        monkeypatch.setattr(store, "commit", held)
        client = await Client.connect(server.address)
        async with worker_for(client, task_queue, GREETER):
            handle = await client.start_workflow(
                w.OneActivity.run, "there", id=workflow_id, task_queue=task_queue
            )
            await asyncio.wait_for(held.closing.wait(), 20)
            described = asyncio.create_task(handle.describe())
            result = asyncio.create_task(handle.result())  # a close-event-only history long poll
            assert await _pending(described), "a close not yet committed was reported"
            held.release.set()
            assert (await described).status == WorkflowExecutionStatus.COMPLETED
            assert await result == "Hello, there!"
