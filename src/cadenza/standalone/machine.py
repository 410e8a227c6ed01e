"""One standalone activity run's state and what happens to it, without I/O.

A run's state is a ``DescribeActivityExecutionResponse`` (what Describe answers:
the run's info, its input and, once closed, its outcome). Each transition takes
a ``Step`` that collects the tasks and timers the change makes; every task and
timer names the attempt it was made for, so one left over from an earlier attempt
changes nothing when it comes back.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from google.protobuf.timestamp_pb2 import Timestamp
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.api.enums.v1 import (
    ActivityExecutionStatus,
    PendingActivityState,
    RetryState,
    TimeoutType,
)
from temporalio.api.failure.v1 import Failure
from temporalio.api.workflowservice.v1 import DescribeActivityExecutionResponse

from cadenza.history.machine import events as ev
from cadenza.history.machine import priorities, retry
from cadenza.history.machine.state import RetryPolicy
from cadenza.persistence.records import TaskKind, TaskRecord, TimerRecord
from cadenza.standalone.stored import StoredRecord
from cadenza.timers.kinds import TimerKind

STANDALONE_EVENT_ID = 0
"""The scheduled event ID of a standalone activity's tasks and timers: no workflow event has it."""

Run = DescribeActivityExecutionResponse

RUNNING = ActivityExecutionStatus.ACTIVITY_EXECUTION_STATUS_RUNNING
SCHEDULED = PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED
STARTED = PendingActivityState.PENDING_ACTIVITY_STATE_STARTED
CANCEL_REQUESTED = PendingActivityState.PENDING_ACTIVITY_STATE_CANCEL_REQUESTED

WORKFLOW_STATUS = {
    ActivityExecutionStatus.ACTIVITY_EXECUTION_STATUS_RUNNING: 1,
    ActivityExecutionStatus.ACTIVITY_EXECUTION_STATUS_COMPLETED: 2,
    ActivityExecutionStatus.ACTIVITY_EXECUTION_STATUS_FAILED: 3,
    ActivityExecutionStatus.ACTIVITY_EXECUTION_STATUS_CANCELED: 4,
    ActivityExecutionStatus.ACTIVITY_EXECUTION_STATUS_TERMINATED: 5,
    ActivityExecutionStatus.ACTIVITY_EXECUTION_STATUS_TIMED_OUT: 7,
}
"""A status as the list filters number it (Temporal's ExecutionStatus, shared with workflows)."""


T = TypeVar("T")


@dataclass
class Step:
    """One change in the making: the time it happens at, and the tasks and timers it adds."""

    namespace_id: str
    now: float
    tasks: list[TaskRecord] = field(default_factory=list)
    timers: list[TimerRecord] = field(default_factory=list)

    def dispatch(self, run: Run) -> None:
        """Put the run's current attempt on its task queue."""
        info = run.info
        self.tasks.append(
            TaskRecord(
                str(uuid.uuid4()),
                self.namespace_id,
                info.task_queue,
                TaskKind.ACTIVITY,
                info.activity_id,
                info.run_id,
                STANDALONE_EVENT_ID,
                info.attempt,
                priority=priorities.from_proto(info),
            )
        )

    def timer(self, run: Run, kind: TimerKind, fire_at: float) -> None:
        info = run.info
        self.timers.append(
            TimerRecord(
                str(uuid.uuid4()),
                fire_at,
                self.namespace_id,
                info.activity_id,
                info.run_id,
                kind,
                STANDALONE_EVENT_ID,
                info.attempt,
            )
        )


@dataclass
class Record(StoredRecord):
    """What is stored of a run: the run as Describe shows it, and its cancellation request
    (which request asked, and who: the outcome names them, a second request is refused)."""

    run: Run
    cancel_request_id: str = ""
    cancel_identity: str = ""
    timer_ids: list[str] = field(default_factory=list)
    """The run's timers not fired yet: dropped when it closes, so none outlives it."""

    def track_timers(self, step: Step, fired: str) -> list[str]:
        """Note the step's new timers and the one that fired; once the run is closed, drop the
        rest and return their IDs."""
        live = [t for t in self.timer_ids if t != fired] + [t.timer_id for t in step.timers]
        if is_running(self.run):
            self.timer_ids = live
            return []
        self.timer_ids = []
        return live


Transition = Callable[[Step, Record], T]
"""A change to one run: it may add tasks and timers to the step, and answers a ``T``."""


def is_running(run: Run) -> bool:
    return run.info.status == RUNNING


def is_started(run: Run) -> bool:
    return is_running(run) and run.info.run_state in (STARTED, CANCEL_REQUESTED)


def begin(step: Step, run: Run, start_delay: float) -> None:
    """A new run: its first attempt now, or after its start delay; its overall deadline."""
    info = run.info
    info.status = RUNNING
    info.run_state = SCHEDULED
    info.attempt = 1
    info.schedule_time.CopyFrom(ev.timestamp(step.now))
    info.execution_time.CopyFrom(ev.timestamp(step.now + start_delay))
    to_close = ev.seconds(info.schedule_to_close_timeout)
    if to_close > 0:
        info.expiration_time.CopyFrom(ev.timestamp(step.now + to_close))
        step.timer(run, TimerKind.STANDALONE_SCHEDULE_TO_CLOSE, step.now + to_close)
    if start_delay > 0:
        step.timer(run, TimerKind.STANDALONE_DISPATCH, step.now + start_delay)
    else:
        _schedule_attempt(step, run)


def _schedule_attempt(step: Step, run: Run) -> None:
    step.dispatch(run)
    to_start = ev.seconds(run.info.schedule_to_start_timeout)
    if to_start > 0:
        step.timer(run, TimerKind.STANDALONE_SCHEDULE_TO_START, step.now + to_start)


def dispatch_due(step: Step, run: Run, attempt: int) -> None:
    """A start delay or retry backoff ended: put that attempt on the queue, if still pending."""
    if is_running(run) and run.info.run_state == SCHEDULED and run.info.attempt == attempt:
        _schedule_attempt(step, run)


def started(step: Step, run: Run, identity: str) -> None:
    """A worker took the current attempt: arm its start-to-close and heartbeat deadlines."""
    info = run.info
    info.run_state = STARTED
    info.last_started_time.CopyFrom(ev.timestamp(step.now))
    info.last_worker_identity = identity
    info.ClearField("last_heartbeat_time")
    step.timer(run, TimerKind.STANDALONE_START_TO_CLOSE, step.now + ev.seconds(info.start_to_close_timeout))
    heartbeat = ev.seconds(info.heartbeat_timeout)
    if heartbeat > 0:
        step.timer(run, TimerKind.STANDALONE_HEARTBEAT, step.now + heartbeat)


def complete(step: Step, run: Run, result: Payloads | None, identity: str) -> None:
    run.info.last_worker_identity = identity  # the answering worker's, even when it gives none
    if result is not None:
        run.outcome.result.CopyFrom(result)
    else:
        run.outcome.result.Clear()
        run.outcome.SetInParent()
    _close(step, run, ActivityExecutionStatus.ACTIVITY_EXECUTION_STATUS_COMPLETED)


def fail_attempt(step: Step, run: Run, failure: Failure, identity: str) -> None:
    """The attempt failed: another after the retry policy's backoff, or the run fails."""
    run.info.last_worker_identity = identity  # the answering worker's, even when it gives none
    decision = retry.decide(_policy(run), run.info.attempt, failure, step.now, _deadline(run))
    if decision.delay is not None:
        _retry_later(step, run, failure, decision.delay)
        return
    run.outcome.failure.CopyFrom(failure)
    run.outcome.retry_state = decision.retry_state  # type: ignore[assignment]
    run.info.last_failure.CopyFrom(failure)
    _close(step, run, ActivityExecutionStatus.ACTIVITY_EXECUTION_STATUS_FAILED)


def time_out(step: Step, run: Run, timeout_type: int) -> None:
    """A deadline passed: start-to-close and heartbeat are retried, the others end the run."""
    failure = _timeout_failure(run, timeout_type)
    attempt_timed_out = timeout_type in (
        TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE,
        TimeoutType.TIMEOUT_TYPE_HEARTBEAT,
    )
    if attempt_timed_out:
        decision = retry.decide(_policy(run), run.info.attempt, failure, step.now, _deadline(run))
        if decision.delay is not None:
            _retry_later(step, run, failure, decision.delay)
            return
        retry_state = decision.retry_state
    else:
        retry_state = RetryState.RETRY_STATE_TIMEOUT
    if run.info.HasField("last_failure"):  # what ended the attempt before
        failure.cause.CopyFrom(run.info.last_failure)
    run.outcome.failure.CopyFrom(failure)
    run.outcome.retry_state = retry_state  # type: ignore[assignment]
    if attempt_timed_out:  # the last attempt's failure; a run's own deadline is no attempt's
        run.info.last_failure.CopyFrom(failure)
    _close(step, run, ActivityExecutionStatus.ACTIVITY_EXECUTION_STATUS_TIMED_OUT)


def heartbeat(step: Step, run: Run, details: Payloads | None) -> None:
    run.info.last_heartbeat_time.CopyFrom(ev.timestamp(step.now))
    run.info.total_heartbeat_count += 1
    if details is not None:
        run.info.heartbeat_details.CopyFrom(details)


def epoch(stamp: Timestamp) -> float:
    """A timestamp as epoch seconds."""
    return _epoch(stamp)


def schedule_to_start_passed(run: Run, now: float) -> bool:
    """Whether the current attempt is still waiting for a worker past its schedule-to-start."""
    info = run.info
    to_start = ev.seconds(info.schedule_to_start_timeout)
    if info.run_state != SCHEDULED or to_start <= 0:
        return False
    scheduled = info.next_attempt_schedule_time if info.attempt > 1 else info.execution_time
    return _epoch(scheduled) + to_start <= now


def heartbeat_deadline(run: Run) -> float:
    info = run.info
    last = max(_epoch(info.last_started_time), _epoch(info.last_heartbeat_time))
    return last + ev.seconds(info.heartbeat_timeout)


def request_cancel(step: Step, record: Record, reason: str, identity: str, request_id: str) -> None:
    """Ask the attempt to stop; an attempt no worker holds is canceled at once, the reason its
    details."""
    run = record.run
    run.info.canceled_reason = reason
    record.cancel_request_id, record.cancel_identity = request_id, identity
    if run.info.run_state == SCHEDULED:
        details = Payloads(
            payloads=[Payload(metadata={"encoding": b"json/plain"}, data=json.dumps(reason).encode())]
        )
        canceled(step, record, details, "")
        return
    run.info.run_state = CANCEL_REQUESTED


def canceled(step: Step, record: Record, details: Payloads | None, worker_identity: str) -> None:
    """The run ends canceled; its failure names who asked for it."""
    failure = Failure(message="Activity canceled")
    failure.canceled_failure_info.identity = record.cancel_identity
    if details is not None:
        failure.canceled_failure_info.details.CopyFrom(details)
    if worker_identity:
        record.run.info.last_worker_identity = worker_identity
    record.run.outcome.failure.CopyFrom(failure)
    _close(step, record.run, ActivityExecutionStatus.ACTIVITY_EXECUTION_STATUS_CANCELED)


def terminate(step: Step, run: Run, reason: str, identity: str) -> None:
    failure = Failure(message=reason)
    failure.terminated_failure_info.identity = identity
    run.outcome.failure.CopyFrom(failure)
    _close(step, run, ActivityExecutionStatus.ACTIVITY_EXECUTION_STATUS_TERMINATED)


def _retry_later(step: Step, run: Run, failure: Failure, delay: float) -> None:
    info = run.info
    info.last_failure.CopyFrom(failure)
    info.last_attempt_complete_time.CopyFrom(ev.timestamp(step.now))
    info.current_retry_interval.CopyFrom(ev.duration(delay))
    info.next_attempt_schedule_time.CopyFrom(ev.timestamp(step.now + delay))
    info.attempt += 1
    info.run_state = SCHEDULED
    step.timer(run, TimerKind.STANDALONE_DISPATCH, step.now + delay)


def _close(step: Step, run: Run, status: int) -> None:
    info = run.info
    info.status = status  # type: ignore[assignment]
    info.run_state = PendingActivityState.PENDING_ACTIVITY_STATE_UNSPECIFIED
    info.close_time.CopyFrom(ev.timestamp(step.now))
    info.execution_duration.CopyFrom(ev.duration(step.now - _epoch(info.schedule_time)))
    info.ClearField("next_attempt_schedule_time")
    info.ClearField("current_retry_interval")


def _epoch(stamp: Timestamp) -> float:
    return stamp.seconds + stamp.nanos / 1e9


def _policy(run: Run) -> RetryPolicy:
    return retry.from_proto(run.info.retry_policy)


def _deadline(run: Run) -> float:
    return _epoch(run.info.expiration_time) if run.info.HasField("expiration_time") else 0.0


_TIMEOUT_NAMES: dict[int, str] = {
    TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE: "StartToClose",
    TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START: "ScheduleToStart",
    TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE: "ScheduleToClose",
    TimeoutType.TIMEOUT_TYPE_HEARTBEAT: "Heartbeat",
}


def _timeout_failure(run: Run, timeout_type: int) -> Failure:
    failure = Failure(message=f"activity {_TIMEOUT_NAMES.get(timeout_type, 'unknown')} timeout")
    failure.timeout_failure_info.timeout_type = timeout_type  # type: ignore[assignment]
    if run.info.HasField("heartbeat_details"):
        failure.timeout_failure_info.last_heartbeat_details.CopyFrom(run.info.heartbeat_details)
    return failure
