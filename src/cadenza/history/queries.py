"""Queries: asked of a workflow's worker through its task queue, answered out of band.

A query task lives only in memory. It goes to the sticky worker, which holds
the workflow and needs no history, or else to the normal queue with the whole
history so any worker can replay it. A query waits while a workflow task is
pending, so the answer reflects every event that came before the query.
"""

from __future__ import annotations

import asyncio
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
from cadenza.history import events as ev
from cadenza.history.service import HistoryService
from cadenza.history.tokens import TaskToken
from cadenza.persistence.records import ExecutionKey, TaskKind, TaskRecord

_COMPLETED = WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED


@dataclass(frozen=True)
class QueryAnswer:
    result: Payloads | None = None
    rejected_status: int = 0


@dataclass
class _Pending:
    key: ExecutionKey
    query: WorkflowQuery
    answer: asyncio.Future[QueryAnswer]


class Queries:
    """Hands queries to workers and their answers back to the callers."""

    def __init__(self, history: HistoryService, add_task: Callable[[TaskRecord], None],
                 sticky_alive: Callable[[str, str], bool]) -> None:
        self._history = history
        self._add_task = add_task
        self._sticky_alive = sticky_alive
        self._pending: dict[str, _Pending] = {}

    async def ask(self, key: ExecutionKey, query: WorkflowQuery, reject_condition: int,
                  deadline: float) -> QueryAnswer:
        entry = await self._history.load(key)
        rejected = _rejected(entry.state.status, reject_condition)
        if rejected:
            return QueryAnswer(rejected_status=rejected)
        while entry.state.running and (entry.state.previous_started_event_id == 0
                                       or entry.state.workflow_task is not None):
            # Wait until the worker has seen every event so far (the first task included),
            # so the answer reflects them, as Temporal's buffered queries do.
            if not await entry.wait_changed(deadline - time.monotonic()):
                raise DeadlineExceededError("context deadline exceeded")
            entry = await self._history.load(key)
        query_id = uuid.uuid4().hex
        answer: asyncio.Future[QueryAnswer] = asyncio.get_running_loop().create_future()
        self._pending[query_id] = _Pending(key, query, answer)
        try:
            s = entry.state
            sticky = s.running and s.sticky_queue and self._sticky_alive(
                s.namespace_id, s.sticky_queue)
            queue = s.sticky_queue if sticky else s.task_queue
            self._add_task(TaskRecord(
                query_id, s.namespace_id, queue, TaskKind.WORKFLOW, s.workflow_id, s.run_id,
                0, 1, query_id=query_id))
            return await asyncio.wait_for(answer, max(0.0, deadline - time.monotonic()))
        except TimeoutError as exc:
            raise DeadlineExceededError("context deadline exceeded") from exc
        finally:
            self._pending.pop(query_id, None)

    async def task_response(self, task: TaskRecord) -> PollWorkflowTaskQueueResponse | None:
        """The poll response carrying a query; None if its caller gave up."""
        pending = self._pending.get(task.query_id)
        if pending is None:
            return None
        entry = await self._history.load(pending.key)
        s = entry.state
        token = TaskToken(s.namespace_id, s.workflow_id, s.run_id, 0, 1, query_id=task.query_id)
        response = PollWorkflowTaskQueueResponse(
            task_token=token.encode(),
            workflow_execution=WorkflowExecution(workflow_id=s.workflow_id, run_id=s.run_id),
            workflow_type=WorkflowType(name=s.workflow_type),
            previous_started_event_id=s.previous_started_event_id,
            attempt=1,
            query=pending.query,
            workflow_execution_task_queue=ev.task_queue(s.task_queue),
        )
        response.history.SetInParent()  # the SDK insists on a history, even an empty one
        if task.task_queue == s.task_queue:  # not the sticky worker: it must replay
            response.history.events.extend(await self._history.cache.history(entry))
        return response

    def answer(self, token: TaskToken, completed_type: int, result: Payloads | None,
               error_message: str, failure: Failure | None) -> None:
        pending = self._pending.get(token.query_id)
        if pending is None or pending.answer.done():
            return
        if completed_type == QueryResultType.QUERY_RESULT_TYPE_ANSWERED:
            pending.answer.set_result(QueryAnswer(result=result))
        else:
            pending.answer.set_exception(QueryFailedError(error_message, failure))


def _rejected(status: int, condition: int) -> int:
    if status == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING:
        return 0
    if condition == QueryRejectCondition.QUERY_REJECT_CONDITION_NOT_OPEN:
        return status
    if condition == QueryRejectCondition.QUERY_REJECT_CONDITION_NOT_COMPLETED_CLEANLY and (
            status != _COMPLETED):
        return status
    return 0
