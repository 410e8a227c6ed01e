"""Search attributes: the built-in ones, custom ones and their types, and value conversion."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import IndexedValueType, WorkflowExecutionStatus

from cadenza.exceptions import InvalidArgumentError

T = IndexedValueType
KEYWORD = T.INDEXED_VALUE_TYPE_KEYWORD
TEXT = T.INDEXED_VALUE_TYPE_TEXT
INT = T.INDEXED_VALUE_TYPE_INT
DOUBLE = T.INDEXED_VALUE_TYPE_DOUBLE
BOOL = T.INDEXED_VALUE_TYPE_BOOL
DATETIME = T.INDEXED_VALUE_TYPE_DATETIME
KEYWORD_LIST = T.INDEXED_VALUE_TYPE_KEYWORD_LIST

# Built-in attributes: name -> (column, type).
BUILT_IN: dict[str, tuple[str, int]] = {
    "WorkflowId": ("workflow_id", KEYWORD),
    "RunId": ("run_id", KEYWORD),
    "WorkflowType": ("workflow_type", KEYWORD),
    "TaskQueue": ("task_queue", KEYWORD),
    "ExecutionStatus": ("status", KEYWORD),
    "StartTime": ("start_time", DATETIME),
    "CloseTime": ("close_time", DATETIME),
    "ExecutionTime": ("execution_time", DATETIME),
    "HistoryLength": ("history_length", INT),
}
# Attributes Temporal itself sets (patches, schedules); always known.
SYSTEM_CUSTOM: dict[str, int] = {
    "TemporalChangeVersion": KEYWORD_LIST,
    "BinaryChecksums": KEYWORD_LIST,
    "BuildIds": KEYWORD_LIST,
    "TemporalScheduledStartTime": DATETIME,
    "TemporalScheduledById": KEYWORD,
    "TemporalSchedulePaused": BOOL,
    "TemporalNamespaceDivision": KEYWORD,
}
TYPE_NAMES = {
    KEYWORD: "Keyword", TEXT: "Text", INT: "Int", DOUBLE: "Double", BOOL: "Bool",
    DATETIME: "Datetime", KEYWORD_LIST: "KeywordList",
}
_STATUS_NAMES = {
    "Running": WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING,
    "Completed": WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED,
    "Failed": WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_FAILED,
    "Canceled": WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_CANCELED,
    "Terminated": WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_TERMINATED,
    "ContinuedAsNew": WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW,
    "TimedOut": WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_TIMED_OUT,
}
STATUS_BY_NUMBER: dict[int, str] = {int(number): name for name, number in _STATUS_NAMES.items()}


def status_number(value: object) -> int:
    if isinstance(value, str) and value in _STATUS_NAMES:
        return _STATUS_NAMES[value]
    raise InvalidArgumentError(f"invalid ExecutionStatus value {value!r}")


def to_epoch(value: object) -> float:
    """A Datetime attribute value (RFC 3339 text, or epoch nanoseconds) as epoch seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value) / 1e9
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            pass
    raise InvalidArgumentError(f"invalid datetime value {value!r}")


def decode(payload: Payload) -> Any:
    """A search attribute payload's value (None when it unsets the attribute)."""
    if payload.metadata.get("encoding") == b"binary/null" or not payload.data:
        return None
    try:
        return json.loads(payload.data)
    except ValueError as exc:
        raise InvalidArgumentError("search attribute value is not JSON") from exc


def payload_type(payload: Payload) -> str:
    return payload.metadata.get("type", b"").decode()


def stored_value(kind: int, value: Any) -> Any:
    """The form a value is kept in for filtering: datetimes as epoch seconds."""
    if kind == DATETIME and value is not None:
        return to_epoch(value)
    return value
