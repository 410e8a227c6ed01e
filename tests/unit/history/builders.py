"""A fresh run built the way the engine builds one, with a fake clock, for the pure history modules.

Runs come from the project's own start path (``starts.new_state``, ``starts.record_started``,
``runs.begin``); later changes are made as the engine makes them: one ``Change`` per operation,
taken from the state the previous one left, with the time the fake clock says.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from google.protobuf import any_pb2
from google.protobuf.duration_pb2 import Duration
from temporalio.api.command.v1 import Command
from temporalio.api.common.v1 import Payload, Payloads, RetryPolicy, WorkflowType
from temporalio.api.enums.v1 import CommandType, EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.protocol.v1 import Message
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import StartWorkflowExecutionRequest

from cadenza.clock import Clock
from cadenza.config import Limits
from cadenza.history.machine import activities, commands, runs, starts, updates, workflow_tasks
from cadenza.history.machine.change import Change
from cadenza.history.machine.state import MutableState
from cadenza.persistence.records import NamespaceRecord

T0 = 1_700_000_000.0
"""The fake clock's first reading: a fixed moment, so every deadline is a known number."""

NAMESPACE = NamespaceRecord("ns-id", "default", {})
TASK_QUEUE = "tq"
IDENTITY = "worker-1"


class FakeClock:
    """A ``Clock`` that only moves when a test moves it."""

    def __init__(self, start: float = T0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> float:
        self._now += seconds
        return self._now


_IS_A_CLOCK: Clock = FakeClock()
"""mypy checks here that FakeClock satisfies the project's Clock protocol."""


def duration(seconds: float) -> Duration:
    whole = int(seconds)
    return Duration(seconds=whole, nanos=round((seconds - whole) * 1e9))


def payloads(*values: bytes) -> Payloads:
    return Payloads(payloads=[Payload(metadata={"encoding": b"json/plain"}, data=v) for v in values])


def start_request(
    workflow_id: str = "wf-1",
    *,
    run_timeout: float = 0,
    execution_timeout: float = 0,
    task_timeout: float = 0,
    cron: str = "",
    start_delay: float = 0,
    retry: RetryPolicy | None = None,
    input: Payloads | None = None,
) -> StartWorkflowExecutionRequest:
    request = StartWorkflowExecutionRequest(
        namespace=NAMESPACE.name,
        workflow_id=workflow_id,
        workflow_type=WorkflowType(name="Wf"),
        task_queue=TaskQueue(name=TASK_QUEUE),
        identity="client",
        request_id="req-1",
        cron_schedule=cron,
    )
    if run_timeout:
        request.workflow_run_timeout.CopyFrom(duration(run_timeout))
    if execution_timeout:
        request.workflow_execution_timeout.CopyFrom(duration(execution_timeout))
    if task_timeout:
        request.workflow_task_timeout.CopyFrom(duration(task_timeout))
    if start_delay:
        request.workflow_start_delay.CopyFrom(duration(start_delay))
    if retry is not None:
        request.retry_policy.CopyFrom(retry)
    if input is not None:
        request.input.CopyFrom(input)
    return request


@dataclass
class Run:
    """One run, its stored history so far, and the clock its changes read."""

    clock: FakeClock
    state: MutableState
    history: list[HistoryEvent] = field(default_factory=list)
    last: Change | None = None
    version: int = 0

    def change(self) -> Change:
        """A change as the engine opens one: the current state, the clock's time, the start
        event (needed when a new run may follow)."""
        change = Change(self.state, self.clock.now(), self.version)
        change.start_event = self.history[0] if self.history else None
        return change

    def commit(self, change: Change) -> Change:
        """What the engine does after a change is applied: keep its events, count the version."""
        change.to_write()
        self.history.extend(change.events)
        self.version += 1
        self.last = change
        return change

    # -- workflow tasks -----------------------------------------------------------------

    def start_task(self, identity: str = IDENTITY) -> Change:
        change = self.change()
        workflow_tasks.record_started(change, identity, "poll-req", "")
        return self.commit(change)

    def next_task(self, identity: str = IDENTITY) -> Change:
        """Schedule a workflow task on an idle run and have a worker pick it up."""
        change = self.change()
        workflow_tasks.schedule(change)
        workflow_tasks.record_started(change, identity, "poll-req", "")
        return self.commit(change)

    def complete_task(
        self, *cmds: Command, messages: Sequence[Message] = (), identity: str = IDENTITY
    ) -> Change:
        """Complete the running task as the engine does: validate, then apply the commands."""
        change = self.change()
        commands.validate(cmds, change, commands.Checks(2 * 1024 * 1024, 2 * 1024 * 1024), messages)
        workflow_tasks.materialize(change)
        wft = workflow_tasks.close(change)
        done = change.add_event(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)
        done.workflow_task_completed_event_attributes.scheduled_event_id = wft.scheduled_event_id
        done.workflow_task_completed_event_attributes.started_event_id = wft.started_event_id
        change.state.previous_started_event_id = wft.started_event_id
        by_id = {m.id: m for m in messages}

        def on_message(message_id: str) -> None:
            message = by_id.pop(message_id, None)
            if message is not None:
                updates.apply(change, message)

        outcome = commands.apply(cmds, change, done.event_id, identity, on_message)
        for message in by_id.values():
            updates.apply(change, message)
        for activity, _eager in outcome.scheduled_activities:
            activities.enqueue(change, activity)
        if not outcome.closed and (
            change.flush_buffered() or change.needs_workflow_task or updates.has_undelivered(change.state)
        ):
            workflow_tasks.schedule(change)
        return self.commit(change)

    def event_types(self) -> list[int]:
        return [e.event_type for e in self.history]


def new_run(
    request: StartWorkflowExecutionRequest | None = None,
    *,
    clock: FakeClock | None = None,
    run_id: str = "run-1",
) -> Run:
    """A run just started: WorkflowExecutionStarted and (unless delayed) its first task scheduled."""
    clock = clock or FakeClock()
    request = request or start_request()
    starts.validate(request, Limits())
    now = clock.now()
    state = starts.new_state(NAMESPACE, request, run_id, now)
    change = Change(state, now, 0)
    backoff = starts.first_task_backoff(request, now)
    starts.record_started(change, request, backoff)
    runs.begin(change, backoff)
    run = Run(clock, state)
    run.commit(change)
    return run


def started_run(
    request: StartWorkflowExecutionRequest | None = None, *, clock: FakeClock | None = None
) -> Run:
    """A fresh run whose first workflow task a worker has picked up."""
    run = new_run(request, clock=clock)
    run.start_task()
    return run


def command(kind: int, **attrs: object) -> Command:
    """A command of ``kind`` whose attributes field is filled from keyword arguments."""
    cmd = Command(command_type=kind)  # type: ignore[arg-type]
    name = {
        CommandType.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK: "schedule_activity_task_command_attributes",
        CommandType.COMMAND_TYPE_START_TIMER: "start_timer_command_attributes",
        CommandType.COMMAND_TYPE_CANCEL_TIMER: "cancel_timer_command_attributes",
        CommandType.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION: "complete_workflow_execution_command_attributes",
        CommandType.COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION: "fail_workflow_execution_command_attributes",
        CommandType.COMMAND_TYPE_CANCEL_WORKFLOW_EXECUTION: "cancel_workflow_execution_command_attributes",
        CommandType.COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION: "continue_as_new_workflow_execution_command_attributes",
        CommandType.COMMAND_TYPE_RECORD_MARKER: "record_marker_command_attributes",
        CommandType.COMMAND_TYPE_REQUEST_CANCEL_ACTIVITY_TASK: "request_cancel_activity_task_command_attributes",
        CommandType.COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION: "start_child_workflow_execution_command_attributes",
        CommandType.COMMAND_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION: "signal_external_workflow_execution_command_attributes",
        CommandType.COMMAND_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION: "request_cancel_external_workflow_execution_command_attributes",
        CommandType.COMMAND_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES: "upsert_workflow_search_attributes_command_attributes",
        CommandType.COMMAND_TYPE_MODIFY_WORKFLOW_PROPERTIES: "modify_workflow_properties_command_attributes",
        CommandType.COMMAND_TYPE_PROTOCOL_MESSAGE: "protocol_message_command_attributes",
    }[kind]  # type: ignore[index]
    target = getattr(cmd, name)
    target.SetInParent()
    for key, value in attrs.items():
        field_value = getattr(target, key)
        if hasattr(field_value, "CopyFrom"):
            field_value.CopyFrom(value)
        else:
            setattr(target, key, value)
    return cmd


def schedule_activity(
    activity_id: str = "a1",
    *,
    start_to_close: float = 10,
    schedule_to_close: float = 0,
    schedule_to_start: float = 0,
    heartbeat: float = 0,
    retry: RetryPolicy | None = None,
    task_queue: str = "",
) -> Command:
    cmd = command(CommandType.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK, activity_id=activity_id)
    attrs = cmd.schedule_activity_task_command_attributes
    attrs.activity_type.name = "Act"
    attrs.task_queue.name = task_queue
    if start_to_close:
        attrs.start_to_close_timeout.CopyFrom(duration(start_to_close))
    if schedule_to_close:
        attrs.schedule_to_close_timeout.CopyFrom(duration(schedule_to_close))
    if schedule_to_start:
        attrs.schedule_to_start_timeout.CopyFrom(duration(schedule_to_start))
    if heartbeat:
        attrs.heartbeat_timeout.CopyFrom(duration(heartbeat))
    if retry is not None:
        attrs.retry_policy.CopyFrom(retry)
    return cmd


def start_timer(timer_id: str = "t1", seconds: float = 5) -> Command:
    return command(
        CommandType.COMMAND_TYPE_START_TIMER, timer_id=timer_id, start_to_fire_timeout=duration(seconds)
    )


def packed(message: object) -> any_pb2.Any:
    body = any_pb2.Any()
    body.Pack(message)  # type: ignore[arg-type]
    return body
