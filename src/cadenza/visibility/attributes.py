"""Search attributes: the built-in ones, custom ones and their types, and value conversion."""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import UTC, datetime
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
SCHEDULE_BUILT_IN: dict[str, tuple[str, int]] = {"ScheduleId": ("schedule_id", KEYWORD)}
"""The built-in attributes of a schedule listing: the schedules table's own columns."""
# Attributes Temporal itself defines; always known, kept with the custom ones (unset
# until something sets them), so a filter on one is valid even where it matches nothing.
SYSTEM_CUSTOM: dict[str, int] = {
    "TemporalChangeVersion": KEYWORD_LIST,
    "BinaryChecksums": KEYWORD_LIST,
    "BuildIds": KEYWORD_LIST,
    "TemporalScheduledStartTime": DATETIME,
    "TemporalScheduledById": KEYWORD,
    "TemporalSchedulePaused": BOOL,
    "TemporalNamespaceDivision": KEYWORD,
    "BatcherNamespace": KEYWORD,
    "BatcherUser": KEYWORD,
    "ParentWorkflowId": KEYWORD,
    "ParentRunId": KEYWORD,
    "RootWorkflowId": KEYWORD,
    "RootRunId": KEYWORD,
    "ExecutionDuration": INT,
    "HistorySizeBytes": INT,
    "StateTransitionCount": INT,
    "TemporalExternalPayloadCount": INT,
    "TemporalExternalPayloadSizeBytes": INT,
    "TemporalPauseInfo": KEYWORD_LIST,
    "TemporalReportedProblems": KEYWORD_LIST,
    "TemporalUsedWorkerDeploymentVersions": KEYWORD_LIST,
    "TemporalWorkerDeployment": KEYWORD,
    "TemporalWorkerDeploymentVersion": KEYWORD,
    "TemporalWorkflowVersioningBehavior": KEYWORD,
}
SYSTEM_TYPES: dict[str, int] = {name: kind for name, (_, kind) in BUILT_IN.items()} | SYSTEM_CUSTOM
"""Every attribute Temporal defines, built in or not, and its type: what the RPCs list as system."""
# System attributes whose values are the run's own facts, kept with its filterable values.
ROOT_WORKFLOW_ID = "RootWorkflowId"
ROOT_RUN_ID = "RootRunId"
PARENT_WORKFLOW_ID = "ParentWorkflowId"
PARENT_RUN_ID = "ParentRunId"
HISTORY_SIZE_BYTES = "HistorySizeBytes"
STATE_TRANSITION_COUNT = "StateTransitionCount"
SERVER_SET = frozenset(
    {
        "ParentWorkflowId",
        "ParentRunId",
        "RootWorkflowId",
        "RootRunId",
        "ExecutionDuration",
        "HistorySizeBytes",
        "StateTransitionCount",
        "TemporalExternalPayloadCount",
        "TemporalExternalPayloadSizeBytes",
        "TemporalUsedWorkerDeploymentVersions",
        "TemporalWorkerDeployment",
        "TemporalWorkerDeploymentVersion",
        "TemporalWorkflowVersioningBehavior",
    }
)
"""Attributes of ``SYSTEM_CUSTOM`` only the server sets: clients may filter on them, not set them."""
TYPE_NAMES: dict[int, str] = {
    KEYWORD: "Keyword",
    TEXT: "Text",
    INT: "Int",
    DOUBLE: "Double",
    BOOL: "Bool",
    DATETIME: "Datetime",
    KEYWORD_LIST: "KeywordList",
}
_STATUS_NAMES = {
    "Running": WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING,
    "Completed": WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED,
    "Failed": WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_FAILED,
    "Canceled": WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_CANCELED,
    "Terminated": WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_TERMINATED,
    "ContinuedAsNew": WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW,
    "TimedOut": WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_TIMED_OUT,
    "Paused": WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_PAUSED,
}
STATUS_BY_NUMBER: dict[int, str] = {int(number): name for name, number in _STATUS_NAMES.items()}


# RFC 3339 as Temporal parses it: a full date and time with a zone.
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")


def status_number(value: object) -> int:
    """An ExecutionStatus filter value (its name, or its enum number) as the enum number."""
    if isinstance(value, str) and value in _STATUS_NAMES:
        return _STATUS_NAMES[value]
    if isinstance(value, int) and not isinstance(value, bool) and value in STATUS_BY_NUMBER:
        return value
    raise InvalidArgumentError(f"invalid query: invalid expression: invalid ExecutionStatus value {value!r}")


def to_epoch(value: object) -> float:
    """A Datetime attribute value (RFC 3339 text, or epoch nanoseconds) as epoch seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value) / 1e9
    if isinstance(value, str) and _RFC3339.fullmatch(value):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00")).timestamp()
        except ValueError:
            pass
    raise InvalidArgumentError(f"invalid query: invalid expression: unable to parse datetime {value!r}")


def text_words(text: str) -> list[str]:
    """The words full-text matching sees, as Temporal's tokenizer makes them.

    Case and diacritics are folded away; anything but a letter or a digit
    separates words (so "brown-fox" and "brown_fox" are the words brown, fox).
    """
    decomposed = unicodedata.normalize("NFKD", text)
    folded = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return re.findall(r"[^\W_]+", folded)


def text_index_form(text: str) -> str:
    """How a Text value is kept for filtering: its words between single spaces.

    A phrase then matches exactly when " phrase words " occurs in it.
    """
    return " " + " ".join(text_words(text)) + " "


def text_phrases(query_value: str) -> tuple[str, ...]:
    """A Text filter value as phrases, any of which may match: one per space-separated part."""
    phrases = (text_index_form(part) for part in query_value.split(" ") if part)
    return tuple(phrase for phrase in phrases if phrase.strip())


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
    """The form a value is kept in for filtering: datetimes as epoch seconds, Text as words.

    A one-item list given for a single-valued attribute stands for its item, an empty
    one for no value, as on Temporal.
    """
    if kind != KEYWORD_LIST and isinstance(value, list):
        value = value[0] if len(value) == 1 else None
    if kind == DATETIME and isinstance(value, str):
        # Values come from SDKs, which may leave out the zone; read them as UTC then.
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
    if kind == DATETIME and value is not None:
        return to_epoch(value)
    if kind == TEXT and isinstance(value, str):
        return text_index_form(value)
    return value
