"""Operator actions on pending activities: pause, unpause, reset and new options.

None writes a history event; each changes what is dispatched and when.
"""

from __future__ import annotations

import pytest
from google.protobuf.duration_pb2 import Duration
from temporalio.api.activity.v1 import ActivityOptions
from temporalio.api.common.v1 import RetryPolicy
from temporalio.api.enums.v1 import EventType
from temporalio.api.failure.v1 import Failure

from cadenza.exceptions import InvalidArgumentError, NotFoundError
from cadenza.history.machine import activities, activity_ops
from cadenza.history.machine.activity_ops import Selection
from cadenza.history.machine.change import Change
from cadenza.history.machine.encoded import encode_blob
from cadenza.history.machine.state import Activity, MutableState
from cadenza.persistence.records import TaskKind
from cadenza.timers.kinds import TimerKind
from tests.unit.history.builders import Run, duration, schedule_activity, started_run

RETRYING = RetryPolicy(initial_interval=duration(5), maximum_attempts=3)


def with_activity(retry: RetryPolicy | None = None) -> tuple[Run, Activity]:
    run = started_run()
    run.complete_task(schedule_activity(retry=retry))
    [activity] = run.state.activities.values()
    return run, activity


def act(run: Run, operation: object, *args: object, **kwargs: object) -> Change:
    change = run.change()
    operation(change, *args, **kwargs)  # type: ignore[operator]
    return run.commit(change)


def start(run: Run, activity: Activity) -> None:
    act(run, activities.record_started, activity, "worker", "req")


def fail(run: Run, activity: Activity) -> Change:
    return act(run, activities.fail_attempt, activity, Failure(message="boom"), "worker")


def retry_timers(change: Change) -> list[float]:
    return [t.fire_at for t in change.timers_added if t.kind == TimerKind.ACTIVITY_RETRY]


def activity_tasks(change: Change) -> list[int]:
    return [t.attempt for t in change.tasks_added if t.kind == TaskKind.ACTIVITY]


def pause(run: Run, activity: Activity) -> Change:
    return act(run, activity_ops.pause, activity, "operator", "stuck")


def test_pausing_a_queued_attempt_withdraws_its_task_and_writes_no_event() -> None:
    run, activity = with_activity()
    events = len(run.history)
    change = pause(run, activity)
    assert change.tasks_removed and not change.events
    assert len(run.history) == events
    assert (activity.paused, activity.pause_identity, activity.pause_reason) == (True, "operator", "stuck")
    assert activity.pause_time == run.clock.now()


def test_a_paused_running_attempt_goes_on_and_a_failure_waits_for_the_unpause() -> None:
    run, activity = with_activity(RETRYING)
    start(run, activity)
    pause(run, activity)
    assert activity.started
    change = fail(run, activity)
    assert retry_timers(change) == [] and activity_tasks(change) == []
    assert (activity.attempt, activity.paused, activity.started) == (2, True, False)
    change = act(run, activity_ops.unpause, activity, reset_attempts=False, reset_heartbeat=False, delay=0)
    assert activity_tasks(change) == [2]
    assert not activity.paused and activity.last_failure == ""


def test_pausing_during_a_backoff_drops_the_retry_timer() -> None:
    run, activity = with_activity(RETRYING)
    start(run, activity)
    fail(run, activity)
    timer_id = activity.retry_timer_id
    assert timer_id
    change = pause(run, activity)
    assert timer_id in change.timers_removed and activity.retry_timer_id == ""


def test_a_paused_running_attempt_that_completes_closes_the_activity() -> None:
    run, activity = with_activity()
    start(run, activity)
    pause(run, activity)
    act(run, activities.complete, activity, None, "worker")
    assert run.state.activities == {}
    assert run.history[-2].event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED


def test_a_paused_failure_with_no_retry_left_fails_the_activity() -> None:
    run, activity = with_activity(RetryPolicy(maximum_attempts=1))
    start(run, activity)
    pause(run, activity)
    fail(run, activity)
    assert run.state.activities == {}
    assert run.history[-2].event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED


def test_pausing_twice_keeps_the_first_pause() -> None:
    run, activity = with_activity()
    pause(run, activity)
    act(run, activity_ops.pause, activity, "other", "again")
    assert activity.pause_identity == "operator"


def test_unpausing_with_a_jitter_dispatches_after_the_delay() -> None:
    run, activity = with_activity()
    pause(run, activity)
    change = act(run, activity_ops.unpause, activity, reset_attempts=False, reset_heartbeat=True, delay=3)
    assert retry_timers(change) == [run.clock.now() + 3] and activity_tasks(change) == []


def test_unpausing_an_activity_not_paused_changes_nothing() -> None:
    run, activity = with_activity()
    change = act(run, activity_ops.unpause, activity, reset_attempts=True, reset_heartbeat=True, delay=0)
    assert change.is_empty


def test_resetting_a_waiting_activity_dispatches_its_first_attempt_at_once() -> None:
    run, activity = with_activity(RETRYING)
    start(run, activity)
    fail(run, activity)
    activity.heartbeat_details = encode_blob(b"x")
    change = act(run, activity_ops.reset, activity, reset_heartbeat=True, keep_paused=False, delay=0)
    assert activity_tasks(change) == [1]
    assert (activity.attempt, activity.heartbeat_details, activity.retry_timer_id) == (1, "", "")


def test_resetting_a_paused_activity_may_keep_it_paused() -> None:
    run, activity = with_activity(RETRYING)
    pause(run, activity)
    change = act(run, activity_ops.reset, activity, reset_heartbeat=False, keep_paused=True, delay=0)
    assert activity.paused and activity_tasks(change) == []


def test_a_reset_running_attempt_is_told_so_and_its_failure_counts_as_the_first() -> None:
    run, activity = with_activity(RETRYING)
    start(run, activity)
    fail(run, activity)
    act(run, activities.enqueue, activity)
    start(run, activity)
    assert activity.attempt == 2
    act(run, activity_ops.reset, activity, reset_heartbeat=False, keep_paused=False, delay=0)
    assert activity.reset_requested and activity.attempt == 2  # the worker's token still holds
    fail(run, activity)
    assert (activity.attempt, activity.reset_requested) == (2, False)


def test_new_options_apply_to_the_next_attempts() -> None:
    run, activity = with_activity()
    options = ActivityOptions(
        start_to_close_timeout=Duration(seconds=7), heartbeat_timeout=Duration(seconds=9)
    )
    options.retry_policy.maximum_attempts = 4
    options.task_queue.name = "elsewhere"
    mask = [
        "start_to_close_timeout",
        "heartbeatTimeout",
        "retry_policy.maximum_attempts",
        "task_queue.name",
        "nope",
    ]
    change = act(run, activity_ops.update_options, activity, options, mask)
    assert (activity.start_to_close, activity.heartbeat_timeout) == (7, 7)  # capped, as scheduling caps
    assert activity.retry.maximum_attempts == 4 and activity.retry.initial_interval == 1
    assert [t.task_queue for t in change.tasks_added] == ["elsewhere"] and change.tasks_removed
    assert activity_ops.options_of(activity).task_queue.name == "elsewhere"


def test_a_selection_by_type_finds_every_activity_of_it() -> None:
    run = started_run()
    run.complete_task(schedule_activity("a1"), schedule_activity("a2"))
    state: MutableState = run.state
    assert len(activity_ops.selected(state, Selection(activity_type="Act"))) == 2
    assert [a.activity_id for a in activity_ops.selected(state, Selection(activity_id="a2"))] == ["a2"]
    with pytest.raises(NotFoundError, match="Can't find pending activity"):
        activity_ops.selected(state, Selection(activity_id="a3"))
    with pytest.raises(InvalidArgumentError, match=r"Either Activity\.Id or Activity\.Type"):
        activity_ops.selected(state, Selection())
    assert activity_ops.selected(state, Selection(every=True)) != []


def stored(state: MutableState) -> tuple[bytes, list[tuple[int, bytes]]]:
    """The state's own row and one row per pending activity, as the store holds them."""
    return state.to_stored()[0], [(key, a.encoded()) for key, a in state.activities.items()]


def test_a_pause_is_stored_with_the_activity_and_read_back() -> None:
    run, activity = with_activity(RETRYING)
    pause(run, activity)
    data, rows = stored(run.state)
    [again] = MutableState.from_bytes(data, rows).activities.values()
    assert (again.paused, again.pause_identity, again.pause_reason, again.pause_time) == (
        True,
        "operator",
        "stuck",
        activity.pause_time,
    )


def test_an_activity_stored_before_pauses_existed_reads_as_not_paused() -> None:
    run, _ = with_activity()
    data, rows = stored(run.state)
    old_rows = [(key, row.replace(b',"paused":false', b"")) for key, row in rows]
    assert all(b'"paused"' not in row for _, row in old_rows)
    [again] = MutableState.from_bytes(data, old_rows).activities.values()
    assert not again.paused
