"""What happened in a run: one ``Item`` per activity, timer, child workflow, signal, update,
marker, the start and the close; the workflow tasks that completed; and the ``Ledger`` the event
handlers (command_events, run_events) fill as a history is read. Pure values, no I/O."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from temporalio.api.history.v1 import HistoryEvent


class Kind(enum.Enum):
    START = "start"
    ACTIVITY = "activity"
    TIMER = "timer"
    CHILD = "child workflow"
    SIGNAL = "signal"
    UPDATE = "update"
    MARKER = "marker"
    LOCAL_ACTIVITY = "local activity"
    TASK_FAILURE = "workflow task failed"
    CANCEL_REQUEST = "cancel request"
    CLOSE = "close"


ARRIVALS = frozenset({Kind.SIGNAL, Kind.UPDATE, Kind.CANCEL_REQUEST, Kind.TASK_FAILURE})
"""Kinds no workflow task schedules: what comes from outside, and a workflow task that failed."""


class Status(enum.Enum):
    SCHEDULED = "scheduled"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    TIMED_OUT = "timed out"
    CANCELED = "canceled"
    TERMINATED = "terminated"
    CONTINUED_AS_NEW = "continued as new"
    FIRED = "fired"
    RECEIVED = "received"
    ADMITTED = "admitted"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    RECORDED = "recorded"

    @property
    def css(self) -> str:
        """The status as a CSS class name."""
        return self.name.lower().replace("_", "-")


@dataclass(frozen=True)
class RunRef:
    """A run another page draws: a child workflow's, or the next one of a chain."""

    namespace: str
    workflow_id: str
    run_id: str


@dataclass
class Item:
    """One thing the workflow did or received, from its first event to its last."""

    id: str
    kind: Kind
    label: str
    status: Status
    first_event_id: int
    first_at: float
    scheduled_by: int | None = None
    """The completed workflow task whose commands made it (None for what came from outside)."""
    triggers: list[int] = field(default_factory=list)
    """Positions (event IDs) of its events the workflow reacts to: a close, a child's start, a signal."""
    started_at: float | None = None
    closed_at: float | None = None
    close_event_id: int | None = None
    attempts: int = 0
    failure: str | None = None
    link: RunRef | None = None
    facts: list[tuple[str, str]] = field(default_factory=list)

    @property
    def retried(self) -> bool:
        return self.attempts > 1


@dataclass(frozen=True)
class WorkflowTask:
    """A workflow task that completed: the events up to ``started_id`` were delivered to it."""

    started_id: int
    completed_id: int


@dataclass(frozen=True)
class Run:
    """A run's items in the order they began, and its completed workflow tasks in order."""

    items: tuple[Item, ...]
    workflow_tasks: tuple[WorkflowTask, ...]
    began_at: float
    last_at: float


Handler = Callable[["Ledger", HistoryEvent], None]
"""What reading one kind of event does to the ledger."""


def seconds(event: HistoryEvent) -> float:
    """The event's time as seconds since the epoch."""
    return event.event_time.seconds + event.event_time.nanos / 1e9


class Ledger:
    """What has been read of a run so far, as the event handlers update it."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self.items: dict[str, Item] = {}
        self.by_event: dict[int, Item] = {}
        self.workflow_tasks: list[WorkflowTask] = []
        self.last_started_wft = 0
        self.began_at: float | None = None
        self.last_at = 0.0

    def run(self) -> Run:
        began = self.last_at if self.began_at is None else self.began_at
        return Run(tuple(self.items.values()), tuple(self.workflow_tasks), began, self.last_at)

    def add(self, item: Item) -> Item:
        self.items[item.id] = item
        self.by_event[item.first_event_id] = item
        return item


def new_item(kind: Kind, prefix: str, event: HistoryEvent, label: str, status: Status) -> Item:
    """An item begun by ``event``, its ID the kind's prefix and the event's ID."""
    return Item(f"{prefix}-{event.event_id}", kind, label, status, event.event_id, seconds(event))


def close_item(item: Item | None, event: HistoryEvent, status: Status, failure: str | None = None) -> None:
    """``item`` closed by ``event``: its status, time and failure; the workflow hears of it."""
    if item is None:
        return
    item.status = status
    item.closed_at = seconds(event)
    item.close_event_id = event.event_id
    item.triggers.append(event.event_id)
    if failure:
        item.failure = failure


def failure_of(attrs: Any) -> str | None:
    """The message of the event's failure, if its kind of event carries one and it does."""
    if "failure" in attrs.DESCRIPTOR.fields_by_name and attrs.HasField("failure"):
        return str(attrs.failure.message)
    return None
