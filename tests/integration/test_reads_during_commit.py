"""Reads see an execution as last committed, never a change still being written.

A change mutates the cached run in memory before its transaction commits, so a
read that does not wait could report a close that is not yet durable (and that
a failed commit would take back), or look for the close event in a history the
commit has not extended yet. The store's commit is held open here to widen that
window, as slow storage would.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import History
from temporalio.client import WorkflowExecutionStatus

from cadenza.persistence.records import ExecutionWrite
from tests.acceptance import workflows as w
from tests.acceptance import workflows_messages as wm
from tests.held_commit import held_server
from tests.helpers import Registered

GREETER = Registered([w.OneActivity], [w.shout])
MAILBOX = Registered([wm.Mailbox])
RUNNING = WorkflowExecutionStatus.RUNNING.value


def closes_the_run(write: ExecutionWrite) -> bool:
    return write.status != RUNNING


def completes_an_update(write: ExecutionWrite) -> bool:
    events = History.FromString(write.events.data).events if write.events is not None else []
    return any(e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED for e in events)


async def _pending(task: asyncio.Task[Any]) -> bool:
    """Whether ``task`` is still waiting after the server has had time to answer it."""
    await asyncio.sleep(0.3)
    return not task.done()


async def test_a_close_being_committed_is_not_read_before_it_is_durable(
    monkeypatch: pytest.MonkeyPatch, workflow_id: str, task_queue: str
) -> None:
    async with held_server(monkeypatch, closes_the_run, task_queue, GREETER) as (client, held):
        handle = await client.start_workflow(
            w.OneActivity.run, "there", id=workflow_id, task_queue=task_queue
        )
        await asyncio.wait_for(held.holding.wait(), 20)
        described = asyncio.create_task(handle.describe())
        result = asyncio.create_task(handle.result())  # a close-event-only history long poll
        assert await _pending(described), "a close not yet committed was reported"
        held.release.set()
        assert (await described).status == WorkflowExecutionStatus.COMPLETED
        assert await result == "Hello, there!"


async def test_an_update_outcome_is_told_only_once_it_is_durable(
    monkeypatch: pytest.MonkeyPatch, workflow_id: str, task_queue: str
) -> None:
    async with held_server(monkeypatch, completes_an_update, task_queue, MAILBOX) as (client, held):
        handle = await client.start_workflow(wm.Mailbox.run, id=workflow_id, task_queue=task_queue)
        update = asyncio.create_task(handle.execute_update(wm.Mailbox.deliver_and_count, "hi"))
        await asyncio.wait_for(held.holding.wait(), 20)
        assert await _pending(update), "an update outcome not yet committed was told"
        held.release.set()
        assert await update == 1
        await handle.signal(wm.Mailbox.finish)
        assert await handle.result() == ["hi"]
