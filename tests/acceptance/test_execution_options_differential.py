"""UpdateWorkflowExecutionOptions beside the real Temporal server: which priority each answer
and each WorkflowExecutionOptionsUpdated event shows, for a run started with a priority and
one started without, as the mask names the priority with or without one in the request."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from google.protobuf.field_mask_pb2 import FieldMask
from google.protobuf.json_format import MessageToDict
from temporalio.api.common.v1 import Priority, WorkflowExecution
from temporalio.api.workflow.v1 import VersioningOverride, WorkflowExecutionOptions
from temporalio.api.workflowservice.v1 import UpdateWorkflowExecutionOptionsRequest
from temporalio.client import Client
from temporalio.common import Priority as StartPriority

from tests import servers

pytestmark = [
    pytest.mark.differential,
    pytest.mark.skipif(servers.temporal_binary() is None, reason="temporal CLI not installed"),
    pytest.mark.timeout(120),
]

NOTHING = WorkflowExecutionOptions()
STEPS: list[tuple[WorkflowExecutionOptions, list[str]]] = [
    (NOTHING, []),
    (
        WorkflowExecutionOptions(versioning_override=VersioningOverride(auto_upgrade=True)),
        ["versioning_override"],
    ),
    (NOTHING, ["versioning_override"]),
    (WorkflowExecutionOptions(priority=Priority(fairness_key="k")), ["priority"]),
    # The mask names the priority, the request has none: twice, then what the run kept.
    (NOTHING, ["priority"]),
    (NOTHING, ["priority"]),
    (NOTHING, []),
    (WorkflowExecutionOptions(priority=Priority()), ["priority"]),
    (NOTHING, []),
]
"""Each request's options and mask, in turn, on one run."""


async def _answers_and_events(client: Client, task_queue: str, priority: StartPriority | None) -> list[Any]:
    """What each step answers (whether it shows a priority, and the options), then each
    options-updated event's attributes."""
    workflow_id = f"options-{uuid.uuid4().hex[:8]}"
    handle = await client.start_workflow(
        "NobodyRunsThis", id=workflow_id, task_queue=task_queue, priority=priority or StartPriority.default
    )
    seen: list[Any] = []
    for options, paths in STEPS:
        answer = await client.workflow_service.update_workflow_execution_options(
            UpdateWorkflowExecutionOptionsRequest(
                namespace=client.namespace,
                workflow_execution=WorkflowExecution(workflow_id=workflow_id),
                workflow_execution_options=options,
                update_mask=FieldMask(paths=paths),
            )
        )
        shown = answer.workflow_execution_options
        seen.append((paths, shown.HasField("priority"), MessageToDict(shown)))
    async for event in handle.fetch_history_events():
        if event.HasField("workflow_execution_options_updated_event_attributes"):
            attrs = event.workflow_execution_options_updated_event_attributes
            seen.append(("event", attrs.HasField("priority"), MessageToDict(attrs)))
    await handle.terminate()
    return seen


@pytest.mark.parametrize("priority", [None, StartPriority(priority_key=3)], ids=["no-priority", "priority"])
async def test_the_priority_shown_as_options_change_is_temporals(
    client: Client, temporal_client: Client, task_queue: str, priority: StartPriority | None
) -> None:
    theirs = await _answers_and_events(temporal_client, task_queue, priority)
    ours = await _answers_and_events(client, task_queue, priority)
    assert ours == theirs
    # A run started without a priority shows an empty one until the mask clears it.
    assert theirs[0] == ([], True, {"priority": {"priorityKey": 3}} if priority else {"priority": {}})
    assert theirs[4] == (["priority"], False, {})
