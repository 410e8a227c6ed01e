"""Child workflows, parent close policies, and signals/cancels between workflows."""

from __future__ import annotations

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.worker import Worker

from tests.acceptance import workflows_messages as wm
from tests.helpers import eventually


async def test_child_result_reaches_the_parent(
    client: Client, worker: Worker, task_queue: str, workflow_id: str
) -> None:
    result = await client.execute_workflow(wm.Parent.run, "Ada", id=workflow_id, task_queue=task_queue)
    assert result == "parent got child Ada"
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    types = [e.event_type for e in history.events]
    assert EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED in types
    assert EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED in types
    assert EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED in types
    child_handle = client.get_workflow_handle(f"{workflow_id}-child")
    child = await child_handle.fetch_history()
    started = child.events[0].workflow_execution_started_event_attributes
    assert started.parent_workflow_execution.workflow_id == workflow_id
    # The parent is the child's root execution, in its history and in Describe.
    parent_run = history.events[0].workflow_execution_started_event_attributes.original_execution_run_id
    assert started.root_workflow_execution.workflow_id == workflow_id
    assert started.root_workflow_execution.run_id == parent_run
    described = await child_handle.describe()
    assert (described.root_id, described.root_run_id) == (workflow_id, parent_run)
    assert (await client.get_workflow_handle(workflow_id).describe()).root_id == workflow_id


async def test_child_failure_reaches_the_parent(
    client: Client, worker: Worker, task_queue: str, workflow_id: str
) -> None:
    result = await client.execute_workflow(wm.ParentOfFailingChild.run, id=workflow_id, task_queue=task_queue)
    assert result == "child failed: child says no"


@pytest.mark.parametrize(
    ("policy", "status"),
    [
        ("TERMINATE", WorkflowExecutionStatus.TERMINATED),
        ("ABANDON", WorkflowExecutionStatus.RUNNING),
        ("REQUEST_CANCEL", WorkflowExecutionStatus.CANCELED),
    ],
)
async def test_parent_close_policy(
    client: Client,
    worker: Worker,
    task_queue: str,
    workflow_id: str,
    policy: str,
    status: WorkflowExecutionStatus,
) -> None:
    assert (
        await client.execute_workflow(
            wm.AbandonsOrTerminates.run, policy, id=workflow_id, task_queue=task_queue
        )
        == "parent done"
    )
    child = client.get_workflow_handle(f"{workflow_id}-child")
    wants_cancel = policy == "REQUEST_CANCEL"

    async def policy_applied() -> None:  # just after the parent closes
        history = await child.fetch_history()
        cancel_requested = any(
            e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED for e in history.events
        )
        assert (await child.describe()).status == status
        assert cancel_requested == wants_cancel

    await eventually(policy_applied, timeout=3)
    if status == WorkflowExecutionStatus.RUNNING:
        await child.terminate(reason="test over")


async def test_workflow_signals_another_and_cancel_of_missing_fails(
    client: Client, worker: Worker, task_queue: str, workflow_id: str
) -> None:
    target = await client.start_workflow(wm.Mailbox.run, id=f"{workflow_id}-target", task_queue=task_queue)
    result = await client.execute_workflow(wm.Messenger.run, target.id, id=workflow_id, task_queue=task_queue)
    assert result.startswith("cancel failed")
    assert await target.result() == ["from a workflow"]
