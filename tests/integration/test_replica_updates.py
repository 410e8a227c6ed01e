"""Updates across replicas: the client calls one replica, the worker polls only the other.

An admitted update is part of its run's state, so whichever replica hands out
the next workflow task carries it to the worker, and the replica the client
waits on hears the answer as a change of the execution.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowUpdateFailedError,
    WorkflowUpdateStage,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.worker import Worker

from tests.acceptance import workflows_messages as wm
from tests.integration.replica_servers import replicas

pytestmark = [pytest.mark.replicas, pytest.mark.timeout(120)]
QUEUE = "replica-updates"


@asynccontextmanager
async def split(url: str, tmp_path: Path) -> AsyncIterator[tuple[Client, Client]]:
    """(caller, worker side): two replicas, with a worker connected to the second only."""
    async with replicas(url, tmp_path, 2) as (a, b):
        caller, worker_side = await Client.connect(a.address), await Client.connect(b.address)
        async with Worker(worker_side, task_queue=QUEUE, workflows=wm.WORKFLOWS):
            yield caller, worker_side


async def test_an_update_sent_to_one_replica_is_run_by_a_worker_on_the_other(
    postgres_database: str, tmp_path: Path
) -> None:
    async with split(postgres_database, tmp_path) as (caller, worker_side):
        workflow_id = f"update-{uuid.uuid4()}"
        handle = await caller.start_workflow(wm.Mailbox.run, id=workflow_id, task_queue=QUEUE)
        assert await handle.execute_update(wm.Mailbox.deliver_and_count, "one") == 1
        assert await handle.execute_update(wm.Mailbox.deliver_and_count, "two", id="second") == 2
        # The same update ID again, through the other replica: the first answer stands.
        again = worker_side.get_workflow_handle(workflow_id)
        assert await again.execute_update(wm.Mailbox.deliver_and_count, "two", id="second") == 2
        started = await handle.start_update(
            wm.Mailbox.wait_for_finish, wait_for_stage=WorkflowUpdateStage.ACCEPTED
        )
        assert started.id
        await handle.signal(wm.Mailbox.finish)
        assert await handle.result() == ["one", "two"]
        events = [e.event_type async for e in handle.fetch_history_events()]
        assert events.count(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED) == 3
        assert events.count(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED) == 2


async def test_a_rejection_on_the_worker_side_reaches_the_caller_on_the_other(
    postgres_database: str, tmp_path: Path
) -> None:
    async with split(postgres_database, tmp_path) as (caller, _):
        handle = await caller.start_workflow(wm.Mailbox.run, id=f"reject-{uuid.uuid4()}", task_queue=QUEUE)
        with pytest.raises(WorkflowUpdateFailedError) as raised:
            await handle.execute_update(wm.Mailbox.deliver_and_count, "")
        assert "empty message" in str(raised.value.cause)
        assert await handle.execute_update(wm.Mailbox.deliver_and_count, "kept") == 1
        await handle.signal(wm.Mailbox.finish)
        assert await handle.result() == ["kept"]
        events = [e.event_type async for e in handle.fetch_history_events()]
        assert events.count(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED) == 1


async def test_update_with_start_through_one_replica_with_the_worker_on_the_other(
    postgres_database: str, tmp_path: Path
) -> None:
    async with split(postgres_database, tmp_path) as (caller, _):
        start = WithStartWorkflowOperation(
            wm.Mailbox.run,
            id=f"uws-{uuid.uuid4()}",
            task_queue=QUEUE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
        result = await caller.execute_update_with_start_workflow(
            wm.Mailbox.deliver_and_count, "first", start_workflow_operation=start
        )
        assert result == 1
        handle = await start.workflow_handle()
        await handle.signal(wm.Mailbox.finish)
        assert await handle.result() == ["first"]
