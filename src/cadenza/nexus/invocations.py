"""Nexus outbox entries: start and cancel requests to handlers, and completions to callers.

Each entry is a durable timer written by the commit that asked for it (see
``cadenza.history.machine.nexus_operations``), so a request survives a restart: the entry fires
again and the request goes out again with the same request ID, which the handler uses to
start its work only once. An entry is removed in the commit that records its outcome.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable

from temporalio.api.common.v1 import Callback, Link, Payload
from temporalio.api.enums.v1 import EventType, TimeoutType
from temporalio.api.failure.v1 import Failure
from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.workflowservice.v1 import RespondNexusTaskFailedRequest

from cadenza.concurrency.starts import StartSlots
from cadenza.exceptions import NamespaceNotFoundError, NotFoundError
from cadenza.history.machine import nexus_operations
from cadenza.history.machine.change import Change
from cadenza.history.machine.encoded import decode_blob
from cadenza.history.machine.state import NexusOperation
from cadenza.history.service import HistoryService
from cadenza.matching.nexus_tasks import NexusTaskQueues
from cadenza.namespaces import NamespaceRegistry
from cadenza.nexus import answers, links, requests, system
from cadenza.nexus.answers import Answer, Verdict
from cadenza.nexus.endpoints import NexusEndpoints
from cadenza.persistence.records import ExecutionKey, TimerRecord
from cadenza.persistence.roles import TaskStore
from cadenza.standalone.machine import STANDALONE_EVENT_ID
from cadenza.timers.kinds import TimerKind

logger = logging.getLogger(__name__)

Outcome = tuple[Verdict, Payload | None, Failure | None]
"""How the work backing an operation ended: completed with a result, failed or canceled."""
StandaloneCompletion = Callable[[requests.CallbackToken, str, Outcome, Link], Awaitable[None]]
"""Completes a standalone operation: its callback token, operation token, the outcome of the
work that backs it and a link to that work."""

REQUEST_TIMEOUT = 10.0
"""How long one request waits for a handler to take and answer it (Temporal's default)."""
MAX_BACKOFF = 60.0


def backoff(attempt: int) -> float:
    """The wait before attempt ``attempt + 1`` of a request that could not be answered."""
    return float(min(MAX_BACKOFF, 2 ** max(0, attempt - 1)))


class NexusInvocations:
    """Runs the Nexus outbox entries for the timer queue."""

    def __init__(
        self,
        history: HistoryService,
        namespaces: NamespaceRegistry,
        endpoints: NexusEndpoints,
        queues: NexusTaskQueues,
        store: TaskStore,
        start_slots: StartSlots | None = None,
    ) -> None:
        self._start_slots = start_slots or StartSlots(None)
        """The concurrency limits' slots a system operation's workflow start takes."""
        self._history = history
        self._namespaces = namespaces
        self._endpoints = endpoints
        self._queues = queues
        self._store = store
        self.standalone_completion: StandaloneCompletion | None = None
        """Completes standalone operations (``scheduled_event_id`` 0) whose workflow closed."""
        self._handlers: dict[str, Callable[[TimerRecord], Awaitable[None]]] = {
            TimerKind.NEXUS_START: self._start,
            TimerKind.NEXUS_CANCEL: self._cancel,
            TimerKind.NEXUS_CALLBACK: self._complete_callers,
        }

    async def run(self, timer: TimerRecord) -> None:
        try:
            await self._handlers[timer.kind](timer)
        except NotFoundError:
            await self._store.remove_stale([], [timer.timer_id])

    # -- requests to handlers ---------------------------------------------------------------------

    async def _start(self, timer: TimerRecord) -> None:
        entry = await self._history.load(timer.key)
        operation = entry.state.nexus_operations.get(timer.event_id)
        if operation is None or operation.operation_token or not entry.state.running:
            await self._store.remove_stale([], [timer.timer_id])
            return
        scheduled = (await self._history.cache.history(entry))[timer.event_id - 1]
        if operation.endpoint == system.ENDPOINT:
            payload = scheduled.nexus_operation_scheduled_event_attributes.input
            answer = await system.run(
                self._history, self._namespaces, entry.state, operation, payload, self._start_slots
            )
        else:
            request = requests.start_request(entry.state, operation, scheduled, REQUEST_TIMEOUT)
            answer = await self._send(operation, request, answers.from_start)
        async with self._history.changing(timer.key) as (entry, change):
            change.remove_timer(timer.timer_id)
            operation_now = entry.state.nexus_operations.get(timer.event_id)
            if operation_now is None or operation_now.operation_token or not entry.state.running:
                return
            _apply_start_answer(change, operation_now, answer, timer)

    async def _cancel(self, timer: TimerRecord) -> None:
        entry = await self._history.load(timer.key)
        operation = entry.state.nexus_operations.get(timer.event_id)
        if operation is None or not operation.cancel_attempt or not entry.state.running:
            await self._store.remove_stale([], [timer.timer_id])
            return
        scheduled = (await self._history.cache.history(entry))[timer.event_id - 1]
        request = requests.cancel_request(operation, scheduled, REQUEST_TIMEOUT)
        answer = await self._send(operation, request, lambda _: Answer(Verdict.ACCEPTED))
        async with self._history.changing(timer.key) as (entry, change):
            change.remove_timer(timer.timer_id)
            now = entry.state.nexus_operations.get(timer.event_id)
            if now is None or not now.cancel_attempt or not entry.state.running:
                return
            if answer.verdict is Verdict.RETRY:
                now.cancel_attempt += 1
                due = change.now + backoff(now.cancel_attempt - 1)
                change.add_timer(TimerKind.NEXUS_CANCEL, due, now.scheduled_event_id, now.cancel_attempt)
            else:
                failed = answer.failure if answer.verdict is Verdict.FAILED else None
                nexus_operations.cancel_request_done(change, now, failed)

    async def _send(
        self, operation: NexusOperation, request: object, on_completed: Callable[[object], Answer]
    ) -> Answer:
        return await self.send(operation.endpoint_id, request, on_completed)

    async def send(
        self, endpoint_id: str, request: object, on_completed: Callable[[object], Answer]
    ) -> Answer:
        """Dispatch one request to the endpoint's handler queue and read its answer."""
        try:
            endpoint = await self._endpoints.get(endpoint_id)
        except NotFoundError:
            return Answer(Verdict.FAILED, failure=_handler_failure("endpoint not found", "NOT_FOUND"))
        target = endpoint.spec.target
        if not target.HasField("worker"):
            return Answer(
                Verdict.FAILED,
                failure=_handler_failure("external endpoints are not served", "NOT_IMPLEMENTED"),
            )
        try:
            namespace = await self._namespaces.get(target.worker.namespace)
        except NamespaceNotFoundError:
            return Answer(Verdict.RETRY, failure=_handler_failure("target namespace not found", "NOT_FOUND"))
        try:
            reply = await self._queues.dispatch(
                namespace.id, target.worker.task_queue, request, REQUEST_TIMEOUT
            )
        except TimeoutError:
            return Answer(Verdict.RETRY, failure=_handler_failure("upstream timeout", "UPSTREAM_TIMEOUT"))
        if isinstance(reply, RespondNexusTaskFailedRequest):
            return answers.from_failed(reply)
        return on_completed(reply)

    # -- completions to callers -------------------------------------------------------------------

    async def _complete_callers(self, timer: TimerRecord) -> None:
        """A run a Nexus operation started has closed: complete the operation that started it."""
        entry = await self._history.load(timer.key)
        close_event = (await self._history.cache.history(entry))[timer.event_id - 1]
        handler_link = links.event_link(
            entry.state.namespace,
            entry.state.workflow_id,
            entry.state.run_id,
            1,
            EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
        )
        callbacks = [
            Callback.FromString(decode_blob(encoded)) for encoded in entry.state.completion_callbacks
        ]
        await self.complete_callbacks(callbacks, close_outcome(close_event), handler_link)
        await self._store.remove_stale([], [timer.timer_id])

    async def complete_callbacks(
        self, callbacks: Iterable[Callback], outcome: Outcome, handler_link: Link
    ) -> None:
        """Complete the operation each of a closed run's (or standalone activity's) callbacks names;
        only Cadenza's own callbacks are delivered."""
        for callback in callbacks:
            nexus = callback.nexus
            if nexus.url != requests.SYSTEM_CALLBACK_URL:
                logger.warning("completion callback to %s not delivered: only Cadenza's own are", nexus.url)
                continue
            token = requests.CallbackToken.decode(nexus.header.get(requests.CALLBACK_TOKEN_HEADER, ""))
            if token is None:
                continue
            operation_token = nexus.header.get(requests.OPERATION_TOKEN_HEADER, "")
            await self.complete_caller(token, operation_token, outcome, handler_link)

    async def complete_caller(
        self, token: requests.CallbackToken, operation_token: str, outcome: Outcome, handler_link: Link
    ) -> None:
        """Complete the operation ``token`` names (a workflow's or a standalone one)."""
        if token.scheduled_event_id == STANDALONE_EVENT_ID:
            if self.standalone_completion is not None:
                await self.standalone_completion(token, operation_token, outcome, handler_link)
            return
        key = ExecutionKey(token.namespace_id, token.workflow_id, token.run_id)
        try:
            async with self._history.changing(key) as (entry, change):
                operation = entry.state.nexus_operations.get(token.scheduled_event_id)
                if operation is None or operation.request_id != token.request_id or not entry.state.running:
                    return
                if not operation.operation_token:  # the start's answer is still on its way
                    nexus_operations.started(change, operation, operation_token, [handler_link])
                _apply_close(change, operation, outcome)
        except NotFoundError:
            return  # the caller is gone: nothing waits for the outcome


def _apply_start_answer(
    change: Change, operation: NexusOperation, answer: Answer, timer: TimerRecord
) -> None:
    if answer.verdict is Verdict.COMPLETED:
        nexus_operations.completed(change, operation, answer.result, answer.links)
    elif answer.verdict is Verdict.STARTED:
        nexus_operations.started(change, operation, answer.token, answer.links)
    elif answer.verdict is Verdict.CANCELED:
        nexus_operations.canceled(change, operation, answer.failure or Failure(message="operation canceled"))
    elif answer.verdict is Verdict.FAILED:
        nexus_operations.failed(change, operation, answer.failure or Failure(message="operation failed"))
    else:
        operation.attempt += 1
        due = change.now + backoff(operation.attempt - 1)
        change.add_timer(TimerKind.NEXUS_START, due, operation.scheduled_event_id, operation.attempt)


def close_outcome(close_event: HistoryEvent) -> Outcome:
    """What a handler workflow's close event means for the operation it backs."""
    kind = close_event.event_type
    if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
        result = close_event.workflow_execution_completed_event_attributes.result
        return Verdict.COMPLETED, (result.payloads[0] if result.payloads else None), None
    if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
        return Verdict.FAILED, None, close_event.workflow_execution_failed_event_attributes.failure
    if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED:
        cause = Failure(message="operation canceled")
        cause.canceled_failure_info.details.CopyFrom(
            close_event.workflow_execution_canceled_event_attributes.details
        )
        return Verdict.CANCELED, None, cause
    if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED:
        cause = Failure(message="operation terminated")
        cause.terminated_failure_info.SetInParent()
        return Verdict.FAILED, None, cause
    cause = Failure(message="operation exceeded internal timeout")
    cause.timeout_failure_info.timeout_type = TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE
    return Verdict.FAILED, None, cause


def _apply_close(change: Change, operation: NexusOperation, outcome: Outcome) -> None:
    verdict, result, failure = outcome
    if verdict is Verdict.COMPLETED:
        nexus_operations.completed(change, operation, result)
    elif verdict is Verdict.CANCELED:
        nexus_operations.canceled(change, operation, failure or Failure(message="operation canceled"))
    else:
        nexus_operations.failed(change, operation, failure or Failure(message="operation failed"))


def _handler_failure(message: str, error_type: str) -> Failure:
    failure = Failure(message=message)
    failure.nexus_handler_failure_info.type = error_type
    return failure
