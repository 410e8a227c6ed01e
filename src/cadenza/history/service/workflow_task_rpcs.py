"""The workflow task RPCs: PollWorkflowTaskQueue's start, RespondWorkflowTaskCompleted/Failed,
ResetStickyTaskQueue, and a sticky queue whose worker went away.

Completing a task is where a worker's commands and update answers enter the
run; the state machine (``cadenza.history.machine.commands``) applies them, this
module decides which of Temporal's paths the completion takes.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from temporalio.api.enums.v1 import EventType, TimeoutType
from temporalio.api.failure.v1 import Failure
from temporalio.api.update.v1 import Rejection
from temporalio.api.workflowservice.v1 import (
    RespondWorkflowTaskCompletedRequest,
    RespondWorkflowTaskCompletedResponse,
    RespondWorkflowTaskFailedRequest,
)

from cadenza.exceptions import InvalidArgumentError, NotFoundError
from cadenza.history.machine import (
    activities,
    commands,
    size_limits,
    updates,
    versioning,
    visibility_fields,
    workflow_ops,
    workflow_tasks,
)
from cadenza.history.machine import events as ev
from cadenza.history.machine.change import Change
from cadenza.history.machine.rejections import CommandRejected
from cadenza.history.machine.state import Activity, MutableState
from cadenza.history.machine.tokens import TaskToken
from cadenza.history.service.engine import Engine
from cadenza.history.service.task_responses import activity_task_response, workflow_task_response_bytes
from cadenza.persistence.records import ExecutionKey, TaskRecord
from cadenza.protoutil import present
from cadenza.visibility import validation

MAX_EAGER_ACTIVITIES = 3
MAX_DISCARDED_EVENTS = 10
"""A speculative task that showed the worker more new events than this is kept, as on Temporal."""


class WorkflowTaskRpcs(Engine):
    """Workflow tasks handed to workers, and what the workers answer."""

    async def record_workflow_task_started(
        self, task: TaskRecord, identity: str, build_id: str
    ) -> bytes | None:
        """Hand a polled workflow task to a worker, as the serialized poll response;
        None if the task is obsolete."""
        try:
            async with self.changing(task.key) as (entry, change):
                wft = entry.state.workflow_task
                if (
                    not entry.state.running
                    or wft is None
                    or wft.started_event_id
                    or wft.scheduled_event_id != task.scheduled_event_id
                ):
                    change.remove_task(task.task_id)
                    return None
                workflow_tasks.record_started(change, identity, str(uuid.uuid4()), build_id)
                change.counts_as_transition = not wft.speculative
        except NotFoundError:
            await self._store.remove_stale([task.task_id], [])
            return None
        sticky = task.task_queue != entry.state.task_queue
        return await workflow_task_response_bytes(self.cache, entry, sticky=sticky)

    async def complete_workflow_task(
        self,
        token: TaskToken,
        request: RespondWorkflowTaskCompletedRequest,
        rules: dict[str, validation.Rules] | None = None,
        endpoints: dict[str, str] | None = None,
    ) -> RespondWorkflowTaskCompletedResponse:
        """Apply the commands of a completed task; ``rules`` check the search attributes
        they set, by namespace name (the run's own, and those its children start in), and
        ``endpoints`` are the IDs of the Nexus endpoints they name, by name."""
        response = RespondWorkflowTaskCompletedResponse()
        rejected: CommandRejected | None = None
        eager: list[Activity] = []
        async with self.changing(token.key) as (entry, change):
            _check_workflow_task(entry.state, token)
            if change.start_event is None and commands.starts_new_run(request.commands):
                change.start_event = (await self.cache.history(entry))[0]
            try:
                checks = commands.Checks(
                    self._limits.blob_size_error,
                    self._limits.memo_size_error,
                    rules or {},
                    endpoints or {},
                )
                commands.validate(request.commands, change, checks, request.messages)
            except CommandRejected as exc:
                rejected = exc
                _reject_commands(change, exc, request.identity)
            else:
                if _dropped_speculative(change, request):
                    # Tells the worker to rewind to the last task the history keeps.
                    response.reset_history_event_id = change.state.previous_started_event_id
                    change.counts_as_transition = False
                else:
                    eager = _complete_workflow_task(
                        change, request, endpoints or {}, self.may_dispatch_eagerly
                    )
                    if size_limits.enforce(change, self._limits):
                        eager = []
        if rejected is not None:
            raise InvalidArgumentError(rejected.full_message)
        for activity in eager:
            response.activity_tasks.append(await activity_task_response(self.cache, entry, activity))
        return response

    async def fail_workflow_task(self, token: TaskToken, request: RespondWorkflowTaskFailedRequest) -> None:
        async with self.changing(token.key) as (entry, change):
            _check_workflow_task(entry.state, token)
            workflow_tasks.fail(
                change,
                request.cause,
                present(request, "failure"),
                request.identity,
            )

    async def reset_sticky(self, key: ExecutionKey) -> None:
        async with self.changing(key) as (entry, _change):
            entry.state.sticky_queue = ""

    async def sticky_queue_lost(self, task: TaskRecord) -> None:
        """The sticky worker is gone: move the pending workflow task to the normal queue."""
        async with self.changing(task.key) as (entry, change):
            wft = entry.state.workflow_task
            if (
                entry.state.running
                and wft is not None
                and not wft.started_event_id
                and wft.scheduled_event_id == task.scheduled_event_id
                and wft.attempt == task.attempt
            ):
                workflow_tasks.time_out(change, TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START)


def _check_workflow_task(state: MutableState, token: TaskToken) -> None:
    """Refuse a token that is not the run's current, started workflow task."""
    wft = state.workflow_task
    if (
        not state.running
        or wft is None
        or wft.scheduled_event_id != token.scheduled_event_id
        or wft.started_event_id != token.started_event_id
        or wft.attempt != token.attempt
        or wft.request_id != token.start_request_id
    ):
        raise NotFoundError("Workflow task not found.")


def _reject_commands(change: Change, exc: CommandRejected, identity: str) -> None:
    """Fail the task as Temporal does; a payload over the limit ends the workflow."""
    failure = Failure(message=exc.full_message)
    failure.server_failure_info.SetInParent()
    workflow_tasks.fail(change, exc.cause, failure, identity)
    if exc.terminate:
        workflow_ops.terminate(change, exc.full_message, None, "history-service")


def _complete_workflow_task(
    change: Change,
    request: RespondWorkflowTaskCompletedRequest,
    endpoints: dict[str, str],
    may_dispatch_eagerly: Callable[[str, str], bool],
) -> list[Activity]:
    """Record the completion and apply its commands; return the activities started eagerly."""
    s = change.state
    workflow_tasks.materialize(change)
    wft = workflow_tasks.close(change)
    event = change.add_event(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)
    attrs = event.workflow_task_completed_event_attributes
    attrs.scheduled_event_id = wft.scheduled_event_id
    attrs.started_event_id = wft.started_event_id
    attrs.identity = request.identity
    build_id = (
        request.deployment_options.build_id
        or request.worker_version_stamp.build_id
        or request.binary_checksum
    )
    if build_id:
        attrs.worker_version.build_id = build_id
    visibility_fields.record_build_id(
        s, build_id, request.worker_version_stamp.use_versioning, versioning.deployed(request)
    )
    attrs.sdk_metadata.CopyFrom(request.sdk_metadata)
    attrs.worker_deployment_name = request.deployment_options.deployment_name
    versioning.record_completion(s, request, attrs, change.routing)
    attrs.metering_metadata.CopyFrom(request.metering_metadata)
    s.previous_started_event_id = wft.started_event_id
    _keep_sticky(s, request)
    messages = {m.id: m for m in request.messages}

    def on_message(message_id: str) -> None:
        message = messages.pop(message_id, None)
        if message is not None:
            updates.apply(change, message)

    outcome = commands.apply(
        request.commands, change, event.event_id, request.identity, on_message, endpoints
    )
    for message in list(messages.values()):  # answers no command points at (rejections)
        updates.apply(change, message)
    eager = _start_or_enqueue(
        change,
        outcome.scheduled_activities,
        request.identity,
        request.worker_control_task_queue,
        may_dispatch_eagerly,
    )
    if outcome.closed:
        return []
    flushed = change.flush_buffered()
    if s.paused:  # the completion counts; the next task waits for the unpause
        return eager
    if (
        flushed
        or request.force_create_new_workflow_task
        or change.needs_workflow_task
        or updates.has_undelivered(s)
    ):
        workflow_tasks.schedule(change)
    return eager


def _dropped_speculative(change: Change, request: RespondWorkflowTaskCompletedRequest) -> bool:
    """Drop a speculative task that only rejected updates, leaving no events, as Temporal does.

    A task answered with nothing at all is kept: the worker did not take the
    updates in, and a task with fresh event IDs is what brings them to it again.
    """
    wft = change.state.workflow_task
    if (
        wft is None
        or not wft.speculative
        or request.commands
        or change.has_buffered
        or request.force_create_new_workflow_task
        or not request.messages
        or not all(m.body.Is(Rejection.DESCRIPTOR) for m in request.messages)
        or _shipped_too_many_events(change.state, request)
    ):
        return False
    workflow_tasks.close(change)
    for message in request.messages:
        updates.apply(change, message)
    _keep_sticky(change.state, request)
    if updates.has_undelivered(change.state):
        workflow_tasks.schedule(change, speculative=True)
    return True


def _start_or_enqueue(
    change: Change,
    scheduled: list[tuple[Activity, bool]],
    identity: str,
    control_queue: str,
    may_dispatch_eagerly: Callable[[str, str], bool],
) -> list[Activity]:
    """Start up to a few activities in the response, as Temporal's eager dispatch does; not on a
    queue whose concurrency limit dispatches its tasks (``may_dispatch_eagerly`` says)."""
    eager: list[Activity] = []
    for activity, wants_eager in scheduled:
        if (
            wants_eager
            and not change.state.paused  # held until the unpause, like any attempt
            and len(eager) < MAX_EAGER_ACTIVITIES
            and activity.task_queue == change.state.task_queue
            and may_dispatch_eagerly(change.state.namespace_id, activity.task_queue)
        ):
            activities.record_started(change, activity, identity, str(uuid.uuid4()), control_queue)
            eager.append(activity)
        else:
            activities.enqueue(change, activity)
    return eager


def _shipped_too_many_events(state: MutableState, request: RespondWorkflowTaskCompletedRequest) -> bool:
    """Whether a speculative task showed events that came after the last completed task.

    Dropping the task makes the worker see those events again in the next one, which
    only workers that say they can take that may be asked; and never for too many.
    The last completed task's started event is followed by its completed event, so
    anything past those two is new.
    """
    new_events = state.next_event_id - (state.previous_started_event_id + 2)
    if request.capabilities.discard_speculative_workflow_task_with_events:
        return new_events > MAX_DISCARDED_EVENTS
    return new_events > 0


def _keep_sticky(state: MutableState, request: RespondWorkflowTaskCompletedRequest) -> None:
    """Send the run's next tasks where the worker asks: its sticky queue, if it keeps one."""
    sticky = request.sticky_attributes
    state.sticky_queue = sticky.worker_task_queue.name
    state.sticky_schedule_to_start = ev.seconds(sticky.schedule_to_start_timeout)
