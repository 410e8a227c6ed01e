"""Overlap policies decide what starts, waits, is skipped, cancelled or terminated."""

from __future__ import annotations

from temporalio.api.enums.v1 import ScheduleOverlapPolicy as P

from cadenza.schedules.buffer import process_buffer
from cadenza.schedules.record import BufferedStart


def starts(n: int, policy: int = 0) -> list[BufferedStart]:
    return [BufferedStart(float(i), float(i), policy, False, f"r{i}") for i in range(n)]


def test_nothing_running_starts_the_first_and_applies_the_policy_to_the_rest() -> None:
    action = process_buffer(starts(3), False, P.SCHEDULE_OVERLAP_POLICY_SKIP)
    assert action.non_overlapping is not None and action.non_overlapping.request_id == "r0"
    assert action.overlap_skipped == 2 and not action.new_buffer


def test_buffer_one_keeps_one_and_buffer_all_keeps_all() -> None:
    one = process_buffer(starts(3), True, P.SCHEDULE_OVERLAP_POLICY_BUFFER_ONE)
    assert [s.request_id for s in one.new_buffer] == ["r0"] and one.overlap_skipped == 2
    every = process_buffer(starts(3), True, P.SCHEDULE_OVERLAP_POLICY_BUFFER_ALL)
    assert len(every.new_buffer) == 3 and every.non_overlapping is None


def test_cancel_and_terminate_other_ask_to_stop_the_running_workflow() -> None:
    cancel = process_buffer(starts(1), True, P.SCHEDULE_OVERLAP_POLICY_CANCEL_OTHER)
    assert cancel.need_cancel and not cancel.need_terminate and len(cancel.new_buffer) == 1
    terminate = process_buffer(starts(1), True, P.SCHEDULE_OVERLAP_POLICY_TERMINATE_OTHER)
    assert terminate.need_terminate and len(terminate.new_buffer) == 1
    # Nothing running: the latest replaces the one not yet started.
    latest = process_buffer(starts(2), False, P.SCHEDULE_OVERLAP_POLICY_TERMINATE_OTHER)
    assert latest.non_overlapping is not None and latest.non_overlapping.request_id == "r1"


def test_allow_all_starts_everything_and_a_start_may_override_the_schedule() -> None:
    action = process_buffer(
        starts(3, P.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL), True, P.SCHEDULE_OVERLAP_POLICY_SKIP
    )
    assert len(action.overlapping) == 3 and action.overlap_skipped == 0
