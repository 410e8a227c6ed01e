"""A reset's runs name each other: DescribeWorkflowExecution gives the reset run's
``reset_run_id`` and the new run's ``last_reset_time`` and ``original_start_time`` as the real
Temporal server does, and the run's summary links "Reset to" and "Reset from" from them."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import httpx
import pytest
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import WorkflowExecutionStatus
from temporalio.api.workflowservice.v1 import (
    DescribeWorkflowExecutionRequest,
    DescribeWorkflowExecutionResponse,
    ResetWorkflowExecutionRequest,
)
from temporalio.client import Client, WorkflowFailureError
from temporalio.worker import Worker

from tests import servers
from tests.acceptance import workflows_messages as wm
from tests.helpers import Registered, worker_for
from tests.web.ui import workflows_ui
from tests.web.ui.run_tabs_support import run_path

FIRST_TASK_COMPLETED = 4
"""The WorkflowTaskCompleted of a run that completes in its first workflow task."""


async def completed_greeter(client: Client, task_queue: str) -> tuple[str, str]:
    """(workflow ID, run ID) of a completed Greeter run."""
    handle = await client.start_workflow(
        workflows_ui.Greeter.run, {"name": "Ada"}, id=f"reset-{uuid.uuid4().hex[:8]}", task_queue=task_queue
    )
    await handle.result()
    return handle.id, handle.result_run_id or ""


async def reset(client: Client, workflow_id: str, run_id: str) -> str:
    """Reset the run to its first workflow task; wait for the new run to complete; its run ID."""
    new = await reset_only(client, workflow_id, run_id)
    await client.get_workflow_handle(workflow_id, run_id=new).result()
    return new


async def reset_only(client: Client, workflow_id: str, run_id: str) -> str:
    """Reset the run to its first workflow task; the new run's ID."""
    answer = await client.workflow_service.reset_workflow_execution(
        ResetWorkflowExecutionRequest(
            namespace="default",
            workflow_execution=WorkflowExecution(workflow_id=workflow_id, run_id=run_id),
            reason="again",
            workflow_task_finish_event_id=FIRST_TASK_COMPLETED,
            request_id=str(uuid.uuid4()),
        )
    )
    return answer.run_id


async def describe(client: Client, workflow_id: str, run_id: str) -> DescribeWorkflowExecutionResponse:
    return await client.workflow_service.describe_workflow_execution(
        DescribeWorkflowExecutionRequest(
            namespace="default", execution=WorkflowExecution(workflow_id=workflow_id, run_id=run_id)
        )
    )


async def reset_facts(client: Client, task_queue: str) -> list[object]:
    """What describing a reset run and the runs its resets made shows, with the run IDs named by
    their role, so two servers' answers compare equal."""
    workflow_id, base = await completed_greeter(client, task_queue)
    first = await reset(client, workflow_id, base)
    old = (await describe(client, workflow_id, base)).workflow_extended_info
    new = await describe(client, workflow_id, first)
    names = {base: "base", first: "first reset", "": ""}
    facts: list[object] = [
        names[old.reset_run_id],
        old.HasField("last_reset_time"),
        names[new.workflow_extended_info.reset_run_id],
        new.workflow_extended_info.last_reset_time == new.workflow_execution_info.start_time,
        new.workflow_extended_info.original_start_time == old.original_start_time,
    ]
    second = await reset(client, workflow_id, base)  # the base run again, no longer the current one
    names[second] = "second reset"
    facts.append(names[(await describe(client, workflow_id, base)).workflow_extended_info.reset_run_id])
    facts.append(names[(await describe(client, workflow_id, first)).workflow_extended_info.reset_run_id])
    return facts


EXPECTED = ["first reset", False, "", True, True, "second reset", ""]


async def test_describe_names_the_runs_of_a_reset(
    sdk_client: Client, task_queue: str, ui_worker: Worker
) -> None:
    assert await reset_facts(sdk_client, task_queue) == EXPECTED


@pytest.mark.differential
@pytest.mark.skipif(servers.temporal_binary() is None, reason="temporal CLI not installed")
async def test_describe_after_reset_matches_temporal(temporal_client: Client, task_queue: str) -> None:
    async with worker_for(temporal_client, task_queue, Registered([workflows_ui.Greeter])):
        assert await reset_facts(temporal_client, task_queue) == EXPECTED


def linked_run(page: str, field: str) -> str:
    found = re.search(rf'data-field="{field}"><a href="[^"]*/([^/"]+)/history">', page)
    return found.group(1) if found else ""


async def test_summary_links_reset_to_and_reset_from(
    base_url: str, sdk_client: Client, task_queue: str, ui_worker: Worker
) -> None:
    workflow_id, base = await completed_greeter(sdk_client, task_queue)
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        before = await http.get(f"{run_path(workflow_id, base)}/history")
        assert (linked_run(before.text, "reset-to"), linked_run(before.text, "reset-from")) == ("", "")
        new = await reset(sdk_client, workflow_id, base)
        old_page, new_page = [
            (await http.get(f"{run_path(workflow_id, run)}/history")).text for run in (base, new)
        ]
        relationships = (await http.get(f"{run_path(workflow_id, base)}/relationships")).text
    assert (linked_run(old_page, "reset-to"), linked_run(old_page, "reset-from")) == (new, "")
    assert (linked_run(new_page, "reset-to"), linked_run(new_page, "reset-from")) == ("", base)
    assert re.search(r'data-field="reset-to">Reset to the new run <a[^>]*>' + new, relationships)


async def reset_run_timing(client: Client, task_queue: str) -> tuple[float, float, str]:
    """A Mailbox with a 2 s execution timeout times out and is reset: how long after the reset the
    new run's run and execution expire, and how the new run ends."""
    handle = await client.start_workflow(
        wm.Mailbox.run,
        id=f"reset-timeout-{uuid.uuid4().hex[:8]}",
        task_queue=task_queue,
        execution_timeout=timedelta(seconds=2),
    )
    with pytest.raises(WorkflowFailureError):
        await handle.result()
    new = await reset_only(client, handle.id, handle.result_run_id or "")
    described = await describe(client, handle.id, new)
    extended = described.workflow_extended_info
    reset_at = extended.last_reset_time.ToNanoseconds()
    with pytest.raises(WorkflowFailureError):
        await client.get_workflow_handle(handle.id, run_id=new).result()
    ended = (await describe(client, handle.id, new)).workflow_execution_info.status
    return (
        round((extended.run_expiration_time.ToNanoseconds() - reset_at) / 1e9, 1),
        round((extended.execution_expiration_time.ToNanoseconds() - reset_at) / 1e9, 1),
        WorkflowExecutionStatus.Name(ended),
    )


TIMED_OUT_AGAIN = (2.0, 2.0, "WORKFLOW_EXECUTION_STATUS_TIMED_OUT")


async def test_a_reset_run_has_its_timeouts_again_from_the_reset(
    sdk_client: Client, task_queue: str, ui_worker: Worker
) -> None:
    assert await reset_run_timing(sdk_client, task_queue) == TIMED_OUT_AGAIN


@pytest.mark.differential
@pytest.mark.skipif(servers.temporal_binary() is None, reason="temporal CLI not installed")
async def test_reset_run_timeouts_match_temporal(temporal_client: Client, task_queue: str) -> None:
    async with worker_for(temporal_client, task_queue, Registered([wm.Mailbox])):
        assert await reset_run_timing(temporal_client, task_queue) == TIMED_OUT_AGAIN
