"""The fault test's invariant checker passes a good history and catches each kind of defect."""

from __future__ import annotations

from temporalio.api.history.v1 import HistoryEvent

from tests.faults.invariants import (
    E,
    check_acknowledged,
    check_chain,
    check_deliveries,
    check_history,
)
from tests.unit.synthetic_history import HistoryWriter


def _good() -> HistoryWriter:
    """A run that started an activity and a timer, both resolved, then completed."""
    h = HistoryWriter()
    h.start()
    task = h.workflow_task()
    h.activity_done(h.activity(task, "Greet", "1"))
    timer = h.add(E.EVENT_TYPE_TIMER_STARTED, "timer_started_event_attributes", timer_id="t")
    h.add(E.EVENT_TYPE_TIMER_FIRED, "timer_fired_event_attributes", timer_id="t", started_event_id=timer)
    h.complete(h.workflow_task())
    return h


def _copy(events: list[HistoryEvent]) -> list[HistoryEvent]:
    copies = []
    for event in events:
        copy = HistoryEvent()
        copy.CopyFrom(event)
        copies.append(copy)
    return copies


def _find(events: list[HistoryEvent], event_type: int) -> HistoryEvent:
    return next(event for event in events if event.event_type == event_type)


def test_a_good_history_passes() -> None:
    assert check_history("good", _good().events) == []


def test_a_gap_in_event_ids_is_caught() -> None:
    events = _copy(_good().events)
    del events[3]
    assert any("not contiguous" in p for p in check_history("gap", events))


def test_a_timer_fired_twice_is_caught() -> None:
    h = _good()
    fired = _find(h.events, E.EVENT_TYPE_TIMER_FIRED)
    h.add(
        E.EVENT_TYPE_TIMER_FIRED,
        "timer_fired_event_attributes",
        timer_id="t",
        started_event_id=fired.timer_fired_event_attributes.started_event_id,
    )
    problems = check_history("twice", h.events)
    assert any("timer" in p and "resolved 2 times" in p for p in problems)
    assert any("follow the closing event" in p for p in problems)


def test_an_activity_never_resolved_in_a_completed_run_is_caught() -> None:
    h = HistoryWriter()
    h.start()
    task = h.workflow_task()
    h.activity(task, "Greet", "1")
    h.complete(h.workflow_task())
    assert any("activity" in p and "never resolved" in p for p in check_history("open", h.events))


def test_an_activity_completed_twice_is_caught() -> None:
    h = HistoryWriter()
    h.start()
    task = h.workflow_task()
    scheduled = h.activity(task, "Greet", "1")
    h.activity_done(scheduled)
    h.activity_done(scheduled)
    assert any("resolved 2 times" in p for p in check_history("double", h.events))


def test_a_resolution_of_nothing_is_caught() -> None:
    h = HistoryWriter()
    h.start()
    h.add(E.EVENT_TYPE_TIMER_FIRED, "timer_fired_event_attributes", timer_id="x", started_event_id=99)
    assert any("no earlier timer" in p for p in check_history("orphan", h.events))


def test_two_closing_events_are_caught() -> None:
    h = _good()
    h.terminate("again")
    assert any("2 closing events" in p for p in check_history("closed twice", h.events))


def test_a_history_not_opened_by_its_start_is_caught() -> None:
    events = _copy(_good().events)[1:]
    for position, event in enumerate(events, start=1):
        event.event_id = position
    assert any("not the run's start" in p for p in check_history("headless", events))


def _continued(new_run_id: str) -> list[HistoryEvent]:
    h = HistoryWriter()
    h.start()
    task = h.workflow_task()
    h.add(
        E.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
        "workflow_execution_continued_as_new_event_attributes",
        new_execution_run_id=new_run_id,
        workflow_task_completed_event_id=task,
    )
    return h.events


def test_a_chain_through_continue_as_new_passes() -> None:
    runs = {"r1": _continued("r2"), "r2": _good().events}
    assert check_chain("wf", runs, "r1") == []


def test_a_chain_missing_its_next_run_is_caught() -> None:
    assert any("missing" in p for p in check_chain("wf", {"r1": _continued("r2")}, "r1"))


def test_a_chain_that_never_closes_is_caught() -> None:
    h = HistoryWriter()
    h.start()
    h.workflow_task()
    assert any("never closed" in p for p in check_chain("wf", {"r1": h.events}, "r1"))


def test_an_acknowledged_start_completed_zero_or_two_times_is_caught() -> None:
    assert check_acknowledged(["a", "b"], {"a": 1, "b": 1}) == []
    problems = check_acknowledged(["a", "b", "c"], {"a": 1, "b": 2})
    assert problems == [
        "b: acknowledged start completed 2 times",
        "c: acknowledged start completed 0 times",
    ]


def test_an_activity_attempt_handed_out_twice_is_caught() -> None:
    assert check_deliveries([("wf", "r", "1", "1"), ("wf", "r", "1", "2")]) == []
    assert check_deliveries([("wf", "r", "1", "1"), ("wf", "r", "1", "1")]) == [
        "activity attempt wf/r/1/1 handed out 2 times"
    ]
