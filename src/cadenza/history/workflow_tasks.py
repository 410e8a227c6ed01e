"""The workflow task's life: scheduled, started, then completed, failed or timed out."""

from __future__ import annotations

from temporalio.api.enums.v1 import EventType, TimeoutType, WorkflowTaskFailedCause
from temporalio.api.failure.v1 import Failure

from cadenza.history import events as ev
from cadenza.history.change import Change
from cadenza.history.state import WorkflowTask
from cadenza.persistence.records import TaskKind

WFT_START_TO_CLOSE = "wft_start_to_close"
WFT_STICKY_SCHEDULE_TO_START = "wft_sticky_schedule_to_start"


def schedule(change: Change, *, attempt: int = 1, use_sticky: bool = True) -> WorkflowTask:
    """Schedule the next workflow task, on the sticky queue if the worker keeps one."""
    s = change.state
    sticky = s.sticky_queue if use_sticky else ""
    if not sticky:
        s.sticky_queue = ""
    event = change.add_event(EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED)
    attrs = event.workflow_task_scheduled_event_attributes
    attrs.task_queue.CopyFrom(ev.task_queue(sticky or s.task_queue, s.task_queue if sticky else ""))
    attrs.start_to_close_timeout.CopyFrom(ev.duration(s.workflow_task_timeout))
    attrs.attempt = attempt
    # Like Temporal, a task for a sticky worker that stopped polling goes to the normal
    # queue at once, though the event still names the sticky queue.
    queue = sticky if sticky and change.sticky_alive(s.namespace_id, sticky) else s.task_queue
    task_id = change.add_task(TaskKind.WORKFLOW, queue, event.event_id, attempt)
    wft = WorkflowTask(
        scheduled_event_id=event.event_id,
        attempt=attempt,
        task_queue=queue,
        scheduled_time=change.now,
        task_id=task_id,
    )
    if queue == sticky and s.sticky_schedule_to_start > 0:
        wft.timer_id = change.add_timer(
            WFT_STICKY_SCHEDULE_TO_START, change.now + s.sticky_schedule_to_start,
            event.event_id, attempt,
        )
    s.workflow_task = wft
    return wft


def ensure_scheduled(change: Change) -> None:
    """Schedule a workflow task unless one is already pending or running."""
    if change.state.workflow_task is None and change.state.running:
        schedule(change)


def record_started(change: Change, identity: str, request_id: str, build_id: str) -> None:
    s = change.state
    wft = s.workflow_task
    assert wft is not None
    change.remove_task(wft.task_id)
    change.remove_timer(wft.timer_id)
    event = change.add_event(EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED)
    attrs = event.workflow_task_started_event_attributes
    attrs.scheduled_event_id = wft.scheduled_event_id
    attrs.identity = identity
    attrs.request_id = request_id
    attrs.history_size_bytes = s.history_size - event.ByteSize()
    if build_id:
        attrs.worker_version.build_id = build_id
    wft.task_id = ""
    wft.started_event_id = event.event_id
    wft.started_time = change.now
    wft.identity = identity
    wft.request_id = request_id
    wft.timer_id = change.add_timer(
        WFT_START_TO_CLOSE, change.now + s.workflow_task_timeout, wft.scheduled_event_id, wft.attempt
    )


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
    wft = close(change)
    event = change.add_event(EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED)
    attrs = event.workflow_task_failed_event_attributes
    attrs.scheduled_event_id = wft.scheduled_event_id
    attrs.started_event_id = wft.started_event_id
    attrs.cause = cause  # type: ignore[assignment]
    if failure is not None:
        attrs.failure.CopyFrom(failure)
    attrs.identity = identity
    change.state.sticky_queue = ""
    change.flush_buffered()
    schedule(change, attempt=wft.attempt + 1, use_sticky=False)


def time_out(change: Change, timeout_type: int) -> None:
    """The worker took too long (or never picked the task up): try again elsewhere."""
    wft = close(change)
    event = change.add_event(EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT)
    attrs = event.workflow_task_timed_out_event_attributes
    attrs.scheduled_event_id = wft.scheduled_event_id
    attrs.started_event_id = wft.started_event_id
    attrs.timeout_type = timeout_type  # type: ignore[assignment]
    change.state.sticky_queue = ""
    change.flush_buffered()
    started = timeout_type == TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE
    schedule(change, attempt=wft.attempt + 1 if started else wft.attempt, use_sticky=False)


UNHANDLED_COMMAND = WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND
