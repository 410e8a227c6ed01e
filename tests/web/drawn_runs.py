"""Runs of the drawn workflow on a real server, driven so each step happens in a known order."""

from __future__ import annotations

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowHandle

from tests.helpers import eventually
from tests.web import workflows_drawn as wd


async def run_drawn(client: Client, workflow_id: str, task_queue: str) -> WorkflowHandle[wd.Drawn, str]:
    """Start ``Drawn``; signal it once its child is done and the workflow waits; send the update
    once the charge has failed for good; wait for its result."""
    handle = await client.start_workflow(wd.Drawn.run, "order-7", id=workflow_id, task_queue=task_queue)
    await eventually(lambda: _waiting_after(handle, EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED))
    await handle.signal(wd.Drawn.approve)
    await eventually(lambda: _waiting_after(handle, EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED))
    await handle.execute_update(wd.Drawn.note, "gift wrap")
    await handle.result()
    return handle


async def events_of(handle: WorkflowHandle[wd.Drawn, str]) -> list[HistoryEvent]:
    return list((await handle.fetch_history()).events)


async def _waiting_after(handle: WorkflowHandle[wd.Drawn, str], event_type: EventType.ValueType) -> bool:
    """Whether ``event_type`` happened and a workflow task completed after it (the workflow waits)."""
    types = [event.event_type for event in await events_of(handle)]
    if event_type not in types:
        return False
    return EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED in types[types.index(event_type) :]
