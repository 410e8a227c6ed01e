"""Queries: asked of a workflow's worker through its task queue, answered out of band.

A query task lives in memory. It goes to the sticky worker, which holds the
workflow and needs no history, or else to the normal queue with the whole
history so any worker can replay it. A query waits while a workflow task is
pending, so the answer reflects every event that came before the query.

With other replicas on the same database, the workflow's worker may poll one of
them rather than the replica the caller reached. A query for the normal queue is
then also stored and announced (``ReplicaLink.offer_query``); whichever replica
hands it to a poll claims it first, this one included, so exactly one worker
gets it. A replica that handed out another's query builds the task from the
stored execution, and stores the worker's answer for the asking replica, which
wakes on its announcement. Sticky queues are not shared: ``sticky_alive`` knows
only this replica's polls, so a query goes sticky only when its sticky worker
polls here. A single server (no link) does none of this database work.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from temporalio.api.common.v1 import Payloads, WorkflowExecution, WorkflowType
from temporalio.api.enums.v1 import (
    QueryRejectCondition,
    QueryResultType,
    WorkflowExecutionStatus,
)
from temporalio.api.failure.v1 import Failure
from temporalio.api.query.v1 import WorkflowQuery
from temporalio.api.workflowservice.v1 import PollWorkflowTaskQueueResponse

from cadenza.exceptions import DeadlineExceededError, QueryFailedError
from cadenza.history.machine import events as ev
from cadenza.history.machine import versioning, visibility_fields
from cadenza.history.machine.state import MutableState
from cadenza.history.machine.tokens import TaskToken
from cadenza.history.machine.versioning import UNROUTED
from cadenza.history.service import HistoryService, wire
from cadenza.persistence.errors import StorageError
from cadenza.persistence.records import (
    ExecutionKey,
    QueryReply,
    SharedQuery,
    TaskKind,
    TaskRecord,
)
from cadenza.persistence.replica_link import ReplicaLink

logger = logging.getLogger(__name__)

# Read once: each read of a protobuf enum's value goes through its wrapper's __getattr__.
_COMPLETED = WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED
_RUNNING = WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING
_PAUSED = WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_PAUSED
_NOT_OPEN = QueryRejectCondition.QUERY_REJECT_CONDITION_NOT_OPEN
_NOT_COMPLETED_CLEANLY = QueryRejectCondition.QUERY_REJECT_CONDITION_NOT_COMPLETED_CLEANLY
_ANSWERED = QueryResultType.QUERY_RESULT_TYPE_ANSWERED
_HISTORY_FIELD = PollWorkflowTaskQueueResponse.DESCRIPTOR.fields_by_name["history"].number


@dataclass(frozen=True)
class QueryAnswer:
    result: Payloads | None = None
    rejected_status: int = 0


@dataclass
class _Pending:
    key: ExecutionKey
    query: WorkflowQuery
    answer: asyncio.Future[QueryAnswer]
    shared: bool = False
    """Offered to the other replicas too, so handing it out here needs the claim as well."""


def query_task(
    query_id: str, namespace_id: str, task_queue: str, key: ExecutionKey | None = None
) -> TaskRecord:
    """The in-memory task that hands a query to a poll of ``task_queue``."""
    workflow_id, run_id = (key.workflow_id, key.run_id) if key else ("", "")
    return TaskRecord(
        query_id, namespace_id, task_queue, TaskKind.WORKFLOW, workflow_id, run_id, 0, 1, query_id=query_id
    )


class Queries:
    """Hands queries to workers and their answers back to the callers."""

    def __init__(
        self,
        history: HistoryService,
        add_task: Callable[[TaskRecord], None],
        sticky_alive: Callable[[str, str], bool],
        link: ReplicaLink | None = None,
    ) -> None:
        self._history = history
        self._add_task = add_task
        self._sticky_alive = sticky_alive
        self._link = link
        self._pending: dict[str, _Pending] = {}
        self._reading: set[asyncio.Task[None]] = set()

    async def ask(
        self, key: ExecutionKey, query: WorkflowQuery, reject_condition: int, deadline: float
    ) -> QueryAnswer:
        entry = await self._history.load(key)
        rejected = _rejected(visibility_fields.shown_status(entry.state), reject_condition)
        if rejected:
            return QueryAnswer(rejected_status=rejected)
        while entry.state.running and (
            entry.state.previous_started_event_id == 0 or entry.state.workflow_task is not None
        ):
            # Wait until the worker has seen every event so far (the first task included),
            # so the answer reflects them, as Temporal's buffered queries do.
            if not await entry.wait_changed(deadline - time.monotonic()):
                raise DeadlineExceededError("context deadline exceeded")
            entry = await self._history.load(key)
        return await self._hand_out(key, entry.state, query, deadline)

    async def _hand_out(
        self, key: ExecutionKey, s: MutableState, query: WorkflowQuery, deadline: float
    ) -> QueryAnswer:
        """Queue the query (offering it to the other replicas too) and wait for its answer."""
        queue = self._queue_for(s)
        query_id = uuid.uuid4().hex
        answer: asyncio.Future[QueryAnswer] = asyncio.get_running_loop().create_future()
        pending = self._pending[query_id] = _Pending(
            key, query, answer, shared=self._link is not None and queue == s.task_queue
        )
        try:
            async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                if pending.shared:
                    await self._offer(query_id, s, query)
                self._add_task(query_task(query_id, s.namespace_id, queue, key))
                return await answer
        except TimeoutError as exc:
            raise DeadlineExceededError("context deadline exceeded") from exc
        finally:
            self._pending.pop(query_id, None)
            answer.cancel()
            if pending.shared:
                await asyncio.shield(self._forget(query_id))

    def _queue_for(self, s: MutableState) -> str:
        """The sticky queue if its worker polls here (it holds the workflow), else the normal one."""
        sticky = s.running and s.sticky_queue and self._sticky_alive(s.namespace_id, s.sticky_queue)
        # A pinned run is queried by its own version's workers, whatever version is current.
        return s.sticky_queue if sticky else versioning.routed_queue(s, UNROUTED, s.task_queue)

    async def _offer(self, query_id: str, s: MutableState, query: WorkflowQuery) -> None:
        """Store and announce the query, before any poll here can take it and try to claim it."""
        assert self._link is not None
        await self._link.offer_query(
            SharedQuery(
                query_id,
                self._link.replica_id,
                s.namespace_id,
                s.task_queue,
                s.workflow_id,
                s.run_id,
                query.SerializeToString(),
                time.time(),
            )
        )

    async def _forget(self, query_id: str) -> None:
        """The caller is done: drop the stored query (left behind, other replicas drop it
        once this one's lease runs out)."""
        assert self._link is not None
        try:
            await self._link.drop_query(query_id)
        except StorageError as exc:
            logger.warning("could not drop query %s: %s", query_id, exc)

    async def task_response(self, task: TaskRecord) -> bytes | None:
        """The poll response carrying a query, serialized; None if its caller gave up or
        another replica handed it out."""
        pending = self._pending.get(task.query_id)
        if pending is None:
            return await self._offered_task_response(task)
        if pending.shared:
            assert self._link is not None
            if await self._link.claim_query(task.query_id) is None:
                return None
        return await self._response(task.query_id, pending.key, pending.query, task.task_queue)

    async def _offered_task_response(self, task: TaskRecord) -> bytes | None:
        """A query another replica offered: claim it, then build it from the stored execution."""
        if self._link is None:
            return None
        shared = await self._link.claim_query(task.query_id)
        if shared is None:
            return None
        query = WorkflowQuery.FromString(shared.query)
        return await self._response(shared.query_id, shared.key, query, shared.task_queue)

    async def _response(
        self, query_id: str, key: ExecutionKey, query: WorkflowQuery, task_queue: str
    ) -> bytes:
        """The sticky worker holds the workflow and gets no history; any other worker
        replays it, and gets the stored events as stored."""
        entry = await self._history.load(key)
        s = entry.state
        token = TaskToken(s.namespace_id, s.workflow_id, s.run_id, 0, 1, query_id=query_id)
        response = PollWorkflowTaskQueueResponse(
            task_token=token.encode(),
            workflow_execution=WorkflowExecution(workflow_id=s.workflow_id, run_id=s.run_id),
            workflow_type=WorkflowType(name=s.workflow_type),
            previous_started_event_id=s.previous_started_event_id,
            attempt=1,
            query=query,
            workflow_execution_task_queue=ev.task_queue(s.task_queue),
        )
        # The SDK insists on a history, even an empty one.
        events: list[bytes] = []
        if task_queue == s.task_queue:  # not the sticky worker: it must replay
            events = (await self._history.cache.history(entry)).entries()
        return wire.with_field(response.SerializeToString(), _HISTORY_FIELD, events)

    async def answer(
        self,
        token: TaskToken,
        completed_type: int,
        result: Payloads | None,
        error_message: str,
        failure: Failure | None,
    ) -> None:
        """A worker's answer: to the caller waiting here, or stored for the replica it waits on."""
        pending = self._pending.get(token.query_id)
        if pending is not None:
            _resolve(pending, completed_type, result, error_message, failure)
        elif self._link is not None:
            await self._link.answer_query(
                token.query_id,
                QueryReply(
                    completed_type,
                    result.SerializeToString() if result is not None else None,
                    error_message,
                    failure.SerializeToString() if failure is not None else None,
                ),
            )

    def answered_elsewhere(self, query_id: str) -> None:
        """Another replica stored the answer to a query asked here: read it for its caller."""
        pending = self._pending.get(query_id)
        if pending is None or pending.answer.done():
            return
        reading = asyncio.create_task(self._read_reply(query_id, pending))
        self._reading.add(reading)
        reading.add_done_callback(self._reading.discard)

    def answers_missed(self) -> None:
        """Announcements may have gone unheard: look for the answers of every shared query."""
        for query_id, pending in list(self._pending.items()):
            if pending.shared:
                self.answered_elsewhere(query_id)

    async def _read_reply(self, query_id: str, pending: _Pending) -> None:
        assert self._link is not None
        try:
            reply = await self._link.query_reply(query_id)
        except StorageError as exc:
            if not pending.answer.done():
                pending.answer.set_exception(exc)
            return
        if reply is None:
            return
        result = Payloads.FromString(reply.result) if reply.result is not None else None
        failure = Failure.FromString(reply.failure) if reply.failure is not None else None
        _resolve(pending, reply.completed_type, result, reply.error_message, failure)


def _resolve(
    pending: _Pending,
    completed_type: int,
    result: Payloads | None,
    error_message: str,
    failure: Failure | None,
) -> None:
    """Hand the worker's answer (or failure) to the caller, if it still waits."""
    if pending.answer.done():
        return
    if completed_type == _ANSWERED:
        pending.answer.set_result(QueryAnswer(result=result))
    else:
        pending.answer.set_exception(QueryFailedError(error_message, failure))


def _rejected(status: int, condition: int) -> int:
    if status == _RUNNING:
        return 0
    if status == _PAUSED:
        return status  # no worker is handed a paused run's query, whatever the condition
    if condition == _NOT_OPEN:
        return status
    if condition == _NOT_COMPLETED_CLEANLY and status != _COMPLETED:
        return status
    return 0
