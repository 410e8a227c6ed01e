"""Bad input at the API boundary: Temporal's limits and wording, bounded errors, nothing stored."""

from __future__ import annotations

import uuid
from typing import Any

import grpc
import pytest
from google.protobuf.duration_pb2 import Duration
from temporalio.api.command.v1 import (
    Command,
    ContinueAsNewWorkflowExecutionCommandAttributes,
    FailWorkflowExecutionCommandAttributes,
    ProtocolMessageCommandAttributes,
    RecordMarkerCommandAttributes,
    ScheduleActivityTaskCommandAttributes,
    StartChildWorkflowExecutionCommandAttributes,
    StartTimerCommandAttributes,
)
from temporalio.api.common.v1 import ActivityType, WorkflowExecution, WorkflowType
from temporalio.api.enums.v1 import CommandType, EventType
from temporalio.api.enums.v1 import WorkflowTaskFailedCause as Cause
from temporalio.api.failure.v1 import Failure
from temporalio.api.protocol.v1 import Message
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import (
    DescribeNamespaceRequest,
    DescribeWorkflowExecutionRequest,
    GetSystemInfoRequest,
    ListWorkflowExecutionsRequest,
    PollActivityTaskQueueRequest,
    PollWorkflowTaskQueueRequest,
    PollWorkflowTaskQueueResponse,
    RegisterNamespaceRequest,
    RespondActivityTaskFailedRequest,
    RespondWorkflowTaskCompletedRequest,
    SignalWithStartWorkflowExecutionRequest,
    SignalWorkflowExecutionRequest,
    StartWorkflowExecutionRequest,
)
from temporalio.client import Client, WorkflowQueryFailedError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker

from tests.acceptance import workflows_messages as wm
from tests.servers import ServerProcess

WORKFLOW_SERVICE = "temporal.api.workflowservice.v1.WorkflowService/"
HUNDRED_YEARS = 100 * 365 * 24 * 3600
LONG = "x" * 1001


async def raw_call(address: str, method: str, body: bytes) -> grpc.aio.AioRpcError | bytes:
    """Send ``body`` as the request of ``method`` without the SDK, as any client could.

    ``method`` is a WorkflowService method, or ``service/method`` for another service.
    """
    path = "/" + (method if "/" in method else WORKFLOW_SERVICE + method)
    async with grpc.aio.insecure_channel(address) as channel:
        call = channel.unary_unary(path, request_serializer=lambda b: b, response_deserializer=lambda b: b)
        try:
            return bytes(await call(body, timeout=10))
        except grpc.aio.AioRpcError as error:
            return error


def start_request(workflow_id: str, task_queue: str, **fields: Any) -> StartWorkflowExecutionRequest:
    return StartWorkflowExecutionRequest(
        namespace="default",
        workflow_id=workflow_id,
        workflow_type=WorkflowType(name="W"),
        task_queue=TaskQueue(name=task_queue),
        request_id=str(uuid.uuid4()),
        **fields,
    )


def failure_chain(depth: int) -> Failure:
    failure = Failure(message="root cause")
    for level in range(depth - 1):
        failure = Failure(message=f"level {level}", cause=failure)
    return failure


def _length_delimited(field_number: int, data: bytes) -> bytes:
    """One protobuf field of wire type 2, encoded by hand."""
    out = bytearray([(field_number << 3) | 2])
    size = len(data)
    while size >= 0x80:
        out.append((size & 0x7F) | 0x80)
        size >>= 7
    out.append(size)
    return bytes(out) + data


def deep_failure_field(field_number: int, depth: int) -> bytes:
    """A failure field nested ``depth`` deep, built as bytes: the library refuses to build it."""
    cause = Failure.DESCRIPTOR.fields_by_name["cause"].number
    failure = Failure(message="root cause").SerializeToString()
    for level in range(depth - 1):
        failure = Failure(message=f"level {level}").SerializeToString() + _length_delimited(cause, failure)
    return _length_delimited(field_number, failure)


async def refused(call: Any) -> RPCError:
    with pytest.raises(RPCError) as raised:
        await call
    return raised.value


# --- error statuses stay small -------------------------------------------------------------


async def test_a_huge_namespace_is_refused_and_the_connection_survives(client: Client) -> None:
    error = await refused(
        client.workflow_service.describe_namespace(DescribeNamespaceRequest(namespace="n" * 7000))
    )
    assert error.status == RPCStatusCode.INVALID_ARGUMENT
    assert error.message == "Namespace length exceeds limit."
    await client.workflow_service.get_system_info(GetSystemInfoRequest())


async def test_an_error_quoting_a_huge_workflow_id_is_bounded(client: Client) -> None:
    error = await refused(
        client.workflow_service.describe_workflow_execution(
            DescribeWorkflowExecutionRequest(
                namespace="default", execution=WorkflowExecution(workflow_id="é" * 7000)
            )
        )
    )
    assert error.status == RPCStatusCode.NOT_FOUND
    assert error.message.startswith("workflow not found for ID: éé")
    assert len(error.message.encode()) <= 2048


# --- undecodable bodies --------------------------------------------------------------------


@pytest.mark.parametrize(
    "method",
    [
        "StartWorkflowExecution",
        "GetSystemInfo",
        "temporal.api.operatorservice.v1.OperatorService/ListSearchAttributes",
        "grpc.health.v1.Health/Check",
    ],
)
async def test_a_body_that_is_not_protobuf_is_invalid_argument_with_one_log_line(
    cadenza_server: ServerProcess, client: Client, method: str
) -> None:
    tracebacks = cadenza_server.log_text().count("Traceback")
    answer = await raw_call(cadenza_server.address, method, b"\xff\xff\xff\xff\xff")
    assert isinstance(answer, grpc.aio.AioRpcError)
    assert answer.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert (answer.details() or "").startswith("error unmarshalling request:")
    await client.workflow_service.get_system_info(GetSystemInfoRequest())
    assert cadenza_server.log_text().count("Traceback") == tracebacks


async def test_a_failure_nested_past_the_decoders_depth_is_invalid_argument(
    cadenza_server: ServerProcess, client: Client, task_queue: str, workflow_id: str
) -> None:
    await client.workflow_service.start_workflow_execution(start_request(workflow_id, task_queue))
    request = RespondActivityTaskFailedRequest(namespace="default", task_token=b"token")
    failure_field = RespondActivityTaskFailedRequest.DESCRIPTOR.fields_by_name["failure"].number
    answer = await raw_call(
        cadenza_server.address,
        "RespondActivityTaskFailed",
        request.SerializeToString() + deep_failure_field(failure_field, 150),
    )
    assert isinstance(answer, grpc.aio.AioRpcError)
    assert answer.code() == grpc.StatusCode.INVALID_ARGUMENT


# --- names and IDs -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"workflow_type": WorkflowType(name=LONG)}, "WorkflowType length exceeds limit."),
        ({"task_queue": TaskQueue(name=LONG)}, "taskQueue length exceeds limit"),
        ({"request_id": LONG}, "RequestId length exceeds limit."),
        ({"namespace": LONG}, "Namespace length exceeds limit."),
    ],
)
async def test_start_names_over_the_limit_are_refused(
    client: Client, task_queue: str, workflow_id: str, fields: dict[str, Any], message: str
) -> None:
    request = start_request(workflow_id, task_queue)
    for name, value in fields.items():
        if isinstance(value, str):
            setattr(request, name, value)
        else:
            getattr(request, name).CopyFrom(value)
    error = await refused(client.workflow_service.start_workflow_execution(request))
    assert (error.status, error.message) == (RPCStatusCode.INVALID_ARGUMENT, message)
    assert await _listed(client, workflow_id) == 0


async def test_signal_names_over_the_limit_are_refused(
    client: Client, task_queue: str, workflow_id: str
) -> None:
    await client.workflow_service.start_workflow_execution(start_request(workflow_id, task_queue))
    execution = WorkflowExecution(workflow_id=workflow_id)
    error = await refused(
        client.workflow_service.signal_workflow_execution(
            SignalWorkflowExecutionRequest(
                namespace="default", workflow_execution=execution, signal_name=LONG
            )
        )
    )
    assert error.message == "SignalName length exceeds limit."
    error = await refused(
        client.workflow_service.signal_with_start_workflow_execution(
            SignalWithStartWorkflowExecutionRequest(
                namespace="default",
                workflow_id=f"{workflow_id}-sws",
                workflow_type=WorkflowType(name="W"),
                task_queue=TaskQueue(name=task_queue),
                signal_name=LONG,
            )
        )
    )
    assert error.message == "signal name exceeds maximum allowed length (1001/1000)"
    assert await _listed(client, f"{workflow_id}-sws") == 0


async def test_polling_a_task_queue_name_over_the_limit_is_refused(client: Client) -> None:
    error = await refused(
        client.workflow_service.poll_activity_task_queue(
            PollActivityTaskQueueRequest(namespace="default", task_queue=TaskQueue(name=LONG))
        )
    )
    assert (error.status, error.message) == (RPCStatusCode.INVALID_ARGUMENT, "taskQueue length exceeds limit")


async def test_register_namespace_needs_a_retention_and_a_name_within_the_limit(client: Client) -> None:
    name = f"ns-{uuid.uuid4().hex[:8]}"
    error = await refused(
        client.workflow_service.register_namespace(RegisterNamespaceRequest(namespace=name))
    )
    assert error.message == "A valid retention period is not set on request."
    error = await refused(
        client.workflow_service.register_namespace(
            RegisterNamespaceRequest(
                namespace="n" * 1001, workflow_execution_retention_period=Duration(seconds=86400)
            )
        )
    )
    assert error.message == "Namespace length exceeds limit."
    error = await refused(
        client.workflow_service.describe_namespace(DescribeNamespaceRequest(namespace=name))
    )
    assert error.status == RPCStatusCode.NOT_FOUND


# --- durations -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field", ["workflow_start_delay", "workflow_execution_timeout", "workflow_run_timeout"]
)
async def test_durations_past_a_century_are_capped_and_listing_still_works(
    client: Client, task_queue: str, workflow_id: str, field: str
) -> None:
    request = start_request(workflow_id, task_queue)
    getattr(request, field).seconds = 10**12
    await client.workflow_service.start_workflow_execution(request)
    assert await _listed(client, workflow_id) == 1
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    stored = (
        started.first_workflow_task_backoff if field == "workflow_start_delay" else getattr(started, field)
    )
    assert stored.seconds == HUNDRED_YEARS


async def test_a_duration_with_mixed_signs_is_refused(
    client: Client, task_queue: str, workflow_id: str
) -> None:
    request = start_request(workflow_id, task_queue)
    request.workflow_execution_timeout.CopyFrom(Duration(seconds=5, nanos=-1))
    error = await refused(client.workflow_service.start_workflow_execution(request))
    assert error.message == (
        "An invalid WorkflowExecutionTimeoutSeconds is set on request. "
        "cause: duration has seconds and nanos with different signs"
    )


# --- workflow-task commands ----------------------------------------------------------------


async def _first_task(client: Client, task_queue: str, workflow_id: str) -> PollWorkflowTaskQueueResponse:
    await client.workflow_service.start_workflow_execution(start_request(workflow_id, task_queue))
    return await client.workflow_service.poll_workflow_task_queue(
        PollWorkflowTaskQueueRequest(
            namespace="default", task_queue=TaskQueue(name=task_queue), identity="test"
        )
    )


def _completion(
    task: PollWorkflowTaskQueueResponse, *commands: Command, messages: tuple[Message, ...] = ()
) -> RespondWorkflowTaskCompletedRequest:
    return RespondWorkflowTaskCompletedRequest(
        namespace="default",
        task_token=task.task_token,
        identity="test",
        commands=list(commands),
        messages=list(messages),
    )


def _activity(activity_id: str, **timeouts: int) -> Command:
    attrs = ScheduleActivityTaskCommandAttributes(
        activity_id=activity_id, activity_type=ActivityType(name="A"), task_queue=TaskQueue(name="activities")
    )
    attrs.start_to_close_timeout.seconds = 10
    for name, seconds in timeouts.items():
        getattr(attrs, name).seconds = seconds
    return Command(
        command_type=CommandType.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK,
        schedule_activity_task_command_attributes=attrs,
    )


async def _events(client: Client, workflow_id: str) -> list[Any]:
    return list((await client.get_workflow_handle(workflow_id).fetch_history()).events)


async def _listed(client: Client, workflow_id: str) -> int:
    response = await client.workflow_service.list_workflow_executions(
        ListWorkflowExecutionsRequest(namespace="default", query=f"WorkflowId = '{workflow_id}'")
    )
    return len(response.executions)


async def _task_failed(client: Client, workflow_id: str) -> Any:
    events = await _events(client, workflow_id)
    assert events[-1].event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
    assert not any(e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED for e in events)
    return events[-1].workflow_task_failed_event_attributes


async def test_duplicate_activity_ids_in_one_task_fail_it(
    client: Client, task_queue: str, workflow_id: str
) -> None:
    task = await _first_task(client, task_queue, workflow_id)
    error = await refused(
        client.workflow_service.respond_workflow_task_completed(
            _completion(task, _activity("a1"), _activity("a1"))
        )
    )
    assert error.message == (
        "ScheduleActivityDuplicateId: invalid history builder state for "
        "action: add-activitytask-scheduled-event, ActivityID: a1"
    )
    failed = await _task_failed(client, workflow_id)
    assert failed.cause == Cause.WORKFLOW_TASK_FAILED_CAUSE_SCHEDULE_ACTIVITY_DUPLICATE_ID


async def test_an_activity_id_over_the_limit_fails_the_task(
    client: Client, task_queue: str, workflow_id: str
) -> None:
    task = await _first_task(client, task_queue, workflow_id)
    error = await refused(
        client.workflow_service.respond_workflow_task_completed(_completion(task, _activity("a" * 2000)))
    )
    assert error.message == (
        "BadScheduleActivityAttributes: activityId exceeds length limit. Length=2000 Limit=1000"
    )
    failed = await _task_failed(client, workflow_id)
    assert failed.cause == Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES


async def test_an_unknown_command_type_is_refused_without_changing_the_run(
    client: Client, task_queue: str, workflow_id: str
) -> None:
    task = await _first_task(client, task_queue, workflow_id)
    before = len(await _events(client, workflow_id))
    unknown = Command(command_type=999)  # type: ignore[arg-type]
    error = await refused(client.workflow_service.respond_workflow_task_completed(_completion(task, unknown)))
    assert (error.status, error.message) == (RPCStatusCode.INVALID_ARGUMENT, "unknown command type: 999")
    assert len(await _events(client, workflow_id)) == before


async def test_a_protocol_message_with_a_corrupt_body_fails_the_task(
    client: Client, task_queue: str, workflow_id: str
) -> None:
    task = await _first_task(client, task_queue, workflow_id)
    message = Message(id="m1", protocol_instance_id="u1")
    message.body.type_url = "type.googleapis.com/temporal.api.update.v1.Response"
    message.body.value = b"\xff\xff\xff"
    command = Command(
        command_type=CommandType.COMMAND_TYPE_PROTOCOL_MESSAGE,
        protocol_message_command_attributes=ProtocolMessageCommandAttributes(message_id="m1"),
    )
    error = await refused(
        client.workflow_service.respond_workflow_task_completed(
            _completion(task, command, messages=(message,))
        )
    )
    assert error.status == RPCStatusCode.INVALID_ARGUMENT
    assert error.message.startswith("BadUpdateWorkflowExecutionMessage: ")
    failed = await _task_failed(client, workflow_id)
    assert failed.cause == Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_UPDATE_WORKFLOW_EXECUTION_MESSAGE


async def test_a_child_in_a_namespace_that_does_not_exist_is_not_found(
    client: Client, task_queue: str, workflow_id: str
) -> None:
    task = await _first_task(client, task_queue, workflow_id)
    before = len(await _events(client, workflow_id))
    child = StartChildWorkflowExecutionCommandAttributes(
        namespace="no-such-namespace",
        workflow_id=f"{workflow_id}-child",
        workflow_type=WorkflowType(name="W"),
        task_queue=TaskQueue(name=task_queue),
    )
    error = await refused(
        client.workflow_service.respond_workflow_task_completed(
            _completion(
                task,
                Command(
                    command_type=CommandType.COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION,
                    start_child_workflow_execution_command_attributes=child,
                ),
            )
        )
    )
    assert (error.status, error.message) == (
        RPCStatusCode.NOT_FOUND,
        "Namespace no-such-namespace is not found.",
    )
    assert len(await _events(client, workflow_id)) == before


async def test_activity_and_timer_durations_past_a_century_are_capped(
    client: Client, task_queue: str, workflow_id: str
) -> None:
    task = await _first_task(client, task_queue, workflow_id)
    timer = StartTimerCommandAttributes(timer_id="t1")
    timer.start_to_fire_timeout.seconds = 10**12
    await client.workflow_service.respond_workflow_task_completed(
        _completion(
            task,
            _activity("a1", schedule_to_close_timeout=10**12, heartbeat_timeout=10**12),
            Command(command_type=CommandType.COMMAND_TYPE_START_TIMER, start_timer_command_attributes=timer),
        )
    )
    events = await _events(client, workflow_id)
    scheduled = next(
        e.activity_task_scheduled_event_attributes
        for e in events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    )
    assert scheduled.schedule_to_close_timeout.seconds == HUNDRED_YEARS
    started = next(
        e.timer_started_event_attributes for e in events if e.event_type == EventType.EVENT_TYPE_TIMER_STARTED
    )
    assert started.start_to_fire_timeout.seconds == HUNDRED_YEARS
    described = await client.get_workflow_handle(workflow_id).describe()
    assert len(described.raw_description.pending_activities) == 1
    assert await _listed(client, workflow_id) == 1


async def test_a_failure_chain_too_deep_to_read_back_fails_the_task(
    cadenza_server: ServerProcess, client: Client, task_queue: str, workflow_id: str
) -> None:
    task = await _first_task(client, task_queue, workflow_id)
    fail = Command(
        command_type=CommandType.COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION,
        fail_workflow_execution_command_attributes=FailWorkflowExecutionCommandAttributes(
            failure=failure_chain(97)
        ),
    )
    answer = await raw_call(
        cadenza_server.address, "RespondWorkflowTaskCompleted", _completion(task, fail).SerializeToString()
    )
    assert isinstance(answer, grpc.aio.AioRpcError)
    assert answer.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert answer.details() == (
        "BadFailWorkflowExecutionAttributes: Failure cause chain exceeds the maximum depth of 95."
    )
    # The run's history is still readable by the SDK.
    failed = await _task_failed(client, workflow_id)
    assert failed.cause == Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_FAIL_WORKFLOW_EXECUTION_ATTRIBUTES


async def test_a_query_failure_quoting_a_huge_query_name_is_bounded(
    client: Client, task_queue: str, workflow_id: str
) -> None:
    async with Worker(client, task_queue=task_queue, workflows=wm.WORKFLOWS):
        handle = await client.start_workflow(wm.Mailbox.run, id=workflow_id, task_queue=task_queue)
        with pytest.raises(WorkflowQueryFailedError) as raised:
            await handle.query("q" * 20_000)
        assert "qqq" in str(raised.value)
        assert len(str(raised.value).encode()) <= 2048
        assert await handle.query(wm.Mailbox.count) == 0
        await handle.terminate(reason="test over")


def _timer_command(timer_id: str) -> Command:
    attrs = StartTimerCommandAttributes(timer_id=timer_id)
    attrs.start_to_fire_timeout.seconds = 5
    return Command(command_type=CommandType.COMMAND_TYPE_START_TIMER, start_timer_command_attributes=attrs)


def _child_command(workflow_id: str) -> Command:
    return Command(
        command_type=CommandType.COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION,
        start_child_workflow_execution_command_attributes=StartChildWorkflowExecutionCommandAttributes(
            workflow_id=workflow_id, workflow_type=WorkflowType(name="W")
        ),
    )


def _continue_as_new_command(workflow_type: str) -> Command:
    return Command(
        command_type=CommandType.COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION,
        continue_as_new_workflow_execution_command_attributes=(
            ContinueAsNewWorkflowExecutionCommandAttributes(workflow_type=WorkflowType(name=workflow_type))
        ),
    )


def _marker_command(name: str) -> Command:
    return Command(
        command_type=CommandType.COMMAND_TYPE_RECORD_MARKER,
        record_marker_command_attributes=RecordMarkerCommandAttributes(marker_name=name),
    )


@pytest.mark.parametrize(
    ("command", "cause", "message"),
    [
        (
            _timer_command(LONG),
            Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_START_TIMER_ATTRIBUTES,
            "BadStartTimerAttributes: TimerId on StartTimerCommand exceeds length limit.",
        ),
        (
            _child_command(LONG),
            Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_START_CHILD_EXECUTION_ATTRIBUTES,
            "BadStartChildExecutionAttributes: WorkflowId on StartChildWorkflowExecutionCommand "
            "exceeds length limit.",
        ),
        (
            _continue_as_new_command(LONG),
            Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_CONTINUE_AS_NEW_ATTRIBUTES,
            "BadContinueAsNewAttributes: WorkflowType on ContinueAsNewWorkflowExecutionCommand "
            "exceeds length limit.",
        ),
        (
            _marker_command(LONG),
            Cause.WORKFLOW_TASK_FAILED_CAUSE_BAD_RECORD_MARKER_ATTRIBUTES,
            "BadRecordMarkerAttributes: MarkerName on RecordMarkerCommand exceeds length limit.",
        ),
    ],
)
async def test_command_names_over_the_limit_fail_the_task(
    client: Client, task_queue: str, workflow_id: str, command: Command, cause: int, message: str
) -> None:
    task = await _first_task(client, task_queue, workflow_id)
    error = await refused(client.workflow_service.respond_workflow_task_completed(_completion(task, command)))
    assert error.message == f"{message} Length=1001 Limit=1000"
    events = await _events(client, workflow_id)
    assert events[-1].event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
    assert events[-1].workflow_task_failed_event_attributes.cause == cause
