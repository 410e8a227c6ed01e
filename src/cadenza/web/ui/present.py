"""Protobuf values as a page shows them: payloads decoded, times readable, events summed up."""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.api.enums.v1 import EventType, NamespaceState, PendingActivityState, WorkflowExecutionStatus
from temporalio.api.history.v1 import HistoryEvent

from cadenza.web.temporal_api.json_encode import EncodeError, Style, to_json_value
from cadenza.web.temporal_api.payloads import JSON_PLAIN, NotShorthand, payload_value

SHORTHAND = Style("application/json", shorthand=True)
FULL = Style("application/json", shorthand=False)

STATUS_PREFIX = "WORKFLOW_EXECUTION_STATUS_"
EVENT_PREFIX = "EVENT_TYPE_"
STATUSES = tuple(
    name.removeprefix(STATUS_PREFIX).title().replace("_", "")
    for name in (value.name for value in WorkflowExecutionStatus.DESCRIPTOR.values)
    if not name.endswith("UNSPECIFIED")
)
"""The statuses as the list-filter language spells them (``ContinuedAsNew``)."""


def status_name(status: int) -> str:
    """``Running``, ``Completed``...: the name a filter on ExecutionStatus takes."""
    name: str = WorkflowExecutionStatus.Name(status)  # type: ignore[arg-type]
    return name.removeprefix(STATUS_PREFIX).title().replace("_", "")


def namespace_state(state: int) -> str:
    name: str = NamespaceState.Name(state)  # type: ignore[arg-type]
    return name.removeprefix("NAMESPACE_STATE_").title()


def activity_state(state: int) -> str:
    name: str = PendingActivityState.Name(state)  # type: ignore[arg-type]
    return name.removeprefix("PENDING_ACTIVITY_STATE_").title().replace("_", " ")


def event_type_name(event_type: int) -> str:
    """``WorkflowExecutionStarted``: an event type as Temporal's UI names it."""
    name: str = EventType.Name(event_type)  # type: ignore[arg-type]
    return name.removeprefix(EVENT_PREFIX).title().replace("_", "")


def when(stamp: Timestamp) -> str:
    """A timestamp as UTC text; empty when unset."""
    if not stamp.seconds and not stamp.nanos:
        return ""
    # The seconds as ISO text, the fastest way a datetime writes them (exports write many);
    # strftime for years before 1000, which it writes unpadded.
    moment = _EPOCH + datetime.timedelta(seconds=stamp.seconds)
    text = moment.isoformat(sep=" ") if moment.year >= 1000 else moment.strftime("%Y-%m-%d %H:%M:%S")
    return f"{text}.{stamp.nanos // 1_000_000:03d} UTC"


_EPOCH = datetime.datetime(1970, 1, 1)


def pretty(value: Any) -> str:
    """``value`` as JSON indented by two spaces, as ``json.dumps(indent=2)`` writes it.

    orjson writes the same text many times faster (a run's page shows every event so), except
    for what this falls back for: integers past 64 bits and lone surrogates (which it refuses),
    numbers json writes in exponent form (``1e-05``: it writes ``0.00001``) and NaN or infinity
    (it writes ``null``), all found in its text by ``_MAY_DIFFER``.
    """
    try:
        text = orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()
    except TypeError:
        return _pretty_by_json(value)
    return _pretty_by_json(value) if _MAY_DIFFER.search(text) else text


_MAY_DIFFER = re.compile(r"null|(?:^ *|: )-?(?:\d+(?:\.\d+)?[eE]|0\.0000|\d{16})", re.MULTILINE)
"""Where orjson's text may not be json's: a null (NaN and infinity become one), a number in
exponent form, or one json writes so (under 1e-4, or of 16 digits or more). Every number orjson
writes starts a line or follows ``": "``; a string that merely looks so costs the slower way."""


def _pretty_by_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False)


@dataclass(frozen=True)
class Shown:
    """A payload (or several) as a page shows it: decoded JSON, and its raw form."""

    decoded: str
    raw: str


def shown_payload(payload: Payload) -> Shown:
    raw = pretty(to_json_value(payload, FULL))
    try:
        decoded = pretty(_decoded(payload))
    except NotShorthand:
        encoding = payload.metadata.get("encoding", b"").decode(errors="replace") or "no encoding"
        decoded = f"({encoding}: {len(payload.data)} bytes, see the raw form)"
    except ValueError as error:
        decoded = f"(not the JSON its encoding claims: {error})"
    return Shown(decoded, raw)


def _decoded(payload: Payload) -> Any:
    """The JSON value a payload holds: its shorthand, or the data of any ``json/plain`` one
    (search attributes carry their type beside the encoding, so have no shorthand)."""
    if payload.metadata.get("encoding") == JSON_PLAIN:
        return json.loads(payload.data)
    return payload_value(payload)


def shown_payloads(payloads: Payloads) -> list[Shown]:
    return [shown_payload(payload) for payload in payloads.payloads]


def as_json(message: Message) -> str:
    """A message as indented JSON, payloads shown as their values where they can be."""
    try:
        return pretty(to_json_value(message, SHORTHAND))
    except (EncodeError, ValueError):
        return pretty(to_json_value(message, FULL))


def attributes_of(event: HistoryEvent) -> Message | None:
    """The event's ``*_event_attributes`` message, whichever it is."""
    which = event.WhichOneof("attributes")
    return None if which is None else getattr(event, which)


_SUMMARY_FIELDS = (
    "workflow_type",
    "activity_type",
    "activity_id",
    "timer_id",
    "signal_name",
    "task_queue",
    "reason",
    "identity",
    "failure",
    "start_to_fire_timeout",
)


def summary(event: HistoryEvent) -> str:
    """One line naming what matters of an event, for the compact list."""
    attributes = attributes_of(event)
    if attributes is None:
        return ""
    parts = []
    for name in _SUMMARY_FIELDS:
        if name not in attributes.DESCRIPTOR.fields_by_name or not _has(attributes, name):
            continue
        parts.append(f"{name}: {_short(getattr(attributes, name))}")
    return ", ".join(parts[:3])


def _has(message: Message, name: str) -> bool:
    field = message.DESCRIPTOR.fields_by_name[name]
    if field.message_type is not None:
        return message.HasField(name)
    return bool(getattr(message, name))


def _short(value: Any) -> str:
    if isinstance(value, Message):
        for inner in ("name", "message"):
            if inner in value.DESCRIPTOR.fields_by_name:
                return str(getattr(value, inner))
        return value.ToJsonString() if hasattr(value, "ToJsonString") else str(value)
    return str(value)


def csv_rows(executions: Iterable[Any]) -> Iterable[list[str]]:
    """The rows of an export: a header, then one row per execution."""
    yield ["workflowId", "runId", "type", "status", "taskQueue", "startTime", "closeTime", "historyLength"]
    for info in executions:
        yield [
            info.execution.workflow_id,
            info.execution.run_id,
            info.type.name,
            status_name(info.status),
            info.task_queue,
            when(info.start_time),
            when(info.close_time),
            str(info.history_length),
        ]


FULL_PRETTY = Style("application/json", shorthand=False, pretty=True)
