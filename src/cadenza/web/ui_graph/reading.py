"""A run's history read into items and workflow tasks, event by event."""

from __future__ import annotations

from collections.abc import Iterable

from temporalio.api.history.v1 import HistoryEvent

from cadenza.web.ui_graph.command_events import COMMAND_EVENTS
from cadenza.web.ui_graph.items import Handler, Ledger, Run, seconds
from cadenza.web.ui_graph.run_events import RUN_EVENTS

HANDLERS: dict[int, Handler] = {**COMMAND_EVENTS, **RUN_EVENTS}


def read_run(events: Iterable[HistoryEvent], namespace: str) -> Run:
    """The items and workflow tasks of a run's history (events in order, as the server sends them)."""
    ledger = Ledger(namespace)
    for event in events:
        ledger.last_at = max(ledger.last_at, seconds(event))
        handler = HANDLERS.get(event.event_type)
        if handler is not None:
            handler(ledger, event)
    return ledger.run()
