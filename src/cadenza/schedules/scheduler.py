"""The scheduler's decisions, as pure functions on a ``ScheduleRecord``.

They follow Temporal's scheduler workflow: elapsed time is turned into
buffered starts (unless paused, out of actions, or past the catch-up window),
patches trigger, backfill, pause and unpause, and finished workflows update
the counters, pause on failure and hand their result to the next run.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp
from temporalio.api.common.v1 import Payloads, WorkflowExecution
from temporalio.api.enums.v1 import WorkflowExecutionStatus
from temporalio.api.failure.v1 import Failure
from temporalio.api.schedule.v1 import ScheduleActionResult, SchedulePatch

from cadenza.protoutil import seconds
from cadenza.schedules.buffer import resolve
from cadenza.schedules.record import Backfill, BufferedStart, ScheduleRecord
from cadenza.schedules.spec import CompiledSpec

DEFAULT_CATCHUP_WINDOW = 365 * 24 * 3600.0
MIN_CATCHUP_WINDOW = 10.0
MAX_BUFFER = 1000
BACKFILLS_PER_PASS = 10
"""Backfilled actions buffered per pass (Temporal's BackfillsPerIteration)."""
MAX_TIMES_PER_PASS = 500
"""Matching times one pass looks at in the time elapsed since the last; the rest wait a pass."""
RECENT_ACTIONS = 10
FUTURE_ACTIONS = 10
_REQUEST_NAMESPACE = uuid.UUID("6f1d4a52-7f0e-4b7e-9a51-3c0f5d2b8e11")
S = WorkflowExecutionStatus


def seed(record: ScheduleRecord) -> str:
    return f"{record.namespace_id}-{record.schedule_id}"


def catchup_window(record: ScheduleRecord) -> float:
    policies = record.schedule.policies
    if not policies.HasField("catchup_window"):
        return DEFAULT_CATCHUP_WINDOW
    return max(policies.catchup_window.ToNanoseconds() / 1e9, MIN_CATCHUP_WINDOW)


def fill_defaults(record: ScheduleRecord) -> None:
    """Resolve the policy defaults eagerly so Describe shows them, as Temporal does."""
    policies = record.schedule.policies
    policies.overlap_policy = resolve(policies.overlap_policy, 0)  # type: ignore[assignment]
    window = catchup_window(record)
    policies.catchup_window.FromNanoseconds(int(window * 1e9))


def can_take(record: ScheduleRecord, manual: bool, decrement: bool = False) -> bool:
    """Whether an action may happen now; manual ones (trigger, backfill) always may."""
    if manual:
        return True
    state = record.schedule.state
    if state.paused:
        return False
    if not state.limited_actions:
        return True
    if state.remaining_actions > 0:
        if decrement:
            state.remaining_actions -= 1
            record.conflict_token += 1
        return True
    return False


@dataclass(frozen=True)
class RangeOutcome:
    """How far one pass got through a time range."""

    next_time: float | None
    """The first action time after the ones processed, or None if the schedule has no more."""
    resume_after: float | None
    """Where the next pass carries on when a limit stopped this one; None when it finished."""
    looked_at: int = 0
    """How many matching times this pass looked at."""
    last: float | None = None
    """The last matching time this pass looked at."""


def process_time_range(
    record: ScheduleRecord,
    spec: CompiledSpec | None,
    start: float,
    end: float,
    overlap: int,
    manual: bool,
    limit: int = MAX_TIMES_PER_PASS,
) -> RangeOutcome:
    """Buffer the actions due in (start, end], looking at no more than ``limit`` times.

    Like Temporal's scheduler, a pass takes a bounded bite of a long range (a
    backfill over centuries, or a long catch-up) and the next pass resumes where
    it stopped, so no single pass does unbounded work.
    """
    if spec is None:
        return RangeOutcome(None, None)
    if not can_take(record, manual):
        found = spec.next_time(seed(record), end)
        return RangeOutcome(found.actual if found else None, None)
    window = catchup_window(record)
    update_time = seconds(record.info.update_time)
    found = spec.next_time(seed(record), start)
    looked_at, last = 0, None
    while found is not None and found.actual <= end:
        if looked_at >= limit:
            return RangeOutcome(found.actual, last, looked_at, last)
        looked_at += 1
        if not manual and update_time > found.actual:
            pass  # due before the latest update: that update's spec decides from now on
        elif not manual and end - found.actual > window:
            record.info.missed_catchup_window += 1
        else:
            add_start(record, found.nominal, found.actual, overlap, manual)
        last = found.actual
        found = spec.next_time(seed(record), found.actual)
    if spec.limit_hit and last is not None:
        return RangeOutcome(None, last, looked_at, last)  # out of compute: carry on next pass
    return RangeOutcome(found.actual if found else None, None, looked_at, last)


def add_start(record: ScheduleRecord, nominal: float, actual: float, overlap: int, manual: bool) -> None:
    if len(record.buffer) >= MAX_BUFFER:
        record.info.buffer_dropped += 1
        return
    if manual:
        request_id = str(uuid.uuid4())
    else:
        # The same scheduled action always gets the same request ID, so starting it again
        # after a crash finds the run already started instead of starting another.
        request_id = str(
            uuid.uuid5(_REQUEST_NAMESPACE, f"{seed(record)}/{nominal}/{actual}/{record.conflict_token}")
        )
    record.buffer.append(BufferedStart(nominal, actual, overlap, manual, request_id))


def apply_patch(record: ScheduleRecord, spec: CompiledSpec | None, patch: SchedulePatch, now: float) -> None:
    if patch.HasField("trigger_immediately"):
        trigger = patch.trigger_immediately
        at = seconds(trigger.scheduled_time) if trigger.HasField("scheduled_time") else now
        add_start(record, at, at, trigger.overlap_policy, True)
    for request in patch.backfill_request:
        if len(record.backfills) >= MAX_BUFFER:
            record.info.buffer_dropped += 1
            continue
        # The start is inclusive: a time matching it exactly is backfilled too.
        record.backfills.append(
            Backfill(seconds(request.start_time) - 0.001, seconds(request.end_time), request.overlap_policy)
        )
    if patch.pause:
        record.schedule.state.paused = True
        record.schedule.state.notes = patch.pause
        record.conflict_token += 1
    if patch.unpause:
        record.schedule.state.paused = False
        record.schedule.state.notes = patch.unpause
        record.conflict_token += 1


def process_backfills(record: ScheduleRecord, spec: CompiledSpec | None) -> None:
    """Take the next few backfilled actions: at most BACKFILLS_PER_PASS, into half the buffer.

    A backfill keeps its progress in its start time, so a huge one is worked
    through a few actions per pass, durably, as Temporal does it.
    """
    budget = BACKFILLS_PER_PASS
    while spec is not None and record.backfills and budget > 0 and len(record.buffer) < MAX_BUFFER // 2:
        backfill = record.backfills[0]
        outcome = process_time_range(
            record, spec, backfill.start, backfill.end, backfill.overlap, True, limit=budget
        )
        budget -= outcome.looked_at
        if outcome.resume_after is not None:
            backfill.start = outcome.resume_after
        else:
            # Done; or no time found within the spec's compute budget, which ends the
            # backfill as Temporal ends a search over its compute limit.
            record.backfills.pop(0)
        if spec.limit_hit:
            return
    if spec is None:
        record.backfills.clear()


def record_action(
    record: ScheduleRecord,
    start: BufferedStart,
    workflow_id: str,
    run_id: str,
    started_at: float,
    tracked: bool,
) -> None:
    result = ScheduleActionResult(
        schedule_time=_timestamp(start.actual),
        actual_time=_timestamp(started_at),
        start_workflow_result=WorkflowExecution(workflow_id=workflow_id, run_id=run_id),
        start_workflow_status=S.WORKFLOW_EXECUTION_STATUS_RUNNING,
    )
    info = record.info
    info.action_count += 1
    info.recent_actions.append(result)
    del info.recent_actions[:-RECENT_ACTIONS]
    if tracked:
        info.running_workflows.append(result.start_workflow_result)


def workflow_closed(
    record: ScheduleRecord, workflow_id: str, status: int, result: Payloads | None, failure: Failure | None
) -> None:
    """A tracked workflow finished: stop tracking it, note its result, maybe pause."""
    running = record.info.running_workflows
    for index, execution in enumerate(running):
        if execution.workflow_id == workflow_id:
            del running[index]
            break
    for action in record.info.recent_actions:
        if action.start_workflow_result.workflow_id == workflow_id:
            action.start_workflow_status = status  # type: ignore[assignment]
    state = record.schedule.state
    failed = status in (S.WORKFLOW_EXECUTION_STATUS_FAILED, S.WORKFLOW_EXECUTION_STATUS_TIMED_OUT)
    if record.schedule.policies.pause_on_failure and failed and not state.paused:
        state.paused = True
        if status == S.WORKFLOW_EXECUTION_STATUS_FAILED:
            message = failure.message if failure is not None else ""
            state.notes = f"paused due to workflow failure: {workflow_id}: {message}"
        else:
            state.notes = f"paused due to workflow timeout: {workflow_id}"
        record.conflict_token += 1
    if result is not None:
        record.last_completion_result = result
        record.continued_failure = None
    elif failure is not None:
        record.continued_failure = failure


def future_action_times(
    record: ScheduleRecord, spec: CompiledSpec | None, n: int, after: float
) -> list[float]:
    """The next ``n`` action times (no more than the remaining actions)."""
    if spec is None:
        return []
    state = record.schedule.state
    if state.limited_actions:
        n = min(n, state.remaining_actions)
    update_time = seconds(record.info.update_time)
    out: list[float] = []
    t = after
    while len(out) < n:
        found = spec.next_time(seed(record), t)
        if found is None:
            break
        t = found.actual
        if update_time <= t:
            out.append(t)
    return out


def resolve_start_policy(record: ScheduleRecord, start: BufferedStart) -> int:
    return resolve(start.overlap, record.schedule.policies.overlap_policy)


def workflow_id_for(base: str, nominal: float) -> str:
    """Temporal's ID for a scheduled run: the action's ID and the nominal time in RFC 3339."""
    stamp = datetime.fromtimestamp(int(nominal // 1), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{base}-{stamp}"


def _timestamp(seconds: float) -> Timestamp:
    out = Timestamp()
    # Microseconds: finer than any time here carries, coarse enough to keep float noise out.
    out.FromMicroseconds(round(seconds * 1e6))
    return out


def timestamp(seconds: float) -> Timestamp:
    return _timestamp(seconds)
