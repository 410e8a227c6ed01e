"""Activity operations answer and show what the real Temporal dev server answers and shows:
the same refusals, the same pending-activity view of a pause, and no history event."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from google.protobuf.field_mask_pb2 import FieldMask
from temporalio.api.activity.v1 import ActivityOptions
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import (
    PauseActivityRequest,
    ResetActivityRequest,
    UnpauseActivityRequest,
    UpdateActivityOptionsRequest,
)
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError

from tests import servers
from tests.acceptance import workflows_activity_ops as w
from tests.helpers import Registered, eventually, worker_for

pytestmark = [
    pytest.mark.differential,
    pytest.mark.skipif(servers.temporal_binary() is None, reason="temporal CLI not installed"),
]

Call = Callable[[Client, WorkflowExecution], Awaitable[Any]]
REFUSED: dict[str, Call] = {
    "no activity named": lambda c, e: c.workflow_service.pause_activity(
        PauseActivityRequest(namespace="default", execution=e)
    ),
    "unknown ID": lambda c, e: c.workflow_service.pause_activity(
        PauseActivityRequest(namespace="default", execution=e, id="nope")
    ),
    "unknown type": lambda c, e: c.workflow_service.reset_activity(
        ResetActivityRequest(namespace="default", execution=e, type="Nope")
    ),
    "unpause unknown": lambda c, e: c.workflow_service.unpause_activity(
        UnpauseActivityRequest(namespace="default", execution=e, id="nope")
    ),
    "no update mask": lambda c, e: c.workflow_service.update_activity_options(
        UpdateActivityOptionsRequest(
            namespace="default", execution=e, id="retried", activity_options=ActivityOptions()
        )
    ),
    "no options": lambda c, e: c.workflow_service.update_activity_options(
        UpdateActivityOptionsRequest(
            namespace="default", execution=e, id="retried", update_mask=FieldMask(paths=["heartbeat_timeout"])
        )
    ),
    "unknown workflow": lambda c, e: c.workflow_service.pause_activity(
        PauseActivityRequest(namespace="default", execution=WorkflowExecution(workflow_id="missing"), id="x")
    ),
}


async def observe(client: Client) -> dict[str, Any]:
    """Run a retrying activity, refuse the bad calls, pause it; what the server showed."""
    task_queue = f"tq-{uuid.uuid4().hex[:12]}"
    seen: dict[str, Any] = {}
    async with worker_for(client, task_queue, Registered(w.WORKFLOWS, w.ACTIVITIES)):
        handle = await client.start_workflow(
            w.SlowlyRetriedActivity.run, id=f"wf-{uuid.uuid4().hex[:12]}", task_queue=task_queue
        )
        await eventually(lambda: _attempt(handle, 2))
        execution = WorkflowExecution(workflow_id=handle.id)
        for name, call in REFUSED.items():
            with pytest.raises(RPCError) as refused:
                await call(client, execution)
            seen[name] = (refused.value.status, refused.value.message)
        await client.workflow_service.pause_activity(
            PauseActivityRequest(
                namespace="default", execution=execution, id="retried", identity="ops", reason="why"
            )
        )
        described = await handle.describe()
        [activity] = described.raw_description.pending_activities
        manual = activity.pause_info.manual
        seen["paused"] = (activity.state, activity.paused, activity.attempt, manual.identity, manual.reason)
        seen["events"] = [e.event_type for e in (await handle.fetch_history()).events]
        await handle.terminate()
        with pytest.raises(RPCError) as closed:
            await client.workflow_service.pause_activity(
                PauseActivityRequest(namespace="default", execution=execution, id="retried")
            )
        seen["closed"] = (closed.value.status, closed.value.message)
    return seen


async def test_activity_operations_answer_as_real_temporal(client: Client, temporal_client: Client) -> None:
    assert await observe(client) == await observe(temporal_client)


async def _attempt(handle: WorkflowHandle[Any, Any], attempt: int) -> bool:
    described = await handle.describe()
    return any(a.attempt == attempt for a in described.raw_description.pending_activities)
