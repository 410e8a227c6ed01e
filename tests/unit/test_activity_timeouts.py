"""How the server fills in and caps an activity's timeouts, as Temporal does."""

from __future__ import annotations

from temporalio.api.command.v1 import ScheduleActivityTaskCommandAttributes

from cadenza.history.machine import activity_scheduling
from cadenza.history.machine import events as ev


def command(**timeouts: float) -> ScheduleActivityTaskCommandAttributes:
    attrs = ScheduleActivityTaskCommandAttributes(activity_id="1")
    for name, value in timeouts.items():
        getattr(attrs, name).CopyFrom(ev.duration(value))
    return attrs


def test_only_start_to_close_leaves_the_others_unset() -> None:
    assert activity_scheduling._timeouts(command(start_to_close_timeout=10), run_timeout=0) == (0, 0, 10, 0)


def test_schedule_to_close_fills_and_caps_the_others() -> None:
    got = activity_scheduling._timeouts(
        command(schedule_to_close_timeout=30, start_to_close_timeout=60, heartbeat_timeout=90), 0
    )
    assert got == (30, 30, 30, 30)


def test_run_timeout_caps_schedule_to_close() -> None:
    assert activity_scheduling._timeouts(command(start_to_close_timeout=10), run_timeout=5) == (5, 5, 5, 0)
