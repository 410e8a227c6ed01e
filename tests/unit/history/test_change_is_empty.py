"""Change.is_empty: the one test of whether a change has anything to write."""

from __future__ import annotations

from cadenza.history.machine import workflow_tasks
from cadenza.history.machine.change import Change
from tests.unit.history.builders import new_run, started_run


def test_a_fresh_change_is_empty() -> None:
    assert new_run().change().is_empty


def test_an_event_makes_a_change_non_empty() -> None:
    run = started_run()
    change = run.change()
    workflow_tasks.fail(change, 0, None, "worker")
    assert change.events
    assert not change.is_empty


def test_a_state_only_change_is_not_empty() -> None:
    change = new_run().change()
    change.state_changed = True
    assert not change.is_empty


def test_a_removed_timer_is_not_empty() -> None:
    change = new_run().change()
    change.remove_timer("timer-1")
    assert not change.is_empty


def test_a_successor_alone_is_not_empty() -> None:
    run = new_run()
    change = run.change()
    change.successor = Change(new_run(run_id="run-2").state, run.clock.now(), 0)
    assert not change.is_empty
