"""What a schedule does to workflows: start them, watch them, cancel or terminate them."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from temporalio.api.common.v1 import Payload, Payloads
from temporalio.api.enums.v1 import (
    EventType,
    HistoryEventFilterType,
    ScheduleOverlapPolicy,
    WorkflowExecutionStatus,
    WorkflowIdReusePolicy,
)
from temporalio.api.failure.v1 import Failure
from temporalio.api.workflowservice.v1 import StartWorkflowExecutionRequest

from cadenza.concurrency.starts import NOT_YET, StartSlots
from cadenza.exceptions import CadenzaError
from cadenza.history.service import HistoryService
from cadenza.history.service.reads import HistoryReader
from cadenza.namespaces import NamespaceRegistry
from cadenza.persistence.records import ExecutionKey
from cadenza.persistence.roles import ExecutionReader
from cadenza.schedules import scheduler
from cadenza.schedules.record import BufferedStart, ScheduleRecord

logger = logging.getLogger(__name__)

_OPTIONAL_FIELDS = (
    "input",
    "workflow_execution_timeout",
    "workflow_run_timeout",
    "workflow_task_timeout",
    "retry_policy",
    "memo",
    "header",
    "user_metadata",
    "priority",
)
_RUNNING = WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING


@dataclass(frozen=True)
class Closed:
    """How a watched workflow ended."""

    status: int
    result: Payloads | None
    failure: Failure | None


class Actions:
    """The schedule's hands on the engine; every call is an ordinary engine change."""

    def __init__(
        self,
        store: ExecutionReader,
        history: HistoryService,
        reader: HistoryReader,
        namespaces: NamespaceRegistry,
    ) -> None:
        self._store = store
        self._history = history
        self._reader = reader
        self._namespaces = namespaces
        self.start_slots = StartSlots(None)
        """The concurrency limits' slots a scheduled start takes (set by the server)."""

    async def start(self, record: ScheduleRecord, start: BufferedStart) -> tuple[str, str] | None:
        """Start the schedule's workflow for one action; (workflow ID, run ID), or None while a
        ``queue`` concurrency limit it falls under is full (the start should wait in the
        buffer). A full ``reject`` limit refuses it with ``ResourceExhaustedError``."""
        request = start_request(record, start)
        namespace = await self._namespaces.get(record.namespace)
        result = await self.start_slots.start(
            namespace.id,
            request,
            lambda _await_slot: self._history.start_workflow(namespace, request),
            NOT_YET,
        )
        if result is None:
            return None
        return request.workflow_id, result.run_id

    async def closed(self, namespace_id: str, workflow_id: str) -> Closed | None:
        """How the workflow's latest run ended, or None while it is still running."""
        current = await self._store.get_current_execution(namespace_id, workflow_id)
        if current is None:
            return Closed(WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_TERMINATED, None, None)
        if current.status == _RUNNING:
            return None
        key = ExecutionKey(namespace_id, workflow_id, current.run_id)
        page = await self._reader.page(
            key,
            page_size=1,
            token=b"",
            wait_new_event=False,
            deadline=0.0,
            filter_type=HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT,
        )
        result, failure = _outcome(page.events[-1]) if page.events else (None, None)
        return Closed(current.status, result, failure)

    async def cancel(self, namespace_id: str, workflow_id: str, identity: str) -> None:
        try:
            key = await self._history.resolve_run(namespace_id, workflow_id, "")
            await self._history.request_cancel_workflow(key, "cancelled by schedule overlap policy", identity)
        except CadenzaError as error:
            logger.info("schedule could not cancel %s: %s", workflow_id, error.message)

    async def terminate(self, namespace_id: str, workflow_id: str, identity: str) -> None:
        try:
            key = await self._history.resolve_run(namespace_id, workflow_id, "")
            await self._history.terminate_workflow(
                key, "terminated by schedule overlap policy", None, identity
            )
        except CadenzaError as error:
            logger.info("schedule could not terminate %s: %s", workflow_id, error.message)


def identity(record: ScheduleRecord) -> str:
    return f"temporal-scheduler-{record.namespace}-{record.schedule_id}"


def start_request(record: ScheduleRecord, start: BufferedStart) -> StartWorkflowExecutionRequest:
    """The start request Temporal's scheduler makes for one action."""
    action = record.schedule.action.start_workflow
    request = StartWorkflowExecutionRequest(
        namespace=record.namespace,
        workflow_id=scheduler.workflow_id_for(action.workflow_id, start.nominal),
        identity=identity(record),
        request_id=start.request_id,
        workflow_id_reuse_policy=(
            WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE
            if start.manual
            else WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE
        ),
    )
    request.workflow_type.CopyFrom(action.workflow_type)
    request.task_queue.CopyFrom(action.task_queue)
    for name in _OPTIONAL_FIELDS:
        if action.HasField(name):  # type: ignore[arg-type]
            getattr(request, name).CopyFrom(getattr(action, name))
    request.search_attributes.CopyFrom(action.search_attributes)
    fields = request.search_attributes.indexed_fields
    fields["TemporalScheduledStartTime"].CopyFrom(
        _typed(scheduler.workflow_id_for("", start.nominal)[1:], "Datetime")
    )
    fields["TemporalScheduledById"].CopyFrom(_typed(record.schedule_id, "Keyword"))
    overlap = scheduler.resolve_start_policy(record, start)
    if overlap != ScheduleOverlapPolicy.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL:
        # Runs that may overlap take no part in passing results along.
        if record.last_completion_result is not None:
            request.last_completion_result.CopyFrom(record.last_completion_result)
        if record.continued_failure is not None:
            request.continued_failure.CopyFrom(record.continued_failure)
    return request


def _typed(value: str, kind: str) -> Payload:
    return Payload(
        metadata={"encoding": b"json/plain", "type": kind.encode()}, data=json.dumps(value).encode()
    )


def _outcome(event: object) -> tuple[Payloads | None, Failure | None]:
    kind = getattr(event, "event_type", 0)
    if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
        return event.workflow_execution_completed_event_attributes.result, None  # type: ignore[attr-defined]
    if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
        return None, event.workflow_execution_failed_event_attributes.failure  # type: ignore[attr-defined]
    return None, None
