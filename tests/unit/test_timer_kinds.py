"""The timer kinds: the strings stored timers carry, one owner each, one handler table."""

from __future__ import annotations

import logging

import pytest

from cadenza.history.service import fired_timers
from cadenza.persistence.records import TimerRecord
from cadenza.timers.dispatch import TimerDispatch, handler_table
from cadenza.timers.kinds import OWNERS, TimerKind, TimerOwner, owned_by

STORED_KINDS = {
    "wft_start_to_close",
    "wft_sticky_schedule_to_start",
    "activity_retry",
    "activity_start_to_close",
    "activity_schedule_to_close",
    "activity_schedule_to_start",
    "activity_heartbeat",
    "user_timer",
    "workflow_run_timeout",
    "workflow_backoff",
    "transfer_await_slot",
    "transfer_start_child",
    "transfer_notify_parent",
    "transfer_parent_close_policy",
    "transfer_signal_external",
    "transfer_cancel_external",
    "nexus_schedule_to_close",
    "nexus_start",
    "nexus_cancel",
    "nexus_callback",
    "schedule",
    "standalone_activity_dispatch",
    "standalone_activity_start_to_close",
    "standalone_activity_schedule_to_close",
    "standalone_activity_schedule_to_start",
    "standalone_activity_heartbeat",
    "standalone_nexus_start",
    "standalone_nexus_cancel",
    "standalone_nexus_timeout",
    "standalone_nexus_callback",
}
"""Every kind the databases already hold: these strings can never change."""


def timer(kind: str, timer_id: str = "t-1") -> TimerRecord:
    return TimerRecord(timer_id, 0.0, "ns", "wf", "run", kind, 1, 0)


class Recorder:
    """One owner's handler, remembering the timers it was given."""

    def __init__(self) -> None:
        self.fired: list[TimerRecord] = []

    async def __call__(self, timer: TimerRecord) -> None:
        self.fired.append(timer)


def recorders() -> dict[TimerOwner, Recorder]:
    return {owner: Recorder() for owner in TimerOwner}


def test_every_stored_kind_has_a_member_with_the_same_value() -> None:
    assert {kind.value for kind in TimerKind} == STORED_KINDS
    for stored in STORED_KINDS:
        assert TimerKind(stored) == stored


def test_a_kind_is_its_stored_string_wherever_it_is_written() -> None:
    assert str(TimerKind.USER_TIMER) == "user_timer"
    assert f"{TimerKind.SCHEDULE}" == "schedule"
    by_stored_string: dict[str, int] = {TimerKind.USER_TIMER: 1}
    assert by_stored_string.get("user_timer") == 1


def test_every_kind_has_exactly_one_owner() -> None:
    assert set(OWNERS) == set(TimerKind)
    owned = [owned_by(owner) for owner in TimerOwner]
    assert sum(len(kinds) for kinds in owned) == len(TimerKind)
    assert frozenset().union(*owned) == set(TimerKind)


def test_outbox_entries_belong_to_the_transfers_and_wake_ups_to_the_schedules() -> None:
    assert owned_by(TimerOwner.TRANSFERS) == {k for k in TimerKind if k.startswith("transfer_")}
    assert owned_by(TimerOwner.SCHEDULES) == {TimerKind.SCHEDULE}
    assert owned_by(TimerOwner.STANDALONE_ACTIVITIES) == {
        k for k in TimerKind if k.startswith("standalone_activity_")
    }


def test_the_table_gives_every_kind_its_owners_handler() -> None:
    handlers = recorders()
    table = handler_table(handlers)
    assert set(table) == set(TimerKind)
    for kind, owner in OWNERS.items():
        assert table[kind] is handlers[owner]


def test_the_table_refuses_an_owner_without_a_handler() -> None:
    handlers = recorders()
    del handlers[TimerOwner.SCHEDULES]
    with pytest.raises(ValueError, match="schedules"):
        handler_table(handlers)


async def test_each_stored_kind_is_fired_by_its_owner_only() -> None:
    handlers = recorders()
    dropped = Recorder()
    dispatch = TimerDispatch(handlers, dropped)
    for stored in sorted(STORED_KINDS):
        await dispatch.fire(timer(stored, f"t-{stored}"))
    for owner, handler in handlers.items():
        assert {t.kind for t in handler.fired} == owned_by(owner)
    assert dropped.fired == []


async def test_a_timer_of_an_unknown_kind_is_logged_and_dropped(caplog: pytest.LogCaptureFixture) -> None:
    handlers = recorders()
    dropped = Recorder()
    dispatch = TimerDispatch(handlers, dropped)
    with caplog.at_level(logging.ERROR, logger="cadenza.timers.dispatch"):
        await dispatch.fire(timer("no_such_kind"))
    assert dropped.fired == [timer("no_such_kind")]
    assert all(not handler.fired for handler in handlers.values())
    assert "unknown timer kind no_such_kind; dropping it" in caplog.text


def test_the_history_has_a_handler_for_exactly_the_kinds_it_owns() -> None:
    assert set(fired_timers.HANDLERS) == owned_by(TimerOwner.HISTORY)
