"""The workflow task's life: scheduled, started, then completed, failed or timed out.

Like Temporal, a workflow task that is retried after a failure is *transient*:
its Scheduled and Started events are shown to the worker but written to
history only if that attempt completes (or something else happens to the run
in the meantime), so a workflow stuck failing does not grow its history.

A task scheduled only to deliver updates is *speculative*: transient too, and
if the worker just rejects the updates it leaves nothing in history at all.
"""

from __future__ import annotations

from temporalio.api.enums.v1 import EventType, TimeoutType, WorkflowTaskFailedCause
from temporalio.api.failure.v1 import Failure
from temporalio.api.history.v1 import HistoryEvent

from cadenza.history.machine import events as ev
from cadenza.history.machine import versioning
from cadenza.history.machine import workflow_task_events as wft_events
from cadenza.history.machine.change import Change
from cadenza.history.machine.state import MutableState, WorkflowTask
from cadenza.persistence.records import TaskKind
from cadenza.timers.kinds import TimerKind

DEFAULT_TIMEOUT = 10.0
"""A workflow task's start-to-close timeout when the start request sets none, as on Temporal."""
MAX_TIMEOUT = 120.0
"""The longest start-to-close timeout a workflow task gets, whatever the request asks."""


def schedule(
    change: Change, *, attempt: int = 1, use_sticky: bool = True, speculative: bool = False
) -> WorkflowTask:
    """Schedule the next workflow task, on the sticky queue if the worker keeps one."""
    s = change.state
    sticky = s.sticky_queue if use_sticky and versioning.keeps_sticky(s, change.routing) else ""
    if not sticky:
        s.sticky_queue = ""
    transient = attempt > 1 or speculative
    scheduled_id = s.next_event_id
    if not transient:
        _scheduled_event(change, attempt, sticky)
    # Like Temporal, a task for a sticky worker that stopped polling goes to the normal
    # queue at once, though the event still names the sticky queue.
    queue = sticky if sticky and change.sticky_alive(s.namespace_id, sticky) else s.task_queue
    wft = WorkflowTask(
        scheduled_event_id=scheduled_id,
        attempt=attempt,
        task_queue=queue,
        scheduled_time=change.now,
        task_id=change.add_task(TaskKind.WORKFLOW, queue, scheduled_id, attempt, s.priority),
        transient=transient,
        speculative=speculative,
        sticky_queue=sticky,
    )
    if queue == sticky and s.sticky_schedule_to_start > 0:
        wft.timer_id = change.add_timer(
            TimerKind.WFT_STICKY_SCHEDULE_TO_START,
            change.now + s.sticky_schedule_to_start,
            scheduled_id,
            attempt,
        )
    s.workflow_task = wft
    return wft


def _scheduled_event(change: Change, attempt: int, sticky: str) -> HistoryEvent:
    event = change.add_event(EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED)
    wft_events.fill_scheduled(event, change.state, attempt, sticky)
    return event


def ensure_scheduled(change: Change, *, speculative: bool = False) -> None:
    """Schedule a workflow task unless one is already pending or running, or the run is paused
    (its unpause schedules one)."""
    s = change.state
    if s.workflow_task is None and s.running and not s.paused and not s.backoff_timer_id:
        schedule(change, speculative=speculative)


def record_started(change: Change, identity: str, request_id: str, build_id: str) -> None:
    s = change.state
    wft = s.workflow_task
    assert wft is not None
    change.remove_task(wft.task_id)
    change.remove_timer(wft.timer_id)
    wft.task_id = ""
    # Events (signals, say) may have come in since the task was scheduled; a transient
    # task's events are not written, so nothing can come between its two.
    wft.started_event_id = wft.scheduled_event_id + 1 if wft.transient else s.next_event_id
    wft.started_time = change.now
    wft.identity = identity
    wft.request_id = request_id
    wft.build_id = build_id
    wft.history_size = change.history_size()
    if not wft.transient:
        _started_event(change, wft)
    wft.timer_id = change.add_timer(
        TimerKind.WFT_START_TO_CLOSE,
        change.now + wft_events.start_to_close(s, wft.attempt),
        wft.scheduled_event_id,
        wft.attempt,
    )


def _started_event(change: Change, wft: WorkflowTask) -> HistoryEvent:
    event = change.add_event(EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED)
    wft_events.fill_started(event, wft)
    wft_events.suggest_continue_as_new(event, change.suggest_continue_as_new_at)
    if versioning.target_changed(change.state, change.routing):
        event.workflow_task_started_event_attributes.target_worker_deployment_version_changed = True
    return event


def materialize(change: Change) -> None:
    """Write a transient task's Scheduled (and Started) events: it is no longer a retry loop.

    ``Change`` does the writing, since it must also do so before any other event.
    """
    change.materialize_transient()


def transient_events(state: MutableState) -> list[HistoryEvent]:
    """The events a worker is shown for a transient task, never stored."""
    wft = state.workflow_task
    if wft is None or not wft.transient:
        return []
    scheduled = ev.new_event(EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, wft.scheduled_time)
    scheduled.event_id = wft.scheduled_event_id
    wft_events.fill_scheduled(scheduled, state, wft.attempt, wft.sticky_queue)
    events = [scheduled]
    if wft.started_event_id:
        started = ev.new_event(EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED, wft.started_time)
        started.event_id = wft.started_event_id
        wft_events.fill_started(started, wft)
        events.append(started)
    return events


def close(change: Change) -> WorkflowTask:
    """Forget the current workflow task and its timers; return it."""
    s = change.state
    wft = s.workflow_task
    assert wft is not None
    change.remove_task(wft.task_id)
    change.remove_timer(wft.timer_id)
    s.workflow_task = None
    return wft


def fail(change: Change, cause: int, failure: Failure | None, identity: str) -> None:
    """Record a failed workflow task and schedule a fresh attempt on the normal queue."""
    wft = _record_failure(change, cause, failure, identity)
    _retry(change, wft.attempt + 1)


def fail_for_close(change: Change) -> None:
    """Fail the running task of a run being closed from outside; no attempt follows."""
    _record_failure(change, WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_FORCE_CLOSE_COMMAND, None, "")


def _record_failure(change: Change, cause: int, failure: Failure | None, identity: str) -> WorkflowTask:
    """Close the current task and write its failure, as Temporal does.

    Only the first failure is written; later attempts stay transient until one
    of them completes. A speculative task that fails is written like any other.
    """
    _keep_if_speculative(change)
    wft = close(change)
    if not wft.transient:
        event = change.add_event(EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED)
        attrs = event.workflow_task_failed_event_attributes
        attrs.scheduled_event_id = wft.scheduled_event_id
        attrs.started_event_id = wft.started_event_id
        attrs.cause = cause  # type: ignore[assignment]
        if failure is not None:
            attrs.failure.CopyFrom(failure)
        attrs.identity = identity
    return wft


def time_out(change: Change, timeout_type: int) -> None:
    """The worker took too long (or never picked the task up): try again elsewhere."""
    _keep_if_speculative(change)
    wft = close(change)
    started = timeout_type == TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE
    if not wft.transient:
        event = change.add_event(EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT)
        attrs = event.workflow_task_timed_out_event_attributes
        attrs.scheduled_event_id = wft.scheduled_event_id
        attrs.started_event_id = wft.started_event_id
        attrs.timeout_type = timeout_type  # type: ignore[assignment]
    _retry(change, wft.attempt + 1 if started else wft.attempt)


def _keep_if_speculative(change: Change) -> None:
    wft = change.state.workflow_task
    if wft is not None and wft.speculative:
        materialize(change)


def _retry(change: Change, attempt: int) -> None:
    change.state.sticky_queue = ""
    if change.flush_buffered():
        attempt = 1  # new events: the workflow has something new to look at
    if not change.state.paused:  # else its unpause schedules a fresh task
        schedule(change, attempt=attempt, use_sticky=False)
