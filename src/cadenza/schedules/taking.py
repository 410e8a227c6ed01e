"""Taking a schedule's buffered actions: start what the overlap policy allows now.

A start a full ``queue`` concurrency limit holds back goes back to the front of the buffer,
stored with the schedule, and the schedule wakes again shortly to try it (it counts as no
action yet). A start refused (a full ``reject`` limit, a workflow ID in use) is dropped and
logged, as Temporal's scheduler drops a start that failed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from cadenza.exceptions import CadenzaError
from cadenza.schedules import buffer, scheduler
from cadenza.schedules.actions import Actions, identity
from cadenza.schedules.record import BufferedStart, ScheduleRecord

logger = logging.getLogger(__name__)

LIMIT_RETRY_SECONDS = 1.0
"""How soon a schedule whose start waits for a concurrency slot tries it again."""


@dataclass(frozen=True)
class Taken:
    again: bool
    """Whether the buffer should be looked at again at once."""
    waiting: bool
    """Whether a start waits in the buffer for a concurrency slot."""


async def take_actions(record: ScheduleRecord, actions: Actions, now: Callable[[], float]) -> Taken:
    """Start what the overlap policy allows, cancel or terminate what it says."""
    running = bool(record.info.running_workflows)
    action = buffer.process_buffer(record.buffer, running, record.schedule.policies.overlap_policy)
    record.buffer = action.new_buffer
    record.info.overlap_skipped += action.overlap_skipped
    if not record.schedule.action.HasField("start_workflow"):
        record.buffer = []
        return Taken(False, False)
    again = False
    waiting: list[BufferedStart] = []
    starts = list(action.overlapping)
    if action.non_overlapping is not None:
        starts.append(action.non_overlapping)
    for start in starts:
        if not scheduler.can_take(record, start.manual):
            again = True
            continue
        try:
            started = await actions.start(record, start)
        except CadenzaError as error:
            scheduler.can_take(record, start.manual, decrement=True)
            logger.info("schedule %s could not start its workflow: %s", record.schedule_id, error.message)
            again = True
            continue
        if started is None:
            waiting.append(start)
            continue
        scheduler.can_take(record, start.manual, decrement=True)
        workflow_id, run_id = started
        scheduler.record_action(
            record, start, workflow_id, run_id, now(), tracked=start is action.non_overlapping
        )
        logger.info("schedule %s started workflow %s", record.schedule_id, workflow_id)
    record.buffer = [*waiting, *record.buffer]
    who = identity(record)
    for execution in list(record.info.running_workflows):
        if action.need_terminate:
            await actions.terminate(record.namespace_id, execution.workflow_id, who)
        elif action.need_cancel:
            await actions.cancel(record.namespace_id, execution.workflow_id, who)
    if waiting:
        logger.info(
            "schedule %s waits for a concurrency slot for %d starts", record.schedule_id, len(waiting)
        )
        return Taken(False, True)
    return Taken(again and not running and bool(record.buffer), False)
