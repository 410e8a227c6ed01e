"""What clients and workers do to standalone activities: start them under their ID policies,
wait for and describe them, take and answer their attempts, cancel, terminate, delete."""

from __future__ import annotations

import contextlib
import uuid
from typing import TypeVar

from temporalio.api.common.v1 import Payloads, WorkflowExecution
from temporalio.api.enums.v1 import (
    ActivityExecutionStatus,
    ActivityIdConflictPolicy,
    ActivityIdReusePolicy,
)
from temporalio.api.failure.v1 import Failure
from temporalio.api.workflowservice.v1 import PollActivityTaskQueueResponse

from cadenza.exceptions import (
    ActivityAlreadyStartedError,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
)
from cadenza.history.machine.tokens import TaskToken
from cadenza.persistence.records import StoredStandaloneActivity, TaskRecord, TimerRecord
from cadenza.standalone import machine
from cadenza.standalone.machine import STANDALONE_EVENT_ID, Record, Run, Step
from cadenza.standalone.service import Loaded, RunNotFoundError, StandaloneRuns
from cadenza.visibility.query import Query

ListedAfter = tuple[float, str, str]
"""Where a listing page ended: the last run's start time, activity ID and run ID."""

_FAILED_ONLY_REUSABLE = (
    ActivityExecutionStatus.ACTIVITY_EXECUTION_STATUS_FAILED,
    ActivityExecutionStatus.ACTIVITY_EXECUTION_STATUS_CANCELED,
    ActivityExecutionStatus.ACTIVITY_EXECUTION_STATUS_TERMINATED,
    ActivityExecutionStatus.ACTIVITY_EXECUTION_STATUS_TIMED_OUT,
)
T = TypeVar("T")


def is_standalone_task(task: TaskRecord) -> bool:
    """A standalone activity's task: it names no workflow event."""
    return task.scheduled_event_id == STANDALONE_EVENT_ID and task.query_id == ""


def is_standalone_token(token: TaskToken) -> bool:
    """A standalone activity attempt's token: it names an activity and no workflow."""
    return not token.workflow_id and bool(token.activity_id)


class StandaloneActivities:
    """The standalone activities of every namespace on this server."""

    def __init__(self, runs: StandaloneRuns) -> None:
        self._runs = runs

    async def fire(self, timer: TimerRecord) -> None:
        """A standalone activity's deadline came due."""
        await self._runs.fire(timer)

    async def start(
        self,
        namespace_id: str,
        run: Run,
        request_id: str,
        reuse: int,
        conflict: int,
        search_json: str,
        start_delay: float,
    ) -> tuple[str, bool]:
        """Start a run of ``run.info.activity_id`` as its ID policies allow: (run ID, started)."""
        activity_id = run.info.activity_id
        async with self._runs.locked(namespace_id, activity_id):
            latest = await self._runs.store.get_standalone_activity(namespace_id, activity_id, "")
            if latest is not None:
                if latest.request_id == request_id:  # the same request again
                    return latest.run_id, False
                existing = Record.decode(latest.state).run
                if machine.is_running(existing):
                    if conflict == ActivityIdConflictPolicy.ACTIVITY_ID_CONFLICT_POLICY_USE_EXISTING:
                        return latest.run_id, False
                    raise _already_started(latest)
                if not _reusable(existing, reuse):
                    raise _already_started(latest)
            run.run_id = run.info.run_id = str(uuid.uuid4())
            await self._runs.insert(namespace_id, run, request_id, search_json, start_delay)
            return run.run_id, True

    async def describe(
        self, namespace_id: str, activity_id: str, run_id: str, token: bytes, wait_seconds: float
    ) -> tuple[Run, bytes, int]:
        """The run, its long-poll token and how many changes it has seen; given the token of an
        earlier answer, once the run changed (or the wait ends)."""
        loop_until = self._runs.clock.now() + wait_seconds
        while True:
            loaded = await self._runs.load(namespace_id, activity_id, run_id)
            current = _version_token(loaded)
            if not token or token != current or self._runs.clock.now() >= loop_until:
                return loaded.run, current, loaded.stored.version
            await self._runs.wait_change(namespace_id, activity_id, loop_until - self._runs.clock.now())

    async def outcome(self, namespace_id: str, activity_id: str, run_id: str, wait_seconds: float) -> Run:
        """The run once it closed, or as it is when ``wait_seconds`` have passed."""
        loop_until = self._runs.clock.now() + wait_seconds
        while True:
            loaded = await self._runs.load(namespace_id, activity_id, run_id)
            if loaded.closed or self._runs.clock.now() >= loop_until:
                return loaded.run
            await self._runs.wait_change(namespace_id, activity_id, loop_until - self._runs.clock.now())

    async def record_started(
        self, task: TaskRecord, namespace: str, identity: str, sdk: tuple[str, str] = ("", "")
    ) -> PollActivityTaskQueueResponse | None:
        """Hand a polled task to a worker; None if its attempt is no longer waiting for one."""

        def take(step: Step, record: Record) -> bool:
            run, info = record.run, record.run.info
            if (
                not machine.is_running(run)
                or info.run_state != machine.SCHEDULED
                or info.attempt != task.attempt
            ):
                return False
            machine.started(step, run, identity)
            info.sdk_name, info.sdk_version = sdk
            return True

        try:
            run = await self._runs.change(
                task.namespace_id,
                task.workflow_id,
                task.run_id,
                _returning_run(take),
                removed_task=task.task_id,
            )
        except RunNotFoundError:
            await self._runs.store.remove_stale([task.task_id], [])
            return None
        if run is None:
            return None
        return _task_response(run, task.namespace_id, namespace)

    async def complete(self, token: TaskToken, result: Payloads | None, identity: str) -> None:
        def apply(step: Step, record: Record) -> None:
            _check_attempt(record.run, token)
            machine.complete(step, record.run, result, identity)

        await self._change_for(token, apply)

    async def fail(
        self, token: TaskToken, failure: Failure, identity: str, details: Payloads | None = None
    ) -> None:
        def apply(step: Step, record: Record) -> None:
            _check_attempt(record.run, token)
            if details is not None:
                machine.heartbeat(step, record.run, details)
            machine.fail_attempt(step, record.run, failure, identity)

        await self._change_for(token, apply)

    async def canceled(self, token: TaskToken, details: Payloads | None, identity: str) -> None:
        def apply(step: Step, record: Record) -> None:
            _check_attempt(record.run, token)
            if record.run.info.run_state != machine.CANCEL_REQUESTED:
                raise InvalidArgumentError(
                    "unable to mark activity as canceled without activity being request canceled first"
                )
            machine.canceled(step, record, details, identity)

        await self._change_for(token, apply)

    async def heartbeat(self, token: TaskToken, details: Payloads | None) -> bool:
        """Record a heartbeat; whether cancellation was requested."""

        def apply(step: Step, record: Record) -> bool:
            _check_attempt(record.run, token)
            machine.heartbeat(step, record.run, details)
            return record.run.info.run_state == machine.CANCEL_REQUESTED

        return await self._change_for(token, apply)

    async def token(self, namespace_id: str, activity_id: str, run_id: str) -> TaskToken:
        """The token of the run's current attempt, for the ById forms of the API."""
        loaded = await self._runs.load(namespace_id, activity_id, run_id)
        if not machine.is_running(loaded.run):
            raise NotFoundError(f"activity not found for ID: {activity_id}")
        return TaskToken(
            namespace_id,
            "",
            loaded.stored.run_id,
            STANDALONE_EVENT_ID,
            loaded.run.info.attempt,
            activity_id=activity_id,
        )

    async def request_cancel(
        self, namespace_id: str, activity_id: str, run_id: str, reason: str, identity: str, request_id: str
    ) -> None:
        """Ask the run to stop; asking again is refused, unless by the same request."""

        def apply(step: Step, record: Record) -> None:
            if not machine.is_running(record.run):
                raise FailedPreconditionError(f"activity is in terminal state {_status_name(record.run)}")
            if record.run.info.run_state != machine.CANCEL_REQUESTED:
                machine.request_cancel(step, record, reason, identity, request_id)
            elif request_id != record.cancel_request_id:
                raise FailedPreconditionError(
                    f"cancellation already requested with request ID {record.cancel_request_id}"
                )

        await self._runs.change(namespace_id, activity_id, run_id, apply)

    async def terminate(
        self, namespace_id: str, activity_id: str, run_id: str, reason: str, identity: str
    ) -> None:
        def apply(step: Step, record: Record) -> None:
            if not machine.is_running(record.run):
                raise FailedPreconditionError(f"invalid transition from {_status_name(record.run)}")
            machine.terminate(step, record.run, reason, identity)

        await self._runs.change(namespace_id, activity_id, run_id, apply)

    async def delete(self, namespace_id: str, activity_id: str, run_id: str) -> None:
        """Delete the run; one still running is terminated first, as Temporal does."""
        loaded = await self._runs.load(namespace_id, activity_id, run_id)
        if not loaded.closed:
            with contextlib.suppress(FailedPreconditionError):  # it closed meanwhile
                await self.terminate(
                    namespace_id, activity_id, loaded.stored.run_id, "Delete activity execution", ""
                )
        async with self._runs.locked(namespace_id, activity_id):
            await self._runs.delete(await self._runs.load(namespace_id, activity_id, loaded.stored.run_id))

    async def list_runs(
        self, namespace_id: str, query: Query, types: dict[str, int], limit: int, after: ListedAfter | None
    ) -> list[tuple[Run, int, ListedAfter]]:
        """A page of the matching runs, each with how many changes it has seen and where a page
        ending with it ends."""
        rows = await self._runs.store.list_standalone_activities(namespace_id, query, types, limit, after)
        return [
            (Record.decode(row.state).run, row.version, (row.start_time, row.activity_id, row.run_id))
            for row in rows
        ]

    async def count_runs(
        self, namespace_id: str, query: Query, types: dict[str, int]
    ) -> list[tuple[int | None, int]]:
        return await self._runs.store.count_standalone_activities(namespace_id, query, types)

    async def _change_for(self, token: TaskToken, apply: machine.Transition[T]) -> T:
        return await self._runs.change(token.namespace_id, token.activity_id, token.run_id, apply)


def _returning_run(take: machine.Transition[bool]) -> machine.Transition[Run | None]:
    def apply(step: Step, record: Record) -> Run | None:
        return record.run if take(step, record) else None

    return apply


def _check_attempt(run: Run, token: TaskToken) -> None:
    if not machine.is_started(run) or run.info.attempt != token.attempt:
        raise NotFoundError(f"activity not found for ID: {token.activity_id}")


def _status_name(run: Run) -> str:
    """A status as Temporal's messages name it: ``TimedOut`` for ..._STATUS_TIMED_OUT."""
    name = ActivityExecutionStatus.Name(run.info.status).removeprefix("ACTIVITY_EXECUTION_STATUS_")
    return "".join(word.capitalize() for word in name.split("_"))


def _reusable(existing: Run, reuse: int) -> bool:
    if reuse == ActivityIdReusePolicy.ACTIVITY_ID_REUSE_POLICY_REJECT_DUPLICATE:
        return False
    if reuse == ActivityIdReusePolicy.ACTIVITY_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY:
        return existing.info.status in _FAILED_ONLY_REUSABLE
    return True


def _already_started(latest: StoredStandaloneActivity) -> ActivityAlreadyStartedError:
    return ActivityAlreadyStartedError(
        "activity execution already started",
        latest.request_id,
        latest.run_id,
    )


def _version_token(loaded: Loaded) -> bytes:
    return str(loaded.stored.version).encode()


def _task_response(run: Run, namespace_id: str, namespace: str) -> PollActivityTaskQueueResponse:
    info = run.info
    token = TaskToken(
        namespace_id, "", info.run_id, STANDALONE_EVENT_ID, info.attempt, activity_id=info.activity_id
    )
    response = PollActivityTaskQueueResponse(
        task_token=token.encode(),
        workflow_namespace=namespace,
        workflow_execution=WorkflowExecution(),
        activity_type=info.activity_type,
        activity_id=info.activity_id,
        activity_run_id=info.run_id,
        attempt=info.attempt,
    )
    for name in ("header", "priority", "retry_policy", "heartbeat_details"):
        if info.HasField(name):
            getattr(response, name).CopyFrom(getattr(info, name))
    if run.HasField("input"):
        response.input.CopyFrom(run.input)
    response.scheduled_time.CopyFrom(info.schedule_time)
    response.current_attempt_scheduled_time.CopyFrom(
        info.next_attempt_schedule_time if info.attempt > 1 else info.execution_time
    )
    response.started_time.CopyFrom(info.last_started_time)
    response.schedule_to_close_timeout.CopyFrom(info.schedule_to_close_timeout)
    response.start_to_close_timeout.CopyFrom(info.start_to_close_timeout)
    response.heartbeat_timeout.CopyFrom(info.heartbeat_timeout)
    return response
