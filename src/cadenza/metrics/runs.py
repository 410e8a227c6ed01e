"""Workflow and activity outcomes, read from each change the engine has committed.

The engine hands every committed ``Change`` here after it is durable, so a
count can never include a change that was rolled back. A run that closes
counts once under its status (``workflow_success`` for completed...), with its
history's size, length and state transitions, as Temporal records them at
completion; an activity counts when its closing event is written, which (as in
Temporal) happens only once no retry is left. A run a schedule started (it
carries ``TemporalScheduledById``) counts one ``schedule_action_success``.

An activity's closing event does not name its type or queue, so both are noted
when it is scheduled and kept until it closes; one scheduled before this
process started (or on another replica) is labelled ``_unknown_``.
"""

from __future__ import annotations

from temporalio.api.enums.v1 import EventType, TimeoutType
from temporalio.api.enums.v1 import WorkflowExecutionStatus as Status
from temporalio.api.history.v1 import HistoryEvent

from cadenza.history.machine.change import Change
from cadenza.history.machine.state import MutableState
from cadenza.metrics.families import Families
from cadenza.metrics.guard import LabelGuard

HISTORY = "history"
"""The ``service_name`` of run and activity metrics: the role Temporal's history plays."""
ACTIVE = "active"
"""``namespace_state``: a one-cluster server's namespaces are all active."""
UNKNOWN = "_unknown_"
UNVERSIONED = "Unspecified"
"""``versioning_behavior`` of a worker without worker versioning."""
COMPLETION_STATS = "CompletionStats"
TRANSITIONS_OPERATION = "WorkflowContext"
MAX_TRACKED_RUNS = 200_000
"""Runs whose pending activities' types are kept; past this they are forgotten (and then
labelled ``_unknown_``) rather than let memory grow without end."""

_OUTCOMES: dict[int, str] = {
    Status.WORKFLOW_EXECUTION_STATUS_COMPLETED: "completed",
    Status.WORKFLOW_EXECUTION_STATUS_FAILED: "failed",
    Status.WORKFLOW_EXECUTION_STATUS_TIMED_OUT: "timed_out",
    Status.WORKFLOW_EXECUTION_STATUS_TERMINATED: "terminated",
    Status.WORKFLOW_EXECUTION_STATUS_CANCELED: "canceled",
    Status.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW: "continued_as_new",
}
_SCHEDULED = EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
_COMPLETED = EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED
_FAILED = EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED
_TIMED_OUT = EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT
_CLOSES: dict[int, str] = {
    _COMPLETED: "RespondActivityTaskCompleted",
    _FAILED: "RespondActivityTaskFailed",
    _TIMED_OUT: "TimerActiveTaskActivityTimeout",
}
"""Each closing event and the ``operation`` Temporal counts it under."""
_SCHEDULED_BY = "TemporalScheduledById"


def timeout_type_name(value: int) -> str:
    """``TIMEOUT_TYPE_START_TO_CLOSE`` as Temporal's Go enums print it: ``StartToClose``."""
    try:
        name = TimeoutType.Name(value)  # type: ignore[arg-type]
    except ValueError:
        return str(value)
    return "".join(part.capitalize() for part in name.removeprefix("TIMEOUT_TYPE_").split("_"))


class RunMetrics:
    """Counts what committed changes did to runs and activities."""

    def __init__(
        self, families: Families, namespaces: LabelGuard, task_queues: LabelGuard, workflow_types: LabelGuard
    ) -> None:
        self._f = families
        self._namespaces = namespaces
        self._task_queues = task_queues
        self._types = workflow_types
        """Workflow and activity types share one limit, as they share one label namespace of names."""
        self._pending: dict[str, dict[int, tuple[str, str]]] = {}
        """Each run's scheduled activities: (type label, task queue label) by scheduled event ID."""

    def committed(self, change: Change) -> None:
        """Record what ``change`` (just committed) started, closed or finished."""
        state = change.state
        if (
            change.version == 0
            and state.first_execution_run_id == state.run_id
            and _SCHEDULED_BY in (state.search_attributes)
        ):  # a schedule's start, not a later run of the chain (retry, cron, continue-as-new)
            self._f.schedule_action_success.labels("worker", self._namespaces(state.namespace)).inc()
        for event in change.events:
            event_type = event.event_type
            if event_type == _SCHEDULED:
                self._scheduled(state, event)
            elif event_type in _CLOSES:
                self._activity_closed(state, event_type, event)
        if change.status_changed:
            outcome = _OUTCOMES.get(state.status)
            if outcome is not None:
                self._run_closed(state, outcome)

    def _scheduled(self, state: MutableState, event: HistoryEvent) -> None:
        attrs = event.activity_task_scheduled_event_attributes
        pending = self._pending.get(state.run_id)
        if pending is None:
            if len(self._pending) >= MAX_TRACKED_RUNS:
                self._pending.clear()
            pending = self._pending[state.run_id] = {}
        pending[event.event_id] = (
            self._types(attrs.activity_type.name),
            self._task_queues(attrs.task_queue.name),
        )

    def _activity_closed(self, state: MutableState, event_type: int, event: HistoryEvent) -> None:
        if event_type == _COMPLETED:
            scheduled_id = event.activity_task_completed_event_attributes.scheduled_event_id
        elif event_type == _FAILED:
            scheduled_id = event.activity_task_failed_event_attributes.scheduled_event_id
        else:
            scheduled_id = event.activity_task_timed_out_event_attributes.scheduled_event_id
        activity_type, task_queue = self._pending.get(state.run_id, {}).pop(scheduled_id, (UNKNOWN, UNKNOWN))
        labels = (
            HISTORY,
            _CLOSES[event_type],
            self._namespaces(state.namespace),
            task_queue,
            self._types(state.workflow_type),
            activity_type,
            UNVERSIONED,
        )
        if event_type == _COMPLETED:
            self._f.activity_success.labels(*labels).inc()
        elif event_type == _FAILED:
            self._f.activity_fail.labels(*labels).inc()
        else:
            failure = event.activity_task_timed_out_event_attributes.failure
            kind = timeout_type_name(failure.timeout_failure_info.timeout_type)
            self._f.activity_timeout.labels(*labels, kind).inc()

    def _run_closed(self, state: MutableState, outcome: str) -> None:
        self._pending.pop(state.run_id, None)
        namespace = self._namespaces(state.namespace)
        self._f.workflow_outcomes[outcome].labels(
            HISTORY,
            COMPLETION_STATS,
            namespace,
            ACTIVE,
            self._task_queues(state.task_queue),
            self._types(state.workflow_type),
        ).inc()
        self._f.history_size.labels(HISTORY, COMPLETION_STATS, namespace).observe(state.history_size)
        self._f.history_count.labels(HISTORY, COMPLETION_STATS, namespace).observe(state.next_event_id - 1)
        self._f.state_transition_count.labels(HISTORY, TRANSITIONS_OPERATION, namespace, ACTIVE).observe(
            state.state_transitions
        )
