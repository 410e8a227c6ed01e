"""Pending activities stored as rows of their own: a write carries only those a change touched."""

from __future__ import annotations

import orjson
import pytest

from cadenza.history.machine.state import Activity, MutableState, RetryPolicy
from cadenza.persistence.records import NO_PRIORITY, TaskPriority


def state_with(count: int) -> MutableState:
    state = MutableState("n", "default", "w", "r", "T", "q", 1.5, "req", 10, 0, 0, next_event_id=6)
    for event_id in range(5, 5 + count):
        state.activities[event_id] = Activity(
            event_id, str(event_id), "act", "q", 2.0, 0, 0, 10, 0, RetryPolicy(maximum_attempts=3)
        )
    return state


def reload(state: MutableState, rows: dict[int, bytes]) -> MutableState:
    """What the store hands back after the writes so far: the state and the activities' rows."""
    blob, written, removed = state.to_stored()
    rows.update(written)
    for event_id in removed:
        del rows[event_id]
    return MutableState.from_bytes(blob, rows.items())


def test_only_added_changed_and_removed_activities_are_written() -> None:
    state = state_with(100)
    blob, written, removed = state.to_stored()
    assert "activities" not in orjson.loads(blob)
    assert [event_id for event_id, _ in written] == list(range(5, 105)) and removed == []
    assert state.to_stored()[1:] == ([], [])
    state.activities[7].attempt = 2
    del state.activities[9]
    blob, written, removed = state.to_stored()
    assert [event_id for event_id, _ in written] == [7] and removed == [9]
    assert orjson.loads(written[0][1])["attempt"] == 2


def test_the_stored_state_with_its_rows_is_the_state() -> None:
    state = state_with(3)
    rows: dict[int, bytes] = {}
    again = reload(state, rows)
    assert again == state and again.activities[6].retry.maximum_attempts == 3
    assert list(again.activities) == [5, 6, 7]
    assert again.to_stored()[1:] == ([], [])  # as loaded: nothing to write again
    again.activities[6].started_time = 3.0
    again.activities.clear()
    assert again.to_stored()[1:] == ([], [5, 6, 7])
    assert state.to_bytes() == orjson.dumps(state, option=orjson.OPT_NON_STR_KEYS)


def test_a_state_stored_with_its_activities_inside_moves_them_to_rows() -> None:
    state = state_with(2)
    older = MutableState.from_bytes(state.to_bytes())
    assert older == state
    assert [event_id for event_id, _ in older.to_stored()[1]] == [5, 6]


def test_pending_activities_change_only_in_ways_a_write_notices() -> None:
    state = state_with(1)
    with pytest.raises(TypeError):
        state.activities.update({})
    assert state.activities.pop(5).activity_id == "5" and state.activities.pop(5, None) is None
    assert state.to_stored()[1:] == ([], [])  # added and gone before any write: nothing to store


def test_the_runs_and_activities_priorities_are_kept_and_old_states_have_none() -> None:
    state = state_with(2)
    state.priority = TaskPriority(2, "tenant", 3.0)
    state.activities[6].priority = TaskPriority(fairness_key="own")
    again = reload(state, {})
    assert again.priority == TaskPriority(2, "tenant", 3.0)
    assert again.activities[6].priority == TaskPriority(fairness_key="own")
    assert again.activities[5].priority == NO_PRIORITY
    stored_before = orjson.loads(state_with(0).to_bytes())
    del stored_before["priority"]
    assert MutableState.from_bytes(orjson.dumps(stored_before)).priority == NO_PRIORITY
