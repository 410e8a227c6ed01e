"""Standalone Nexus operations: operations a client starts without a workflow (Temporal's
StartNexusOperationExecution), stored as standalone runs (``cadenza.standalone.nexus_state``)
and carried out by the Nexus invocations.

The start request is an outbox timer written with the operation, so it survives a restart and
goes out again with the same request ID. A handler that starts a workflow gets the
``temporal://system`` callback; when that workflow closes, the invocations hand its outcome
here (``complete_from_workflow``).
"""

from __future__ import annotations

import time
import urllib.parse
import uuid
from collections.abc import Callable
from typing import TypeVar

from temporalio.api.common.v1 import Link
from temporalio.api.enums.v1 import (
    ActivityExecutionStatus,
    NexusOperationIdConflictPolicy,
    NexusOperationIdReusePolicy,
)
from temporalio.api.failure.v1 import Failure
from temporalio.api.nexus.v1 import Request

from cadenza.exceptions import FailedPreconditionError, NexusOperationAlreadyStartedError
from cadenza.history.machine import events as ev
from cadenza.namespaces import NamespaceRegistry
from cadenza.nexus import answers, invocations, requests
from cadenza.nexus.answers import Answer, Verdict
from cadenza.nexus.invocations import REQUEST_TIMEOUT, NexusInvocations, Outcome
from cadenza.nexus.standalone_store import OperationRows
from cadenza.persistence.records import TimerRecord
from cadenza.standalone import machine as activity_machine
from cadenza.standalone import nexus_state as state
from cadenza.standalone.machine import STANDALONE_EVENT_ID
from cadenza.standalone.nexus_state import Operation, Record, Step
from cadenza.timers.kinds import TimerKind

T = TypeVar("T")
NEXUS_OPERATION_LINK_TYPE = "temporal.api.common.v1.Link.NexusOperation"
_FAILED_ONLY_REUSABLE = (state.FAILED, state.CANCELED, state.TERMINATED, state.TIMED_OUT)


class StandaloneNexusOperations:
    """The standalone Nexus operations of every namespace on this server."""

    def __init__(
        self, rows: OperationRows, invocations: NexusInvocations, namespaces: NamespaceRegistry
    ) -> None:
        self.rows = rows
        self._namespaces = namespaces
        self._invocations = invocations
        invocations.standalone_completion = self.complete_from_workflow

    async def start(
        self, record: Record, namespace_id: str, request_id: str, reuse: int, conflict: int, search_json: str
    ) -> tuple[str, bool]:
        """Start a run of the operation's ID as its ID policies allow: (run ID, started)."""
        operation_id = record.operation.info.operation_id
        async with self.rows.locked(namespace_id, operation_id):
            latest = await self.rows.latest(namespace_id, operation_id)
            if latest is not None:
                stored, existing = latest
                if stored.request_id == request_id:  # the same request again
                    return stored.run_id, False
                if state.is_running(existing.operation):
                    if (
                        conflict
                        == NexusOperationIdConflictPolicy.NEXUS_OPERATION_ID_CONFLICT_POLICY_USE_EXISTING
                    ):
                        return stored.run_id, False
                    raise _already_started(stored.request_id, stored.run_id)
                if not _reusable(existing.operation, reuse):
                    raise _already_started(stored.request_id, stored.run_id)
            await self.rows.insert(namespace_id, record, request_id, search_json)
            return record.operation.run_id, True

    async def fire(self, timer: TimerRecord) -> None:
        if timer.kind == TimerKind.STANDALONE_NEXUS_START:
            await self._send_start(timer)
        elif timer.kind == TimerKind.STANDALONE_NEXUS_CANCEL:
            await self._send_cancel(timer)
        elif timer.kind == TimerKind.STANDALONE_NEXUS_CALLBACK:
            await self._complete_activity_callers(timer)
        else:
            await self._change_for(timer, _timed_out)

    async def request_cancel(
        self, namespace_id: str, operation_id: str, run_id: str, reason: str, request_id: str
    ) -> None:
        # The same request again changes nothing but is still written, as Temporal counts it
        # among the operation's state transitions.
        def apply(step: Step, record: Record) -> None:
            if not state.is_running(record.operation):
                raise FailedPreconditionError("operation already completed")
            if not record.cancel_request_id:
                state.request_cancel(step, record, reason, request_id)
            elif record.cancel_request_id != request_id:
                raise FailedPreconditionError(
                    f"cancellation already requested with request ID {record.cancel_request_id}"
                )

        await self.rows.change(namespace_id, operation_id, run_id, apply)

    async def terminate(
        self, namespace_id: str, operation_id: str, run_id: str, reason: str, request_id: str
    ) -> None:
        """Close the operation at once; terminating it again is refused, unless by the same request
        (written again, as a cancellation request repeated is)."""

        def apply(step: Step, record: Record) -> None:
            status = record.operation.info.status
            if status == state.TERMINATED and record.terminate_request_id != request_id:
                raise FailedPreconditionError(
                    f"already terminated with request ID {record.terminate_request_id}"
                )
            if status == state.TERMINATED:
                return
            if not state.is_running(record.operation):
                raise FailedPreconditionError(f"invalid transition from {state.TRANSITION_NAMES[status]}")
            record.terminate_request_id = request_id
            state.terminate(step, record.operation, reason)

        await self.rows.change(namespace_id, operation_id, run_id, apply)

    async def delete(self, namespace_id: str, operation_id: str, run_id: str) -> None:
        """Delete the run; one still running is terminated first, as Temporal does."""
        _, record = await self.rows.load(namespace_id, operation_id, run_id)
        if state.is_running(record.operation):
            try:
                await self.terminate(
                    namespace_id, operation_id, record.operation.run_id, "Delete operation", str(uuid.uuid4())
                )
            except FailedPreconditionError:
                pass  # it closed meanwhile
        await self.rows.delete(namespace_id, operation_id, record.operation.run_id)

    # -- the handler's side ------------------------------------------------------------------------

    async def _send_start(self, timer: TimerRecord) -> None:
        _, record = await self.rows.load(timer.namespace_id, timer.workflow_id, timer.run_id)
        operation = record.operation
        if not state.is_running(operation) or operation.info.attempt != timer.attempt:
            await self.rows.forget_timer(timer)
            return
        answer = await self._invocations.send(
            record.endpoint_id, start_request(timer.namespace_id, record), answers.from_start
        )

        def apply(step: Step, record: Record) -> None:
            now = record.operation
            if state.is_running(now) and now.info.attempt == timer.attempt and not now.info.operation_token:
                state.attempt_due(now)
                _apply_start_answer(step, now, answer)

        await self._change_for(timer, apply)

    async def _send_cancel(self, timer: TimerRecord) -> None:
        _, record = await self.rows.load(timer.namespace_id, timer.workflow_id, timer.run_id)
        if not state.is_running(record.operation):
            await self.rows.forget_timer(timer)
            return
        answer = await self._invocations.send(
            record.endpoint_id, cancel_request(record), lambda _: Answer(Verdict.ACCEPTED)
        )

        def apply(step: Step, record: Record) -> None:
            if not state.is_running(record.operation):
                return
            if answer.verdict is Verdict.RETRY:
                due = step.now + invocations.backoff(timer.attempt)
                step.timer(record.operation, TimerKind.STANDALONE_NEXUS_CANCEL, due, timer.attempt + 1)
            else:
                state.cancel_answered(record.operation, answer.failure)

        await self._change_for(timer, apply)

    async def complete_from_workflow(
        self, token: requests.CallbackToken, operation_token: str, outcome: Outcome, link: Link
    ) -> None:
        """The work a standalone operation started closed: the operation closes likewise."""
        verdict, result, failure = outcome

        def apply(step: Step, record: Record) -> None:
            operation = record.operation
            if not state.is_running(operation) or operation.info.request_id != token.request_id:
                return
            if not operation.info.operation_token:  # the start's answer is still on its way
                state.started(step, operation, operation_token, [link])
            if verdict is Verdict.COMPLETED:
                state.completed(step, operation, result, [])
            else:
                status = state.CANCELED if verdict is Verdict.CANCELED else state.FAILED
                state.failed(step, operation, failure or Failure(message="operation failed"), status)

        await self.rows.change(token.namespace_id, token.workflow_id, token.run_id, apply, missing_ok=True)

    async def _complete_activity_callers(self, timer: TimerRecord) -> None:
        """A standalone activity a Nexus operation started closed: complete that operation."""
        stored = await self.rows.store.get_standalone_activity(
            timer.namespace_id, timer.workflow_id, timer.run_id
        )
        if stored is not None:
            run = activity_machine.Record.decode(stored.state).run
            link = Link()
            link.activity.namespace = await self._namespace_name(timer.namespace_id)
            link.activity.activity_id, link.activity.run_id = run.info.activity_id, run.info.run_id
            outcome = _activity_outcome(run)
            callbacks = [info.info.callback for info in run.callbacks]
            await self._invocations.complete_callbacks(callbacks, outcome, link)
        await self.rows.store.remove_stale([], [timer.timer_id])

    async def _namespace_name(self, namespace_id: str) -> str:
        name = self._namespaces.cached_name(namespace_id)
        if name is not None:
            return name
        return next((n.name for n in await self._namespaces.list_all() if n.id == namespace_id), "")

    async def _change_for(self, timer: TimerRecord, apply: Callable[[Step, Record], None]) -> None:
        await self.rows.change(
            timer.namespace_id, timer.workflow_id, timer.run_id, apply, fired=timer, missing_ok=True
        )


def _activity_outcome(run: activity_machine.Run) -> Outcome:
    outcome = run.outcome
    if outcome.HasField("result"):
        payloads = outcome.result.payloads
        return Verdict.COMPLETED, (payloads[0] if payloads else None), None
    failure = outcome.failure if outcome.HasField("failure") else Failure(message="activity failed")
    canceled = run.info.status == ActivityExecutionStatus.ACTIVITY_EXECUTION_STATUS_CANCELED
    return (Verdict.CANCELED if canceled else Verdict.FAILED), None, failure


def _timed_out(step: Step, record: Record) -> None:
    if state.is_running(record.operation):
        state.time_out(step, record.operation)


def _apply_start_answer(step: Step, operation: Operation, answer: Answer) -> None:
    if answer.verdict is Verdict.COMPLETED:
        state.completed(step, operation, answer.result, answer.links)
    elif answer.verdict is Verdict.STARTED:
        state.started(step, operation, answer.token, answer.links)
    elif answer.verdict is Verdict.CANCELED:
        state.failed(step, operation, _outcome_failure(answer), state.CANCELED)
    elif answer.verdict is Verdict.FAILED:
        state.failed(step, operation, _outcome_failure(answer))
    else:
        state.retry_later(
            step, operation, answer.failure, step.now + invocations.backoff(operation.info.attempt)
        )


def _outcome_failure(answer: Answer) -> Failure:
    """The operation's failure, as the handler gave it: a handler error's failure names it."""
    failure = answer.failure or Failure(message="operation failed")
    return failure


def operation_url(namespace: str, operation_id: str, run_id: str) -> str:
    """The Nexus link URL of a standalone operation, as the SDK reads it."""
    parts = [urllib.parse.quote(value, safe="") for value in (namespace, operation_id, run_id)]
    return "temporal:///namespaces/{}/nexus-operations/{}/{}/details".format(*parts)


def start_request(namespace_id: str, record: Record) -> Request:
    operation, info = record.operation, record.operation.info
    namespace = record.namespace
    request = Request(endpoint=info.endpoint)
    request.header.update(dict(info.nexus_header))
    request.header["request-timeout"] = request.header["Request-Timeout"] = f"{REQUEST_TIMEOUT:.3f}s"
    to_close = ev.seconds(info.schedule_to_close_timeout)
    if to_close > 0:
        left = info.expiration_time.ToSeconds() - time.time()
        request.header["operation-timeout"] = f"{max(0, int(left * 1000))}ms"
    back = operation_url(namespace, info.operation_id, operation.run_id)
    request.header["nexus-request-id"] = info.request_id
    request.header["nexus-link"] = f'<{back}>; type="{NEXUS_OPERATION_LINK_TYPE}"'
    request.scheduled_time.CopyFrom(ev.timestamp(time.time()))
    request.capabilities.temporal_failure_responses = True
    start = request.start_operation
    start.service, start.operation, start.request_id = info.service, info.operation, info.request_id
    start.callback = requests.SYSTEM_CALLBACK_URL
    token = requests.CallbackToken(
        namespace_id, info.operation_id, operation.run_id, STANDALONE_EVENT_ID, info.request_id
    )
    start.callback_header[requests.CALLBACK_TOKEN_HEADER] = token.encode()
    if operation.HasField("input"):
        start.payload.CopyFrom(operation.input)
    start.links.add(url=back, type=NEXUS_OPERATION_LINK_TYPE)
    return request


def cancel_request(record: Record) -> Request:
    info = record.operation.info
    request = Request(endpoint=info.endpoint)
    request.header.update(dict(info.nexus_header))
    request.header["request-timeout"] = request.header["Request-Timeout"] = f"{REQUEST_TIMEOUT:.3f}s"
    request.scheduled_time.CopyFrom(ev.timestamp(time.time()))
    request.capabilities.temporal_failure_responses = True
    cancel = request.cancel_operation
    cancel.service, cancel.operation = info.service, info.operation
    cancel.operation_id = cancel.operation_token = info.operation_token
    return request


def _reusable(existing: Operation, reuse: int) -> bool:
    if reuse == NexusOperationIdReusePolicy.NEXUS_OPERATION_ID_REUSE_POLICY_REJECT_DUPLICATE:
        return False
    if reuse == NexusOperationIdReusePolicy.NEXUS_OPERATION_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY:
        return existing.info.status in _FAILED_ONLY_REUSABLE
    return True


def _already_started(request_id: str, run_id: str) -> NexusOperationAlreadyStartedError:
    return NexusOperationAlreadyStartedError("nexus operation execution already started", request_id, run_id)
