"""The workflow list's columns: Temporal UI's six by default, or any system field and any
search attribute of the namespace, each shown as text (payloads decoded, times readable)."""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Iterable, Mapping

from google.protobuf.duration_pb2 import Duration
from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.workflow.v1 import WorkflowExecutionInfo

from cadenza.web.ui import present

DEFAULT_COLUMNS = ("ExecutionStatus", "WorkflowId", "RunId", "WorkflowType", "StartTime", "CloseTime")
"""What Temporal's UI shows: status, workflow ID, run ID, type, start, end."""

LABELS = {
    "ExecutionStatus": "Status",
    "WorkflowId": "Workflow ID",
    "RunId": "Run ID",
    "WorkflowType": "Type",
    "StartTime": "Start",
    "CloseTime": "End",
    "ExecutionTime": "Execution time",
    "ExecutionDuration": "Duration",
    "TaskQueue": "Task queue",
    "HistoryLength": "History length",
    "HistorySizeBytes": "History size (bytes)",
    "StateTransitionCount": "State transitions",
    "ParentWorkflowId": "Parent workflow ID",
    "ParentRunId": "Parent run ID",
    "RootWorkflowId": "Root workflow ID",
    "RootRunId": "Root run ID",
}
"""Column headings; a search attribute is headed by its own name."""

_FIELDS: dict[str, Callable[[WorkflowExecutionInfo], str]] = {
    "ExecutionStatus": lambda info: present.status_name(info.status),
    "WorkflowId": lambda info: info.execution.workflow_id,
    "RunId": lambda info: info.execution.run_id,
    "WorkflowType": lambda info: info.type.name,
    "StartTime": lambda info: present.when(info.start_time),
    "CloseTime": lambda info: present.when(info.close_time),
    "ExecutionTime": lambda info: present.when(info.execution_time),
    "ExecutionDuration": lambda info: _duration(info.execution_duration),
    "TaskQueue": lambda info: info.task_queue,
    "HistoryLength": lambda info: str(info.history_length or ""),
    "HistorySizeBytes": lambda info: str(info.history_size_bytes or ""),
    "StateTransitionCount": lambda info: str(info.state_transition_count or ""),
    "ParentWorkflowId": lambda info: info.parent_execution.workflow_id,
    "ParentRunId": lambda info: info.parent_execution.run_id,
    "RootWorkflowId": lambda info: info.root_execution.workflow_id,
    "RootRunId": lambda info: info.root_execution.run_id,
}
"""Fields every listed execution carries, by the name the filter language gives them."""


def available(system: Mapping[str, int], custom: Mapping[str, int]) -> list[str]:
    """Every column a person may choose: the defaults, the other fields, then the namespace's
    system and custom search attributes (from ListSearchAttributes), each once."""
    names = [*DEFAULT_COLUMNS, *_FIELDS, *sorted(system), *sorted(custom)]
    return list(dict.fromkeys(names))


def chosen(asked: Iterable[str], choices: list[str]) -> list[str]:
    """The columns asked for that exist, in the order asked; the defaults when none does."""
    known = set(choices)
    picked = [name for name in dict.fromkeys(asked) if name in known]
    return picked or list(DEFAULT_COLUMNS)


def label(name: str) -> str:
    return LABELS.get(name, name)


def cell(info: WorkflowExecutionInfo, name: str, types: Mapping[str, int]) -> str:
    """The column ``name`` of one execution as text; empty when it has no value."""
    field = _FIELDS.get(name)
    if field is not None:
        return field(info)
    payload = info.search_attributes.indexed_fields.get(name)
    return "" if payload is None else decoded(payload, types.get(name, 0))


def decoded(payload: Payload, kind: int) -> str:
    """A search attribute's payload as text: a time readable, a keyword list joined."""
    try:
        value = json.loads(payload.data)
    except ValueError:
        return f"({len(payload.data)} bytes)"
    if kind == IndexedValueType.INDEXED_VALUE_TYPE_DATETIME and isinstance(value, str):
        return _datetime(value)
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _datetime(text: str) -> str:
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        return text
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _duration(duration: Duration) -> str:
    if not duration.seconds and not duration.nanos:
        return ""
    return str(duration.ToTimedelta())
