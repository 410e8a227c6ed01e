"""WorkflowService calls made by hand, for scenarios whose every step the test decides.

A worker of the SDK decides on its own when to poll and answer; these helpers
poll and answer workflow tasks one at a time, so each step's effect on a run is
the same on every server.
"""

from __future__ import annotations

import asyncio
import uuid

from temporalio.api.command.v1 import Command, ProtocolMessageCommandAttributes
from temporalio.api.common.v1 import Payloads, WorkflowExecution, WorkflowType
from temporalio.api.enums.v1 import (
    CommandType,
    UpdateWorkflowExecutionLifecycleStage,
    WorkflowIdConflictPolicy,
)
from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.protocol.v1 import Message
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.update.v1 import Acceptance, Rejection, Response
from temporalio.api.workflow.v1 import WorkflowExecutionInfo
from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv1
from temporalio.client import Client

NAMESPACE = "default"
IDENTITY = "raw-calls"


def start_request(workflow_id: str, task_queue: str, **fields: object) -> wsv1.StartWorkflowExecutionRequest:
    chosen: dict[str, object] = {"request_id": str(uuid.uuid4()), **fields}
    return wsv1.StartWorkflowExecutionRequest(
        namespace=NAMESPACE,
        workflow_id=workflow_id,
        workflow_type=WorkflowType(name="Raw"),
        task_queue=TaskQueue(name=task_queue),
        identity=IDENTITY,
        **chosen,  # type: ignore[arg-type]
    )


async def start(
    client: Client, workflow_id: str, task_queue: str, **fields: object
) -> wsv1.StartWorkflowExecutionResponse:
    return await client.workflow_service.start_workflow_execution(
        start_request(workflow_id, task_queue, **fields)
    )


async def signal(
    client: Client, workflow_id: str, request_id: str = ""
) -> wsv1.SignalWorkflowExecutionResponse:
    return await client.workflow_service.signal_workflow_execution(
        wsv1.SignalWorkflowExecutionRequest(
            namespace=NAMESPACE,
            workflow_execution=WorkflowExecution(workflow_id=workflow_id),
            signal_name="poke",
            identity=IDENTITY,
            request_id=request_id or str(uuid.uuid4()),
        )
    )


async def poll_workflow_task(client: Client, task_queue: str) -> wsv1.PollWorkflowTaskQueueResponse:
    """Poll until a workflow task comes (a poll may end empty on a slow machine)."""
    while True:
        task = await client.workflow_service.poll_workflow_task_queue(
            wsv1.PollWorkflowTaskQueueRequest(
                namespace=NAMESPACE, task_queue=TaskQueue(name=task_queue), identity=IDENTITY
            )
        )
        if task.task_token:
            return task


async def complete_workflow_task(
    client: Client,
    task: wsv1.PollWorkflowTaskQueueResponse,
    *,
    close: bool = False,
    messages: list[Message] | None = None,
    rejections: list[Message] | None = None,
    activity_queue: str = "",
    discard_with_events: bool = False,
    commands: list[Command] | None = None,
) -> None:
    """Answer a workflow task with ``commands``, its update messages (rejections need no
    command), an activity on ``activity_queue`` if one is named, and the run's completion
    if ``close``."""
    commands = [
        *(commands or []),
        *(
            Command(
                command_type=CommandType.COMMAND_TYPE_PROTOCOL_MESSAGE,
                protocol_message_command_attributes=ProtocolMessageCommandAttributes(message_id=m.id),
            )
            for m in messages or []
        ),
    ]
    if activity_queue:
        schedule = Command(command_type=CommandType.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK)
        attrs = schedule.schedule_activity_task_command_attributes
        attrs.activity_id = "act-1"
        attrs.activity_type.name = "RawActivity"
        attrs.task_queue.name = activity_queue
        attrs.start_to_close_timeout.FromSeconds(60)
        commands.append(schedule)
    if close:
        complete = Command(command_type=CommandType.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION)
        complete.complete_workflow_execution_command_attributes.result.CopyFrom(Payloads())
        commands.append(complete)
    request = wsv1.RespondWorkflowTaskCompletedRequest(
        namespace=NAMESPACE,
        task_token=task.task_token,
        identity=IDENTITY,
        commands=commands,
        messages=[*(messages or []), *(rejections or [])],
    )
    # A worker that can see events again lets the server drop a speculative task that had some.
    request.capabilities.discard_speculative_workflow_task_with_events = discard_with_events
    await client.workflow_service.respond_workflow_task_completed(request)


async def poll_activity_task(
    client: Client, task_queue: str, rate_per_second: float
) -> wsv1.PollActivityTaskQueueResponse:
    """Poll for an activity task, asking for at most ``rate_per_second`` tasks a second."""
    request = wsv1.PollActivityTaskQueueRequest(
        namespace=NAMESPACE, task_queue=TaskQueue(name=task_queue), identity=IDENTITY
    )
    request.task_queue_metadata.max_tasks_per_second.value = rate_per_second
    while True:
        task = await client.workflow_service.poll_activity_task_queue(request)
        if task.task_token:
            return task


def accept_and_complete_updates(task: wsv1.PollWorkflowTaskQueueResponse) -> list[Message]:
    """The messages a worker sends to accept each update in the task and complete it at once."""
    out: list[Message] = []
    for request_message in task.messages:
        update_id = request_message.protocol_instance_id
        accept = Message(id=f"{update_id}/accept", protocol_instance_id=update_id)
        accept.body.Pack(
            Acceptance(
                accepted_request_message_id=request_message.id,
                accepted_request_sequencing_event_id=request_message.event_id,
            )
        )
        done = Message(id=f"{update_id}/complete", protocol_instance_id=update_id)
        response = Response()
        response.meta.update_id = update_id
        response.outcome.success.SetInParent()
        done.body.Pack(response)
        out.extend([accept, done])
    return out


def reject_updates(task: wsv1.PollWorkflowTaskQueueResponse) -> list[Message]:
    """The messages a worker's validator sends to reject each update in the task."""
    out: list[Message] = []
    for request_message in task.messages:
        update_id = request_message.protocol_instance_id
        reject = Message(id=f"{update_id}/reject", protocol_instance_id=update_id)
        rejection = Rejection(
            rejected_request_message_id=request_message.id,
            rejected_request_sequencing_event_id=request_message.event_id,
        )
        rejection.failure.message = "not now"
        reject.body.Pack(rejection)
        out.append(reject)
    return out


async def describe(client: Client, workflow_id: str) -> wsv1.DescribeWorkflowExecutionResponse:
    return await client.workflow_service.describe_workflow_execution(
        wsv1.DescribeWorkflowExecutionRequest(
            namespace=NAMESPACE, execution=WorkflowExecution(workflow_id=workflow_id)
        )
    )


async def info(client: Client, workflow_id: str) -> WorkflowExecutionInfo:
    return (await describe(client, workflow_id)).workflow_execution_info


async def history(client: Client, workflow_id: str) -> list[HistoryEvent]:
    response = await client.workflow_service.get_workflow_execution_history(
        wsv1.GetWorkflowExecutionHistoryRequest(
            namespace=NAMESPACE, execution=WorkflowExecution(workflow_id=workflow_id)
        )
    )
    return list(response.history.events)


async def update(
    client: Client, workflow_id: str, update_id: str, request_id: str = ""
) -> wsv1.UpdateWorkflowExecutionResponse:
    """Send an update and wait until it completed (a worker must answer it meanwhile)."""
    request = wsv1.UpdateWorkflowExecutionRequest(
        namespace=NAMESPACE, workflow_execution=WorkflowExecution(workflow_id=workflow_id)
    )
    request.request.meta.update_id = update_id
    request.request.meta.identity = IDENTITY
    request.request.input.name = "bump"
    request.request.request_id = request_id
    request.wait_policy.lifecycle_stage = (
        UpdateWorkflowExecutionLifecycleStage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED
    )
    return await client.workflow_service.update_workflow_execution(request)


async def transition_counts(client: Client, workflow_id: str, task_queue: str) -> list[int]:
    """The run's state transition count after each step of one scenario, from start to close."""
    counts: list[int] = []

    async def record() -> None:
        counts.append((await info(client, workflow_id)).state_transition_count)

    await start(client, workflow_id, task_queue)
    await record()
    await signal(client, workflow_id)
    await record()
    task = await poll_workflow_task(client, task_queue)
    await record()
    await complete_workflow_task(client, task)
    await record()
    updating = asyncio.create_task(update(client, workflow_id, "bump-1"))
    task = await poll_workflow_task(client, task_queue)
    await record()
    await complete_workflow_task(client, task, messages=accept_and_complete_updates(task))
    await updating
    await record()
    updating = asyncio.create_task(update(client, workflow_id, "bump-2"))
    task = await poll_workflow_task(client, task_queue)
    await complete_workflow_task(client, task, rejections=reject_updates(task))
    await updating
    await record()
    await signal(client, workflow_id)
    await record()
    task = await poll_workflow_task(client, task_queue)
    await complete_workflow_task(client, task, close=True)
    await record()
    return counts


async def complete_activity(client: Client, task: wsv1.PollActivityTaskQueueResponse) -> None:
    await client.workflow_service.respond_activity_task_completed(
        wsv1.RespondActivityTaskCompletedRequest(
            namespace=NAMESPACE, task_token=task.task_token, identity=IDENTITY
        )
    )


async def update_with_start(
    client: Client, workflow_id: str, task_queue: str, update_id: str
) -> wsv1.ExecuteMultiOperationResponse:
    """Start the workflow (or use the running one) and update it, until the update completed."""
    request = wsv1.ExecuteMultiOperationRequest(namespace=NAMESPACE)
    request.operations.add().start_workflow.CopyFrom(
        start_request(
            workflow_id,
            task_queue,
            workflow_id_conflict_policy=WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
        )
    )
    update = request.operations.add().update_workflow
    update.namespace = NAMESPACE
    update.workflow_execution.workflow_id = workflow_id
    update.request.meta.update_id = update_id
    update.request.input.name = "bump"
    update.wait_policy.lifecycle_stage = (
        UpdateWorkflowExecutionLifecycleStage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED
    )
    return await client.workflow_service.execute_multi_operation(request)


def start_child(workflow_id: str, task_queue: str) -> Command:
    """A command starting a child workflow, leaving every option to the server's defaults."""
    command = Command(command_type=CommandType.COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION)
    attrs = command.start_child_workflow_execution_command_attributes
    attrs.workflow_id = workflow_id
    attrs.workflow_type.name = "Raw"
    attrs.task_queue.name = task_queue
    return command


def continue_as_new() -> Command:
    command = Command(command_type=CommandType.COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION)
    command.continue_as_new_workflow_execution_command_attributes.workflow_type.name = "Raw"
    return command


async def fail_activity(client: Client, task: wsv1.PollActivityTaskQueueResponse) -> None:
    request = wsv1.RespondActivityTaskFailedRequest(
        namespace=NAMESPACE, task_token=task.task_token, identity=IDENTITY
    )
    request.failure.message = "try again"
    request.failure.application_failure_info.type = "Flaky"
    await client.workflow_service.respond_activity_task_failed(request)
