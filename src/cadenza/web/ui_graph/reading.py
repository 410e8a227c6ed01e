"""A run's history read into items and workflow tasks, event by event; and what only the run's
description knows of its pending activities (the attempt under way, the last failure), since the
history records an activity's start only once it closes."""

from __future__ import annotations

from collections.abc import Iterable

from temporalio.api.enums.v1 import PendingActivityState
from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.workflow.v1 import PendingActivityInfo

from cadenza.web.ui_graph.command_events import COMMAND_EVENTS
from cadenza.web.ui_graph.items import Handler, Item, Kind, Ledger, Run, Status, seconds
from cadenza.web.ui_graph.run_events import RUN_EVENTS

HANDLERS: dict[int, Handler] = {**COMMAND_EVENTS, **RUN_EVENTS}


def read_run(
    events: Iterable[HistoryEvent], namespace: str, pending: Iterable[PendingActivityInfo] = ()
) -> Run:
    """The items and workflow tasks of a run's history (events in order, as the server sends them),
    its open activities completed by ``pending`` (DescribeWorkflowExecution's pending activities)."""
    ledger = Ledger(namespace)
    for event in events:
        ledger.last_at = max(ledger.last_at, seconds(event))
        handler = HANDLERS.get(event.event_type)
        if handler is not None:
            handler(ledger, event)
    _add_pending(ledger.items.values(), pending)
    return ledger.run()


def _add_pending(items: Iterable[Item], pending: Iterable[PendingActivityInfo]) -> None:
    open_activities = {
        dict(item.facts).get("activity ID"): item
        for item in items
        if item.kind is Kind.ACTIVITY and item.close_event_id is None
    }
    for info in pending:
        item = open_activities.get(info.activity_id)
        if item is None:
            continue
        item.attempts = max(item.attempts, info.attempt)
        if info.state == PendingActivityState.PENDING_ACTIVITY_STATE_STARTED:
            item.status = Status.RUNNING
        if info.HasField("last_failure"):
            item.failure = info.last_failure.message
        if info.HasField("next_attempt_schedule_time"):
            item.facts.append(("next attempt", info.next_attempt_schedule_time.ToJsonString()))
        if info.HasField("last_heartbeat_time"):
            item.facts.append(("last heartbeat", info.last_heartbeat_time.ToJsonString()))
