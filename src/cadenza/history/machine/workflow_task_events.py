"""What a workflow task's Scheduled and Started events say, built from the run's state.

Three places need these events: the task's own life (``workflow_tasks``), the
view a worker is given of a transient task, and ``Change``, which writes a
transient task's events before any other event takes the IDs the task
reserved. They live here, below both ``Change`` and ``workflow_tasks``, so
neither has to import the other to build them.
"""

from __future__ import annotations

from temporalio.api.enums.v1 import SuggestContinueAsNewReason
from temporalio.api.history.v1 import HistoryEvent

from cadenza.history.machine import events as ev
from cadenza.history.machine.state import MutableState, WorkflowTask

RETRY_INITIAL_EXTRA = 5.0
RETRY_MAX_EXTRA = 600.0
"""Attempts after the third get this much more time, doubling, up to the maximum."""


def start_to_close(state: MutableState, attempt: int) -> float:
    """A struggling workflow gets more time per attempt, as in Temporal."""
    if attempt <= 3:
        return state.workflow_task_timeout
    extra = min(RETRY_INITIAL_EXTRA * 2.0 ** (attempt - 4), RETRY_MAX_EXTRA)
    return state.workflow_task_timeout + extra


def fill_scheduled(event: HistoryEvent, state: MutableState, attempt: int, sticky: str) -> None:
    """A sticky task's event names the sticky queue, and the normal one behind it."""
    attrs = event.workflow_task_scheduled_event_attributes
    attrs.task_queue.CopyFrom(ev.task_queue(sticky or state.task_queue, state.task_queue if sticky else ""))
    attrs.start_to_close_timeout.CopyFrom(ev.duration(start_to_close(state, attempt)))
    attrs.attempt = attempt


def fill_started(event: HistoryEvent, wft: WorkflowTask) -> None:
    attrs = event.workflow_task_started_event_attributes
    attrs.scheduled_event_id = wft.scheduled_event_id
    attrs.identity = wft.identity
    attrs.request_id = wft.request_id
    attrs.history_size_bytes = wft.history_size
    if wft.build_id:
        attrs.worker_version.build_id = wft.build_id


def suggest_continue_as_new(event: HistoryEvent, limit: int) -> None:
    """From ``limit`` events on (0: never), a written Started event suggests continue-as-new."""
    if limit and event.event_id >= limit:
        attrs = event.workflow_task_started_event_attributes
        attrs.suggest_continue_as_new = True
        attrs.suggest_continue_as_new_reasons.append(
            SuggestContinueAsNewReason.SUGGEST_CONTINUE_AS_NEW_REASON_TOO_MANY_HISTORY_EVENTS
        )
