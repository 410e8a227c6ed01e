"""A change to one execution, assembled in memory and then committed in one write."""

from __future__ import annotations

import itertools
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from temporalio.api.common.v1 import Principal
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import History, HistoryEvent

from cadenza.history.machine import events as ev
from cadenza.history.machine import versioning, visibility_fields
from cadenza.history.machine import workflow_task_events as wft_events
from cadenza.history.machine.encoded import decode_blob, encode_blob
from cadenza.history.machine.state import MutableState
from cadenza.history.machine.versioning import UNROUTED, VersionRouting
from cadenza.persistence.records import (
    NO_PRIORITY,
    CurrentExecution,
    EventBatch,
    ExecutionKey,
    ExecutionWrite,
    TaskKind,
    TaskPriority,
    TaskRecord,
    TimerRecord,
)
from cadenza.timers.kinds import TimerKind
from cadenza.worker_commands import WorkerCommands

# Event task IDs only need to increase within a history; SDKs never interpret them.
_task_ids = itertools.count(1)

_ACTIVITY_CLOSE_TYPES = frozenset(
    {
        EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
        EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED,
        EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT,
        EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED,
    }
)


_CHILD_CLOSE_TYPES = frozenset(
    {
        EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED,
        EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED,
        EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_CANCELED,
        EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TIMED_OUT,
        EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TERMINATED,
    }
)


def new_id() -> str:
    return uuid.uuid4().hex


def new_run_id() -> str:
    """A UUIDv7 run ID, as Temporal gives: time-ordered, so newer runs sort later."""
    millis = time.time_ns() // 1_000_000
    value = (millis & ((1 << 48) - 1)) << 80 | int.from_bytes(os.urandom(10)) & ((1 << 80) - 1)
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
    return str(uuid.UUID(int=value))


@dataclass
class Change:
    """Events, tasks and timers produced by one operation on one execution.

    The operation mutates ``state`` directly; if the commit fails the engine
    drops its cached copy and reloads the last committed state.
    """

    state: MutableState
    now: float
    version: int
    sticky_alive: Callable[[str, str], bool] = field(default=lambda _ns, _name: False)
    """Whether a sticky queue's worker still polls; if not, tasks go to the normal queue."""
    suggest_continue_as_new_at: int = 0
    """History length from which workflow tasks suggest continue-as-new (0: never)."""
    routing: VersionRouting = UNROUTED
    """Where task queues send new work among their deployment's versions."""
    events: list[HistoryEvent] = field(default_factory=list)
    tasks_added: list[TaskRecord] = field(default_factory=list)
    tasks_removed: list[str] = field(default_factory=list)
    timers_added: list[TimerRecord] = field(default_factory=list)
    timers_removed: list[str] = field(default_factory=list)
    new_current: CurrentExecution | None = None
    replaced_run_id: str | None = None
    status_changed: bool = False
    state_changed: bool = False
    """Set when only the mutable state changed, so the write is not skipped."""
    start_event: HistoryEvent | None = None
    """The run's WorkflowExecutionStarted event, when a new run may be started from it."""
    successor: Change | None = None
    """A new run of the same workflow ID (retry, cron) committed together with this change."""
    needs_workflow_task: bool = False
    """Set when the change added events the workflow must be shown in a new task."""
    counts_as_transition: bool = True
    """False for a change Temporal keeps in memory only (an update's admission, a speculative
    workflow task's start, an activity retry handed to matching): it is committed here, but
    not counted in the run's state transitions, so the count matches Temporal's."""
    worker_cancels: dict[str, list[bytes]] = field(default_factory=dict)
    """Activity task tokens to cancel on worker processes, by control queue; sent after commit."""
    _buffered_now: list[HistoryEvent] = field(default_factory=list, init=False, repr=False)

    @property
    def key(self) -> ExecutionKey:
        s = self.state
        return ExecutionKey(s.namespace_id, s.workflow_id, s.run_id)

    # -- events -----------------------------------------------------------------

    def add_event(self, event_type: int) -> HistoryEvent:
        """Append a new event to history, numbered next."""
        self.materialize_transient()
        return self._append(event_type)

    def materialize_transient(self) -> None:
        """Write a transient workflow task's Scheduled (and Started) events (see workflow_tasks).

        Any new event ends a transient task's invisibility. The task reserved the IDs
        of its events when it was scheduled and started, so they are written first.
        """
        wft = self.state.workflow_task
        if wft is None or not wft.transient:
            return
        wft.transient = wft.speculative = False
        scheduled = self._append(EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED)
        wft_events.fill_scheduled(scheduled, self.state, wft.attempt, wft.sticky_queue)
        if wft.started_event_id:
            started = self._append(EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED)
            wft_events.fill_started(started, wft)
            wft_events.suggest_continue_as_new(started, self.suggest_continue_as_new_at)

    def _append(self, event_type: int) -> HistoryEvent:
        event = ev.new_event(event_type, self.now)
        self._number(event)
        return event

    def add_or_buffer(self, event_type: int) -> HistoryEvent:
        """A new event that waits, unnumbered, while a workflow task is running.

        Temporal appends events that arrive during a workflow task after that
        task's own events, so the worker sees them in the next task.
        """
        event = ev.new_event(event_type, self.now)
        if self.workflow_task_running:
            self._buffered_now.append(event)
        else:
            self.materialize_transient()
            self._number(event)
        return event

    def history_size(self) -> int:
        """Bytes of history so far, counting events this change has added."""
        return self.state.history_size + sum(e.ByteSize() for e in self.events)

    @property
    def workflow_task_running(self) -> bool:
        wft = self.state.workflow_task
        return wft is not None and wft.started_event_id > 0

    def flush_buffered(self) -> bool:
        """Number and append every buffered event; True if there were any."""
        buffered = [HistoryEvent.FromString(decode_blob(b)) for b in self.state.buffered_events]
        buffered.extend(self._buffered_now)
        self.state.buffered_events = []
        self._buffered_now.clear()
        started_ids: dict[int, int] = {}
        child_started_ids: dict[int, int] = {}
        for event in buffered:
            self._number(event)
            if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
                attrs = event.activity_task_started_event_attributes
                started_ids[attrs.scheduled_event_id] = event.event_id
            elif event.event_type in _ACTIVITY_CLOSE_TYPES:
                attrs = ev.attributes(event)
                attrs.started_event_id = started_ids.get(attrs.scheduled_event_id, attrs.started_event_id)
            elif event.event_type == EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED:
                initiated = event.child_workflow_execution_started_event_attributes.initiated_event_id
                child_started_ids[initiated] = event.event_id
                child = self.state.children.get(initiated)
                if child is not None:
                    child.started_event_id = event.event_id
            elif event.event_type in _CHILD_CLOSE_TYPES:
                attrs = ev.attributes(event)
                attrs.started_event_id = child_started_ids.get(
                    attrs.initiated_event_id, attrs.started_event_id
                )
        return bool(buffered)

    @property
    def has_buffered(self) -> bool:
        return bool(self.state.buffered_events or self._buffered_now)

    @property
    def is_empty(self) -> bool:
        """Whether the change records nothing so far: no event, task, timer, state or new run.

        An empty change is not written: a versioned write would only make others reload.
        """
        return not (
            self.events
            or self.tasks_added
            or self.tasks_removed
            or self.timers_added
            or self.timers_removed
            or self.has_buffered
            or self.state_changed
            or self.successor is not None
        )

    def _number(self, event: HistoryEvent) -> None:
        event.event_id = self.state.next_event_id
        event.task_id = next(_task_ids)
        self.state.next_event_id += 1
        self.events.append(event)

    # -- tasks and timers -----------------------------------------------------------

    def add_task(
        self,
        kind: TaskKind,
        task_queue: str,
        scheduled_event_id: int,
        attempt: int,
        priority: TaskPriority = NO_PRIORITY,
    ) -> str:
        s = self.state
        if task_queue != s.sticky_queue:
            task_queue = versioning.routed_queue(s, self.routing, task_queue)
        task = TaskRecord(
            new_id(),
            s.namespace_id,
            task_queue,
            kind,
            s.workflow_id,
            s.run_id,
            scheduled_event_id,
            attempt,
            priority=priority,
        )
        self.tasks_added.append(task)
        return task.task_id

    def add_timer(self, kind: TimerKind, fire_at: float, event_id: int, attempt: int) -> str:
        s = self.state
        timer = TimerRecord(
            new_id(), fire_at, s.namespace_id, s.workflow_id, s.run_id, kind, event_id, attempt
        )
        self.timers_added.append(timer)
        return timer.timer_id

    def remove_task(self, task_id: str) -> None:
        if not task_id:
            return
        added = [t for t in self.tasks_added if t.task_id == task_id]
        if added:  # created and consumed in this same change: it never needs to exist
            self.tasks_added.remove(added[0])
        else:
            self.tasks_removed.append(task_id)

    def remove_timer(self, timer_id: str) -> None:
        if timer_id:
            self.timers_removed.append(timer_id)

    def cancel_on_worker(self, control_queue: str, task_token: bytes) -> None:
        """Tell the worker process behind ``control_queue`` to stop an activity attempt."""
        self.worker_cancels.setdefault(control_queue, []).append(task_token)

    def worker_commands(self) -> list[WorkerCommands]:
        namespace_id = self.state.namespace_id
        return [
            WorkerCommands(namespace_id, queue, tuple(tokens))
            for queue, tokens in self.worker_cancels.items()
        ]

    # -- the write ---------------------------------------------------------------------

    def stamp_principal(self, principal: Principal) -> None:
        """Mark the events this change adds or buffers as caused by ``principal``; events
        flushed from the buffer keep the principal of the call that buffered them."""
        for event in itertools.chain(self.events, self._buffered_now):
            if not event.HasField("principal"):
                event.principal.CopyFrom(principal)

    def to_write(self) -> ExecutionWrite:
        """Serialize the change; buffered events are kept inside the state."""
        self.state.buffered_events.extend(encode_blob(e.SerializeToString()) for e in self._buffered_now)
        self._buffered_now.clear()
        s = self.state
        s.history_size += sum(e.ByteSize() for e in self.events)
        if self.counts_as_transition:
            s.state_transitions += 1
        batch = None
        if self.events:
            data = History(events=self.events).SerializeToString()
            batch = EventBatch(self.events[0].event_id, self.events[-1].event_id, data)
        state, activities_written, activities_removed = s.to_stored()
        return ExecutionWrite(
            key=self.key,
            expected_version=self.version,
            state=state,
            status=visibility_fields.shown_status(s),
            workflow_type=s.workflow_type,
            task_queue=s.task_queue,
            start_time=s.start_time,
            close_time=s.close_time or None,
            events=batch,
            tasks_added=self.tasks_added,
            tasks_removed=self.tasks_removed,
            timers_added=self.timers_added,
            timers_removed=self.timers_removed,
            new_current=self.new_current,
            replaced_run_id=self.replaced_run_id,
            current_status=s.status if self.status_changed else None,
            visibility=visibility_fields.snapshot(s),
            activities_written=activities_written,
            activities_removed=activities_removed,
        )
