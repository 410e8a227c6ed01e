"""Queries answered by the official SDK's worker, and their failure modes."""

from __future__ import annotations

import pytest
from temporalio.client import Client, WorkflowQueryFailedError, WorkflowQueryRejectedError
from temporalio.common import QueryRejectCondition
from temporalio.worker import Worker

from tests.acceptance import workflows_messages as wm


async def test_query_running_and_closed_workflow(
    client: Client, worker: Worker, task_queue: str, workflow_id: str
) -> None:
    handle = await client.start_workflow(wm.Mailbox.run, id=workflow_id, task_queue=task_queue)
    assert await handle.query(wm.Mailbox.count) == 0
    await handle.signal(wm.Mailbox.deliver, "x")
    assert await handle.query(wm.Mailbox.count) == 1
    await handle.signal(wm.Mailbox.finish)
    await handle.result()
    assert await handle.query(wm.Mailbox.count) == 1  # replayed from history
    with pytest.raises(WorkflowQueryRejectedError):
        await handle.query(wm.Mailbox.count, reject_condition=QueryRejectCondition.NOT_OPEN)


async def test_unknown_query_fails(client: Client, worker: Worker, task_queue: str, workflow_id: str) -> None:
    handle = await client.start_workflow(wm.Mailbox.run, id=workflow_id, task_queue=task_queue)
    with pytest.raises(WorkflowQueryFailedError, match="nosuchquery"):
        await handle.query("nosuchquery")
    await handle.terminate(reason="test over")
