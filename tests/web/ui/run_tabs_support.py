"""What the run tabs' tests share: a worker for their workflows, and a run with a pending
activity that failed twice and waits with its heartbeat recorded."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from temporalio.api.enums.v1 import PendingActivityState
from temporalio.client import Client, WorkflowHandle
from temporalio.worker import Worker

from tests.acceptance import workflows_messages as wm
from tests.helpers import Registered, eventually, worker_for
from tests.web.ui import workflows_tabs, workflows_ui

TAB_WORKFLOWS = Registered(
    [
        workflows_tabs.Tended,
        workflows_tabs.FailsOnce,
        workflows_ui.Greeter,
        wm.Countdown,
        wm.Parent,
        wm.Child,
        wm.Mailbox,
    ],
    activities=[workflows_tabs.stubborn],
)
Handle = WorkflowHandle[Any, Any]


@pytest.fixture
async def tabs_worker(sdk_client: Client, task_queue: str) -> AsyncIterator[Worker]:
    async with worker_for(sdk_client, task_queue, TAB_WORKFLOWS) as running:
        yield running


def run_path(workflow_id: str, run_id: str | None) -> str:
    return f"/namespaces/default/workflows/{workflow_id}/{run_id}"


async def tended_waiting(client: Client, task_queue: str) -> Handle:
    """A Tended run whose activity failed twice and now waits, its heartbeat recorded."""
    handle = await client.start_workflow(
        workflows_tabs.Tended.run, "polish", id=f"tended-{uuid.uuid4().hex[:8]}", task_queue=task_queue
    )

    async def waiting() -> bool:
        pending = (await handle.describe()).raw_description.pending_activities
        if not pending or pending[0].state != PendingActivityState.PENDING_ACTIVITY_STATE_STARTED:
            return False
        details = pending[0].heartbeat_details.payloads
        return bool(details) and json.loads(details[0].data)["attempt"] == 3

    await eventually(waiting)
    return handle
