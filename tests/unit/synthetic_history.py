"""Histories written by hand, for drawing what a real run rarely does on demand: a terminated
run, names that need escaping, a fan-out of hundreds."""

from __future__ import annotations

from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent

E = EventType


class HistoryWriter:
    """Appends events with increasing IDs and times (10 ms apart)."""

    def __init__(self) -> None:
        self.events: list[HistoryEvent] = []

    def add(self, event_type: int, field: str, **attributes: Any) -> int:
        event_id = len(self.events) + 1
        event = HistoryEvent(event_id=event_id, event_type=event_type)  # type: ignore[arg-type]
        event.event_time.FromMilliseconds(1_700_000_000_000 + 10 * event_id)
        getattr(event, field).SetInParent()
        for name, value in attributes.items():
            target = getattr(event, field)
            if isinstance(value, dict):
                getattr(target, name).MergeFrom(type(getattr(target, name))(**value))
            else:
                setattr(target, name, value)
        self.events.append(event)
        return event_id

    def start(self, workflow_type: str = "Flow") -> int:
        return self.add(
            E.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
            "workflow_execution_started_event_attributes",
            workflow_type={"name": workflow_type},
        )

    def workflow_task(self) -> int:
        """A workflow task scheduled, started and completed; the completed event's ID."""
        scheduled = self.add(E.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, "workflow_task_scheduled_event_attributes")
        started = self.add(
            E.EVENT_TYPE_WORKFLOW_TASK_STARTED,
            "workflow_task_started_event_attributes",
            scheduled_event_id=scheduled,
        )
        return self.add(
            E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
            "workflow_task_completed_event_attributes",
            scheduled_event_id=scheduled,
            started_event_id=started,
        )

    def activity(self, task: int, activity_type: str, activity_id: str) -> int:
        return self.add(
            E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
            "activity_task_scheduled_event_attributes",
            activity_id=activity_id,
            activity_type={"name": activity_type},
            workflow_task_completed_event_id=task,
        )

    def activity_done(self, scheduled: int) -> int:
        started = self.add(
            E.EVENT_TYPE_ACTIVITY_TASK_STARTED,
            "activity_task_started_event_attributes",
            scheduled_event_id=scheduled,
            attempt=1,
        )
        return self.add(
            E.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
            "activity_task_completed_event_attributes",
            scheduled_event_id=scheduled,
            started_event_id=started,
        )

    def child(self, task: int, workflow_id: str, run_id: str) -> int:
        initiated = self.add(
            E.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED,
            "start_child_workflow_execution_initiated_event_attributes",
            namespace="team a",
            workflow_id=workflow_id,
            workflow_type={"name": "Kid"},
            workflow_task_completed_event_id=task,
        )
        self.add(
            E.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED,
            "child_workflow_execution_started_event_attributes",
            initiated_event_id=initiated,
            workflow_execution={"workflow_id": workflow_id, "run_id": run_id},
        )
        return initiated

    def signal(self, name: str) -> int:
        return self.add(
            E.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
            "workflow_execution_signaled_event_attributes",
            signal_name=name,
        )

    def terminate(self, reason: str) -> int:
        return self.add(
            E.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
            "workflow_execution_terminated_event_attributes",
            reason=reason,
        )

    def complete(self, task: int) -> int:
        return self.add(
            E.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
            "workflow_execution_completed_event_attributes",
            workflow_task_completed_event_id=task,
        )


def fan_out(width: int) -> list[HistoryEvent]:
    """A run that schedules ``width`` activities at once, then ``width`` more once all are done."""
    history = HistoryWriter()
    history.start()
    first = history.workflow_task()
    scheduled = [history.activity(first, "step", str(n)) for n in range(width)]
    for event_id in scheduled:
        history.activity_done(event_id)
    second = history.workflow_task()
    again = [history.activity(second, "again", str(width + n)) for n in range(width)]
    for event_id in again:
        history.activity_done(event_id)
    history.complete(history.workflow_task())
    return history.events
