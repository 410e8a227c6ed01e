"""Overlap policies: given the buffered starts and whether a run is going, what to do now.

Pure, as Temporal's scheduler does it: ALLOW_ALL starts go at once; of the
rest at most one starts when nothing runs, and the others are skipped,
buffered, or buffered after cancelling or terminating the running workflow.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from temporalio.api.enums.v1 import ScheduleOverlapPolicy

from cadenza.schedules.record import BufferedStart

P = ScheduleOverlapPolicy


@dataclass
class BufferAction:
    overlapping: list[BufferedStart] = field(default_factory=list)
    """ALLOW_ALL starts, started together and not tracked as running."""
    non_overlapping: BufferedStart | None = None
    new_buffer: list[BufferedStart] = field(default_factory=list)
    need_cancel: bool = False
    need_terminate: bool = False
    overlap_skipped: int = 0


def resolve(policy: int, schedule_policy: int) -> int:
    """A start's policy: its own, else the schedule's, else SKIP."""
    return policy or schedule_policy or P.SCHEDULE_OVERLAP_POLICY_SKIP


def process_buffer(buffer: list[BufferedStart], is_running: bool, schedule_policy: int) -> BufferAction:
    action = BufferAction()
    for start in buffer:
        policy = resolve(start.overlap, schedule_policy)
        if policy == P.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL:
            action.overlapping.append(start)
        elif not is_running and action.non_overlapping is None:
            action.non_overlapping = start
        else:
            _overlaps(action, start, policy, is_running)
    if action.need_cancel or action.need_terminate:
        # Those would be cancelled or terminated right away too.
        action.overlapping = []
    return action


def _overlaps(action: BufferAction, start: BufferedStart, policy: int, is_running: bool) -> None:
    if policy == P.SCHEDULE_OVERLAP_POLICY_SKIP:
        action.overlap_skipped += 1
    elif policy == P.SCHEDULE_OVERLAP_POLICY_BUFFER_ONE:
        if action.new_buffer:
            action.overlap_skipped += 1
        else:
            action.new_buffer.append(start)
    elif policy == P.SCHEDULE_OVERLAP_POLICY_BUFFER_ALL:
        action.new_buffer.append(start)
    elif policy in (P.SCHEDULE_OVERLAP_POLICY_CANCEL_OTHER, P.SCHEDULE_OVERLAP_POLICY_TERMINATE_OTHER):
        if not is_running:
            action.non_overlapping = start  # replaces the one not yet started
        elif policy == P.SCHEDULE_OVERLAP_POLICY_CANCEL_OTHER:
            action.need_cancel = True
            action.new_buffer.append(start)
        else:
            action.need_terminate = True
            action.new_buffer.append(start)
