"""The history service: loads an execution, applies one operation, commits, hands off tasks."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from temporalio.api.common.v1 import Payloads, WorkflowExecution, WorkflowType
from temporalio.api.enums.v1 import (
    EventType,
    TimeoutType,
)
from temporalio.api.failure.v1 import Failure
from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.update.v1 import Rejection, Request
from temporalio.api.workflowservice.v1 import (
    PollActivityTaskQueueResponse,
    PollWorkflowTaskQueueResponse,
    RespondWorkflowTaskCompletedRequest,
    RespondWorkflowTaskCompletedResponse,
    RespondWorkflowTaskFailedRequest,
    StartWorkflowExecutionRequest,
)

from cadenza import run_log
from cadenza.clock import Clock
from cadenza.config import Limits
from cadenza.exceptions import (
    ConcurrentUpdateError,
    InvalidArgumentError,
    NotFoundError,
)
from cadenza.history.cache import Entry, ExecutionCache
from cadenza.history.machine import (
    activities,
    commands,
    reset,
    runs,
    signals,
    size_limits,
    starts,
    updates,
    user_timers,
    visibility_fields,
    workflow_ops,
    workflow_tasks,
)
from cadenza.history.machine import events as ev
from cadenza.history.machine.change import Change, new_run_id
from cadenza.history.machine.rejections import CommandRejected
from cadenza.history.machine.signals import Signal
from cadenza.history.machine.state import RUNNING, Activity, MutableState, Parent, decode_blob
from cadenza.history.machine.tokens import TaskToken
from cadenza.persistence.records import (
    ExecutionKey,
    NamespaceRecord,
    TaskRecord,
    TimerRecord,
)
from cadenza.persistence.store import Store
from cadenza.protoutil import present
from cadenza.timers.kinds import TimerKind
from cadenza.visibility import validation
from cadenza.worker_commands import WorkerCommands

logger = logging.getLogger(__name__)

MAX_EAGER_ACTIVITIES = 3
MAX_DISCARDED_EVENTS = 10
"""A speculative task that showed the worker more new events than this is kept, as on Temporal."""


@dataclass(frozen=True)
class StartResult:
    """The run a start request is answered with."""

    run_id: str
    started: bool
    status: int = RUNNING
    """The run's status when answered: a request retried after its run closed finds it closed."""
    first_execution_run_id: str = ""
    """The first run of the run's chain (retries, cron runs, continue-as-new)."""
    eager_task: PollWorkflowTaskQueueResponse | None = None
    """The first workflow task, already started, when the client asked to run it itself."""


@dataclass(frozen=True)
class Dispatch:
    """Where committed tasks and timers go: matching and the timer queue."""

    add_task: Callable[[TaskRecord], None]
    add_timer: Callable[[TimerRecord], None]
    discard_timer: Callable[[str], None]
    sticky_alive: Callable[[str, str], bool]
    send_worker_commands: Callable[[WorkerCommands], None]


class HistoryService:
    """Every change to an execution goes through here, one at a time per execution."""

    def __init__(self, store: Store, clock: Clock, limits: Limits, dispatch: Dispatch) -> None:
        self._store = store
        self._clock = clock
        self._limits = limits
        self._dispatch = dispatch
        self.cache = ExecutionCache(store)
        self._id_locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._alone = store.replicas() is None
        """No other replica writes to the store, so a cached running run is surely current."""
        self.on_run_closed: Callable[[MutableState], None] | None = None
        """Told (after commit) of every run that closes; schedules watch their workflows so."""

    # -- the transaction -------------------------------------------------------------

    def changing(self, key: ExecutionKey):  # type: ignore[no-untyped-def]
        """Lock, mutate and commit one execution (for collaborators such as transfers)."""
        return self._changing(key)

    @asynccontextmanager
    async def _changing(self, key: ExecutionKey) -> AsyncIterator[tuple[Entry, Change]]:
        """Lock the execution, let the caller mutate it, then commit and hand off."""
        entry = await self._locked(key)
        try:
            change = Change(
                entry.state,
                self._clock.now(),
                entry.version,
                self._dispatch.sticky_alive,
                suggest_continue_as_new_at=self._limits.suggest_continue_as_new_events,
            )
            if entry.state.retry_policy is not None or entry.state.cron_schedule:
                change.start_event = (await self.cache.history(entry))[0]
            try:
                yield entry, change
            except BaseException:
                self.cache.drop(key)
                raise
            await self._commit(entry, change)
        finally:
            entry.lock.release()

    async def _locked(self, key: ExecutionKey) -> Entry:
        """The cached execution with its lock held, re-fetched if it was dropped meanwhile."""
        while True:
            entry = await self.load(key)
            await entry.lock.acquire()
            if self.cache.holds(entry):
                return entry
            entry.lock.release()

    async def _commit(self, entry: Entry, change: Change) -> None:
        if not (
            change.events
            or change.tasks_added
            or change.tasks_removed
            or change.state_changed
            or change.timers_added
            or change.timers_removed
            or change.has_buffered
        ):
            return
        write = change.to_write()
        follow = change.successor
        more = [follow.to_write()] if follow is not None else []
        try:
            await self._store.commit(write, *more)
        except BaseException:
            self.cache.drop(entry.key)
            raise
        entry.version = write.new_version
        if entry.events is not None:
            entry.events.extend(change.events)
        self._hand_off(change)
        if follow is not None:
            self.cache.put(Entry(follow.key, follow.state, 1, events=list(follow.events)))
            self._hand_off(follow)
        if change.events or change.state_changed:
            entry.notify()

    def _hand_off(self, change: Change) -> None:
        run_log.committed(change)
        for task in change.tasks_added:
            self._dispatch.add_task(task)
        for timer in change.timers_added:
            self._dispatch.add_timer(timer)
        for timer_id in change.timers_removed:
            self._dispatch.discard_timer(timer_id)
        if change.status_changed and change.state.status != RUNNING and self.on_run_closed is not None:
            self.on_run_closed(change.state)
        for pushed in change.worker_commands():
            self._dispatch.send_worker_commands(pushed)

    # -- starting ----------------------------------------------------------------------

    async def start_workflow(
        self,
        namespace: NamespaceRecord,
        request: StartWorkflowExecutionRequest,
        signal: Signal | None = None,
        parent: Parent | None = None,
        rules: validation.Rules | None = None,
    ) -> StartResult:
        """Start a run; say which run answers and whether this call started it.

        With ``signal`` (SignalWithStart) a running workflow is signalled instead,
        and a new run receives the signal before its first workflow task. ``rules``
        check the search attributes of a start a client asked for; a child's or a
        schedule's were checked when its command or schedule was taken.
        """
        starts.validate(request, self._limits)
        if rules is not None:
            validation.check(request.search_attributes, rules)
        id_key = (namespace.id, request.workflow_id)
        lock = self._id_locks.setdefault(id_key, asyncio.Lock())
        async with lock:
            try:
                return await self._start_locked(namespace, request, signal, parent)
            finally:
                if not lock._waiters:
                    self._id_locks.pop(id_key, None)

    async def _start_locked(
        self,
        namespace: NamespaceRecord,
        request: StartWorkflowExecutionRequest,
        signal: Signal | None,
        parent: Parent | None,
    ) -> StartResult:
        current = await self._store.get_current_execution(namespace.id, request.workflow_id)
        if signal is not None and current is not None and current.status == RUNNING:
            key = ExecutionKey(namespace.id, request.workflow_id, current.run_id)
            await self.signal_workflow(key, signal)
            return await self._existing_run(key, started=False)
        existing = starts.check_existing(request, current)
        if existing.use_run_id:
            # A retried request is told it started the run, as Temporal tells it.
            retried = current is not None and request.request_id == current.start_request_id
            return await self._existing_run(
                ExecutionKey(namespace.id, request.workflow_id, existing.use_run_id), started=retried
            )
        now = self._clock.now()
        run_id = new_run_id()
        state = starts.new_state(namespace, request, run_id, now)
        state.parent = parent
        if parent is not None:
            # Temporal creates a child run first, then schedules its first workflow task
            # in a second transaction once the parent has recorded the start.
            state.state_transitions = 1
        change = Change(state, now, 0, self._dispatch.sticky_alive)
        backoff = starts.first_task_backoff(request, now)
        starts.record_started(change, request, backoff)
        if signal is not None:
            signals.record(change, signal)
        runs.begin(change, backoff)
        eager = request.request_eager_execution and state.workflow_task is not None
        if eager:  # the starting client's own worker runs the first task: no poll needed
            workflow_tasks.record_started(change, request.identity, str(uuid.uuid4()), "")
        change.new_current = starts.current_record(state)
        change.replaced_run_id = current.run_id if current is not None else None
        if existing.terminate_run_id:
            await self._terminate_for(change, existing.terminate_run_id)
            return StartResult(run_id, True, first_execution_run_id=run_id)
        entry = Entry(change.key, state, 0, events=[])
        self.cache.put(entry)
        async with entry.lock:
            await self._commit(entry, change)
            task = await self._workflow_task_response(entry, sticky=False) if eager else None
        return StartResult(run_id, True, first_execution_run_id=run_id, eager_task=task)

    async def _existing_run(self, key: ExecutionKey, *, started: bool) -> StartResult:
        """The answer naming a run that was there before the request."""
        state = (await self.load(key)).state
        return StartResult(key.run_id, started, state.status, state.first_execution_run_id or state.run_id)

    async def _terminate_for(self, successor: Change, run_id: str) -> None:
        """Terminate a running run and start ``successor`` in its place, in one commit."""
        key = ExecutionKey(successor.state.namespace_id, successor.state.workflow_id, run_id)
        async with self._changing(key) as (_entry, change):
            details = Payloads()
            details.payloads.add(
                metadata={"encoding": b"json/plain"},
                data=json.dumps(f"terminated by new runID: {successor.state.run_id}").encode(),
            )
            workflow_ops.terminate(
                change, "TerminateIfRunning WorkflowIdReusePolicy", details, "history-service"
            )
            change.successor = successor

    # -- updates ---------------------------------------------------------------------------

    async def request_update(self, key: ExecutionKey, request: Request) -> None:
        """Admit an update: remember it and make sure a workflow task will carry it."""
        async with self._changing(key) as (entry, change):
            if updates.status(entry.state, request.meta.update_id) is not None:
                return  # the same update again: its first request stands
            self._require_running(entry.state)
            updates.admit(change, request)
            workflow_tasks.ensure_scheduled(change, speculative=True)
            change.counts_as_transition = False

    async def run_holding_update(self, namespace_id: str, workflow_id: str, update_id: str) -> str | None:
        """The run an update-with-start attaches to instead of starting one.

        That is the current run when it already knows the update: at any stage
        while it runs, only once the update completed after it closed. Conflict
        and reuse policies do not apply then, as on Temporal.
        """
        current = await self._store.get_current_execution(namespace_id, workflow_id)
        if current is None:
            return None
        key = ExecutionKey(namespace_id, workflow_id, current.run_id)
        entry = await self.load(key)
        status = updates.status(entry.state, update_id)
        if status is None:
            return None
        completed = status.outcome is not None and not status.abandoned
        return key.run_id if entry.state.running or completed else None

    async def wait_update(
        self, key: ExecutionKey, update_id: str, stage: int, deadline: float
    ) -> updates.Status:
        """Wait until the update reaches ``stage`` (or the deadline); return where it is."""
        while True:
            entry = await self.load(key)
            current = updates.status(entry.state, update_id)
            if current is None:
                if not entry.state.running:
                    raise NotFoundError("workflow execution already completed")
                raise NotFoundError(f"update {update_id} not found")
            if current.stage >= stage or current.outcome is not None:
                return current
            if not entry.state.running:
                raise NotFoundError("workflow execution already completed")
            if not await entry.wait_changed(deadline - time.monotonic()):
                return current

    # -- signals ---------------------------------------------------------------------------

    async def signal_workflow(self, key: ExecutionKey, signal: Signal) -> None:
        async with self._changing(key) as (entry, change):
            self._require_running(entry.state)
            if signals.seen(entry.state, signal.request_id):
                return
            signals.record(change, signal)
            workflow_tasks.ensure_scheduled(change)

    # -- workflow tasks -------------------------------------------------------------------

    async def record_workflow_task_started(
        self, task: TaskRecord, identity: str, build_id: str
    ) -> PollWorkflowTaskQueueResponse | None:
        """Hand a polled workflow task to a worker; None if the task is obsolete."""
        try:
            async with self._changing(task.key) as (entry, change):
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
        return await self._workflow_task_response(entry, sticky=sticky)

    async def _workflow_task_response(self, entry: Entry, *, sticky: bool) -> PollWorkflowTaskQueueResponse:
        s = entry.state
        wft = s.workflow_task
        assert wft is not None
        history = await self.cache.history(entry)
        first = s.previous_started_event_id + 1 if sticky else 1
        token = TaskToken(
            s.namespace_id,
            s.workflow_id,
            s.run_id,
            wft.scheduled_event_id,
            wft.attempt,
            wft.started_event_id,
            start_request_id=wft.request_id,
        )
        response = PollWorkflowTaskQueueResponse(
            task_token=token.encode(),
            workflow_execution=WorkflowExecution(workflow_id=s.workflow_id, run_id=s.run_id),
            workflow_type=WorkflowType(name=s.workflow_type),
            previous_started_event_id=s.previous_started_event_id,
            started_event_id=wft.started_event_id,
            attempt=wft.attempt,
            workflow_execution_task_queue=ev.task_queue(s.task_queue),
        )
        response.history.events.extend(history[first - 1 :])
        response.history.events.extend(workflow_tasks.transient_events(s))
        response.messages.extend(updates.messages(s, wft.scheduled_event_id))
        response.scheduled_time.CopyFrom(ev.timestamp(wft.scheduled_time))
        response.started_time.CopyFrom(ev.timestamp(wft.started_time))
        return response

    async def complete_workflow_task(
        self,
        token: TaskToken,
        request: RespondWorkflowTaskCompletedRequest,
        rules: dict[str, validation.Rules] | None = None,
    ) -> RespondWorkflowTaskCompletedResponse:
        """Apply the commands of a completed task; ``rules`` check the search attributes
        they set, by namespace name (the run's own, and those its children start in)."""
        response = RespondWorkflowTaskCompletedResponse()
        rejected: CommandRejected | None = None
        eager: list[Activity] = []
        async with self._changing(token.key) as (entry, change):
            self._check_workflow_task(entry.state, token)
            if change.start_event is None and commands.starts_new_run(request.commands):
                change.start_event = (await self.cache.history(entry))[0]
            try:
                checks = commands.Checks(
                    self._limits.blob_size_error, self._limits.memo_size_error, rules or {}
                )
                commands.validate(request.commands, change, checks, request.messages)
            except CommandRejected as exc:
                rejected = exc
                self._reject_commands(change, exc, request.identity)
            else:
                if self._dropped_speculative(change, request):
                    # Tells the worker to rewind to the last task the history keeps.
                    response.reset_history_event_id = change.state.previous_started_event_id
                    change.counts_as_transition = False
                else:
                    eager = self._complete_workflow_task(change, request)
                    if size_limits.enforce(change, self._limits):
                        eager = []
        if rejected is not None:
            raise InvalidArgumentError(rejected.full_message)
        for activity in eager:
            response.activity_tasks.append(await self._activity_task_response(entry, activity))
        return response

    @staticmethod
    def _reject_commands(change: Change, exc: CommandRejected, identity: str) -> None:
        """Fail the task as Temporal does; a payload over the limit ends the workflow."""
        failure = Failure(message=exc.full_message)
        failure.server_failure_info.SetInParent()
        workflow_tasks.fail(change, exc.cause, failure, identity)
        if exc.terminate:
            workflow_ops.terminate(change, exc.full_message, None, "history-service")

    def _complete_workflow_task(
        self, change: Change, request: RespondWorkflowTaskCompletedRequest
    ) -> list[Activity]:
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
        visibility_fields.record_build_id(s, build_id, request.worker_version_stamp.use_versioning)
        attrs.sdk_metadata.CopyFrom(request.sdk_metadata)
        attrs.worker_deployment_name = request.deployment_options.deployment_name
        attrs.metering_metadata.CopyFrom(request.metering_metadata)
        s.previous_started_event_id = wft.started_event_id
        _keep_sticky(s, request)
        messages = {m.id: m for m in request.messages}

        def on_message(message_id: str) -> None:
            message = messages.pop(message_id, None)
            if message is not None:
                updates.apply(change, message)

        outcome = commands.apply(request.commands, change, event.event_id, request.identity, on_message)
        for message in list(messages.values()):  # answers no command points at (rejections)
            updates.apply(change, message)
        eager = self._start_or_enqueue(
            change, outcome.scheduled_activities, request.identity, request.worker_control_task_queue
        )
        if outcome.closed:
            return []
        flushed = change.flush_buffered()
        if (
            flushed
            or request.force_create_new_workflow_task
            or change.needs_workflow_task
            or updates.has_undelivered(s)
        ):
            workflow_tasks.schedule(change)
        return eager

    def _dropped_speculative(self, change: Change, request: RespondWorkflowTaskCompletedRequest) -> bool:
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
        self,
        change: Change,
        scheduled: list[tuple[Activity, bool]],
        identity: str,
        control_queue: str,
    ) -> list[Activity]:
        """Start up to a few activities in the response, as Temporal's eager dispatch does."""
        eager: list[Activity] = []
        for activity, wants_eager in scheduled:
            if (
                wants_eager
                and len(eager) < MAX_EAGER_ACTIVITIES
                and activity.task_queue == change.state.task_queue
            ):
                activities.record_started(change, activity, identity, str(uuid.uuid4()), control_queue)
                eager.append(activity)
            else:
                activities.enqueue(change, activity)
        return eager

    async def fail_workflow_task(self, token: TaskToken, request: RespondWorkflowTaskFailedRequest) -> None:
        async with self._changing(token.key) as (entry, change):
            self._check_workflow_task(entry.state, token)
            workflow_tasks.fail(
                change,
                request.cause,
                present(request, "failure"),
                request.identity,
            )

    @staticmethod
    def _check_workflow_task(state: MutableState, token: TaskToken) -> None:
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

    async def reset_sticky(self, key: ExecutionKey) -> None:
        async with self._changing(key) as (entry, _change):
            entry.state.sticky_queue = ""

    async def sticky_queue_lost(self, task: TaskRecord) -> None:
        """The sticky worker is gone: move the pending workflow task to the normal queue."""
        await self._workflow_task_timeout(
            task.key, task.scheduled_event_id, task.attempt, TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START
        )

    # -- activity tasks -------------------------------------------------------------------

    async def record_activity_task_started(
        self, task: TaskRecord, identity: str, control_queue: str = ""
    ) -> PollActivityTaskQueueResponse | None:
        """Hand a polled activity task to a worker; None if the task is obsolete.

        ``control_queue`` is where the worker's process takes commands (see worker_commands).
        """
        try:
            async with self._changing(task.key) as (entry, change):
                activity = entry.state.activities.get(task.scheduled_event_id)
                if (
                    not entry.state.running
                    or activity is None
                    or activity.started
                    or activity.attempt != task.attempt
                ):
                    change.remove_task(task.task_id)
                    return None
                activities.record_started(change, activity, identity, str(uuid.uuid4()), control_queue)
        except NotFoundError:
            await self._store.remove_stale([task.task_id], [])
            return None
        return await self._activity_task_response(entry, activity)

    async def _activity_task_response(
        self, entry: Entry, activity: Activity
    ) -> PollActivityTaskQueueResponse:
        s = entry.state
        scheduled = await self._event(entry, activity.scheduled_event_id)
        attrs = scheduled.activity_task_scheduled_event_attributes
        response = PollActivityTaskQueueResponse(
            task_token=activities.task_token(s, activity).encode(),
            workflow_namespace=s.namespace,
            workflow_type=WorkflowType(name=s.workflow_type),
            workflow_execution=WorkflowExecution(workflow_id=s.workflow_id, run_id=s.run_id),
            activity_type=attrs.activity_type,
            activity_id=activity.activity_id,
            attempt=activity.attempt,
            retry_policy=attrs.retry_policy,
        )
        for name in ("header", "input", "priority"):  # only those the scheduled event has
            if attrs.HasField(name):
                getattr(response, name).CopyFrom(getattr(attrs, name))
        if activity.heartbeat_details:
            response.heartbeat_details.CopyFrom(Payloads.FromString(decode_blob(activity.heartbeat_details)))
        response.scheduled_time.CopyFrom(ev.timestamp(activity.scheduled_time))
        response.current_attempt_scheduled_time.CopyFrom(ev.timestamp(activity.attempt_scheduled_time))
        response.started_time.CopyFrom(ev.timestamp(activity.started_time))
        response.schedule_to_close_timeout.CopyFrom(attrs.schedule_to_close_timeout)
        response.start_to_close_timeout.CopyFrom(attrs.start_to_close_timeout)
        response.heartbeat_timeout.CopyFrom(attrs.heartbeat_timeout)
        return response

    async def _event(self, entry: Entry, event_id: int) -> HistoryEvent:
        history = await self.cache.history(entry)
        return history[event_id - 1]

    async def complete_activity(self, token: TaskToken, result: Payloads | None, identity: str) -> None:
        async with self._changing(token.key) as (entry, change):
            activity = self._running_activity(entry.state, token)
            activities.complete(change, activity, result, identity)

    async def fail_activity(
        self, token: TaskToken, failure: Failure, identity: str, heartbeat_details: Payloads | None = None
    ) -> None:
        async with self._changing(token.key) as (entry, change):
            activity = self._running_activity(entry.state, token)
            if heartbeat_details is not None:  # the next attempt resumes from these
                activities.heartbeat(change, activity, heartbeat_details)
            activities.fail_attempt(change, activity, failure, identity)

    async def heartbeat_activity(self, token: TaskToken, details: Payloads | None) -> bool:
        """Record a heartbeat; return whether cancellation has been requested."""
        async with self._changing(token.key) as (entry, change):
            activity = self._running_activity(entry.state, token)
            activities.heartbeat(change, activity, details)
            return activity.cancel_requested

    async def cancel_activity(self, token: TaskToken, details: Payloads | None, identity: str) -> None:
        async with self._changing(token.key) as (entry, change):
            activity = self._running_activity(entry.state, token)
            activities.canceled(change, activity, details, identity)

    async def activity_token(self, key: ExecutionKey, activity_id: str) -> TaskToken:
        """The token of an activity's running attempt, for the ById forms of the API."""
        entry = await self.load(key)
        s = entry.state
        for activity in s.activities.values() if s.running else ():
            if activity.activity_id == activity_id:
                return activities.task_token(s, activity)
        raise NotFoundError(
            f"cannot find pending activity with ActivityID {activity_id}, check workflow "
            "execution history for more details"
        )

    # -- whole runs --------------------------------------------------------------------------

    async def request_cancel_workflow(self, key: ExecutionKey, reason: str, identity: str) -> None:
        """Ask the run to cancel; repeating the request, or asking a closed run, is a no-op."""
        async with self._changing(key) as (entry, change):
            if entry.state.running:
                workflow_ops.request_cancel(change, reason, identity)

    async def terminate_workflow(
        self, key: ExecutionKey, reason: str, details: Payloads | None, identity: str
    ) -> None:
        async with self._changing(key) as (entry, change):
            self._require_running(entry.state)
            workflow_ops.terminate(change, reason, details, identity)

    async def reset_workflow(
        self, key: ExecutionKey, finish_event_id: int, reason: str, identity: str, reapply_signals: bool
    ) -> str:
        """Start a new run from the base run's history up to a workflow task; return its ID."""
        base = await self.load(key)
        history = list(await self.cache.history(base))
        started_id = reset.started_event_id(history, finish_event_id)
        s = base.state
        state = MutableState(
            namespace_id=s.namespace_id,
            namespace=s.namespace,
            workflow_id=s.workflow_id,
            run_id=str(uuid.uuid4()),
            workflow_type=s.workflow_type,
            task_queue=s.task_queue,
            start_time=self._clock.now(),
            start_request_id=str(uuid.uuid4()),
            workflow_task_timeout=s.workflow_task_timeout,
            run_timeout=s.run_timeout,
            execution_timeout=s.execution_timeout,
            attempt=s.attempt,
            retry_policy=s.retry_policy,
            cron_schedule=s.cron_schedule,
            first_execution_run_id=s.first_execution_run_id,
            execution_deadline=s.execution_deadline,
            parent=s.parent,
        )
        follow = Change(state, state.start_time, 0, self._dispatch.sticky_alive)
        reset.build(
            follow,
            history,
            started_id,
            reason=reason,
            identity=identity,
            base_run_id=s.run_id,
            reapply_signals=reapply_signals,
        )
        follow.new_current = starts.current_record(state)
        current = await self._store.get_current_execution(s.namespace_id, s.workflow_id)
        assert current is not None
        follow.replaced_run_id = current.run_id
        current_key = ExecutionKey(s.namespace_id, s.workflow_id, current.run_id)
        async with self._changing(current_key) as (entry, change):
            if entry.state.running:
                workflow_ops.terminate(change, reason, None, "history-resetter")
            change.successor = follow
            change.state_changed = True
        return state.run_id

    async def delete_workflow(self, key: ExecutionKey) -> None:
        """Terminate the run if it still runs, then remove it and its history."""
        entry = await self.load(key)
        if entry.state.running:
            await self.terminate_workflow(key, "Delete workflow execution", None, "")
        entry = await self._locked(key)
        try:
            await self._store.delete_execution(key)
            self.cache.drop(key)
        finally:
            entry.lock.release()

    @staticmethod
    def _require_running(state: MutableState) -> None:
        if not state.running:
            raise NotFoundError("workflow execution already completed")

    @staticmethod
    def _running_activity(state: MutableState, token: TaskToken) -> Activity:
        activity = state.activities.get(token.scheduled_event_id) if state.running else None
        if activity is None or not activity.started or activity.attempt != token.attempt:
            raise NotFoundError(
                "invalid activityID or activity already timed out or invoking workflow is completed"
            )
        return activity

    # -- timers -------------------------------------------------------------------------------

    async def fire_timer(self, timer: TimerRecord) -> None:
        """A durable deadline came due; act if the thing it guards is still pending."""
        handlers: dict[str, Callable[[Change, TimerRecord], None]] = {
            TimerKind.WFT_START_TO_CLOSE: self._on_wft_start_to_close,
            TimerKind.WFT_STICKY_SCHEDULE_TO_START: self._on_wft_sticky_timeout,
            TimerKind.ACTIVITY_RETRY: self._on_activity_retry,
            TimerKind.ACTIVITY_START_TO_CLOSE: self._on_activity_start_to_close,
            TimerKind.ACTIVITY_SCHEDULE_TO_CLOSE: self._on_activity_schedule_to_close,
            TimerKind.ACTIVITY_SCHEDULE_TO_START: self._on_activity_schedule_to_start,
            TimerKind.ACTIVITY_HEARTBEAT: self._on_activity_heartbeat,
            TimerKind.USER_TIMER: lambda change, timer: user_timers.fire(change, timer.event_id),
            TimerKind.WORKFLOW_RUN_TIMEOUT: lambda change, _timer: runs.time_out(change),
            TimerKind.WORKFLOW_BACKOFF: lambda change, _timer: runs.backoff_elapsed(change),
        }
        handler = handlers.get(timer.kind)
        if handler is None:
            logger.error("unknown timer kind %s; dropping it", timer.kind)
            await self._store.remove_stale([], [timer.timer_id])
            return
        try:
            async with self._changing(timer.key) as (entry, change):
                if entry.state.running:
                    handler(change, timer)
                if _changes_nothing(change):
                    obsolete = True  # a versioned change would only make others reload
                    await self._check_fresh(entry)
                else:
                    obsolete = False
                    change.remove_timer(timer.timer_id)
        except NotFoundError:
            obsolete = True
        if obsolete:
            await self._store.remove_stale([], [timer.timer_id])

    async def _check_fresh(self, entry: Entry) -> None:
        """Raise ConcurrentUpdateError if another replica changed the execution since it was cached.

        A decision taken without a versioned write, such as finding a timer obsolete,
        must not rest on an old copy: a timer taken over from a dead replica may guard
        something this replica has not seen yet. The caller runs again on a fresh copy.
        """
        if self._alone:
            return
        stored = await self._store.load_execution(entry.key)
        if stored is not None and stored.version != entry.version:
            raise ConcurrentUpdateError("the cached copy is older than the database's")

    def _on_wft_start_to_close(self, change: Change, timer: TimerRecord) -> None:
        wft = change.state.workflow_task
        if (
            wft is not None
            and wft.scheduled_event_id == timer.event_id
            and wft.started_event_id
            and wft.attempt == timer.attempt
        ):
            workflow_tasks.time_out(change, TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE)

    def _on_wft_sticky_timeout(self, change: Change, timer: TimerRecord) -> None:
        wft = change.state.workflow_task
        if wft is not None and wft.scheduled_event_id == timer.event_id and not wft.started_event_id:
            workflow_tasks.time_out(change, TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START)

    async def _workflow_task_timeout(
        self, key: ExecutionKey, scheduled_event_id: int, attempt: int, timeout_type: int
    ) -> None:
        async with self._changing(key) as (entry, change):
            wft = entry.state.workflow_task
            if (
                entry.state.running
                and wft is not None
                and not wft.started_event_id
                and wft.scheduled_event_id == scheduled_event_id
                and wft.attempt == attempt
            ):
                workflow_tasks.time_out(change, timeout_type)

    def _on_activity_retry(self, change: Change, timer: TimerRecord) -> None:
        activity = change.state.activities.get(timer.event_id)
        if activity is not None and activity.attempt == timer.attempt and not activity.started:
            activities.enqueue(change, activity)
            # Temporal's retry timer hands the attempt to matching without writing the run.
            change.counts_as_transition = False

    def _on_activity_start_to_close(self, change: Change, timer: TimerRecord) -> None:
        activity = change.state.activities.get(timer.event_id)
        if activity is not None and activity.attempt == timer.attempt and activity.started:
            activity.attempt_timer_id = ""
            activities.time_out(change, activity, TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE)

    def _on_activity_schedule_to_start(self, change: Change, timer: TimerRecord) -> None:
        activity = change.state.activities.get(timer.event_id)
        if activity is not None and activity.attempt == timer.attempt and not activity.started:
            activity.schedule_to_start_timer_id = ""
            activities.time_out(change, activity, TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START)

    def _on_activity_heartbeat(self, change: Change, timer: TimerRecord) -> None:
        activity = change.state.activities.get(timer.event_id)
        if activity is None or activity.attempt != timer.attempt or not activity.started:
            return
        activity.heartbeat_timer_id = ""
        if activities.heartbeat_deadline(activity) > change.now + 0.001:
            activities.rearm_heartbeat(change, activity)
        else:
            activities.time_out(change, activity, TimeoutType.TIMEOUT_TYPE_HEARTBEAT)

    def _on_activity_schedule_to_close(self, change: Change, timer: TimerRecord) -> None:
        activity = change.state.activities.get(timer.event_id)
        if activity is None:
            return
        activity.timer_id = ""
        # When the attempt's own deadline is also due, Temporal judges the attempt first.
        attempt_due = (
            activity.started
            and activity.start_to_close > 0
            and activity.started_time + activity.start_to_close <= change.now + 0.001
        )
        kind = (
            TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE
            if attempt_due
            else TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE
        )
        activities.time_out(change, activity, kind)

    # -- reading ------------------------------------------------------------------------------

    async def load(self, key: ExecutionKey) -> Entry:
        entry = await self.cache.get(key)
        if entry is None:
            raise NotFoundError(
                f'workflow execution not found for workflow ID "{key.workflow_id}" and run ID "{key.run_id}"'
            )
        return entry

    async def check_chain(self, key: ExecutionKey, first_execution_run_id: str) -> None:
        """Refuse a run that does not belong to the chain started by ``first_execution_run_id``."""
        entry = await self.load(key)
        if entry.state.first_execution_run_id != first_execution_run_id:
            raise NotFoundError(
                f'workflow execution not found for workflow ID "{key.workflow_id}" and run ID "{key.run_id}"'
            )

    async def resolve_run(self, namespace_id: str, workflow_id: str, run_id: str) -> ExecutionKey:
        """The run a request means: the given one, or the current run of the workflow ID."""
        if run_id:
            try:
                uuid.UUID(run_id)
            except ValueError as exc:
                raise InvalidArgumentError("Invalid RunId.") from exc
            return ExecutionKey(namespace_id, workflow_id, run_id)
        known = self._running_current(namespace_id, workflow_id)
        if known is not None:
            return known
        current = await self._store.get_current_execution(namespace_id, workflow_id)
        if current is None:
            raise NotFoundError(f"workflow not found for ID: {workflow_id}")
        return ExecutionKey(namespace_id, workflow_id, current.run_id)

    def _running_current(self, namespace_id: str, workflow_id: str) -> ExecutionKey | None:
        """The current run without a database read, when memory alone can vouch for it.

        A workflow ID has at most one running run, and a newer run only starts once
        it closed; so a cached run that is still running is the current one. With
        other replicas the cached copy may lag behind theirs, so they always read.
        """
        entry = self.cache.latest_run(namespace_id, workflow_id) if self._alone else None
        return entry.key if entry is not None and entry.state.running else None


def _changes_nothing(change: Change) -> bool:
    """Whether a change so far records nothing: no event, task, timer or state of its own."""
    return not (
        change.events
        or change.tasks_added
        or change.tasks_removed
        or change.timers_added
        or change.timers_removed
        or change.has_buffered
        or change.state_changed
        or change.successor is not None
    )


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
