"""The server's logging: one handler on stderr, in text or JSON, each record about a request
carrying that request's fields.

A text line reads ``TIME LEVEL LOGGER [rpc=... request_id=... namespace=... workflow_id=...
run_id=...]: message``; the bracket is left out of lines about no request. A JSON line is
one object: ``time``, ``level``, ``logger``, ``message``, the same request fields, and any
``extra`` fields the record was logged with (``task_queue``, ``status``...). While tracing
is on, a request's lines also carry the ``trace_id`` of its span.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from pythonjsonlogger.orjson import OrjsonFormatter

from cadenza.observability.scope import current

CONTEXT_FIELDS = ("rpc", "request_id", "namespace", "workflow_id", "run_id", "trace_id")
"""The fields of a record logged while serving a request, in the order text lines show them
(``trace_id`` only while tracing is on)."""


class RequestContextFilter(logging.Filter):
    """Adds the fields of the request being served to each record; a field the record was
    logged with (``extra={"workflow_id": ...}``, say a child's) is kept, as it is more exact."""

    def filter(self, record: logging.LogRecord) -> bool:
        scope = current.get()
        if scope is not None:
            for key, value in scope.fields().items():
                record.__dict__.setdefault(key, value)
        return True


class TextFormatter(logging.Formatter):
    """``TIME LEVEL LOGGER [request fields]: message``, the message last so a line reads as
    plain text and ``grep`` finds the fields."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        return f"{record.asctime} {record.levelname} {record.name}{_bracketed(record)}: {record.message}"


def _bracketed(record: logging.LogRecord) -> str:
    shown = [f"{key}={_quoted(value)}" for key in CONTEXT_FIELDS if (value := record.__dict__.get(key))]
    return f" [{' '.join(shown)}]" if shown else ""


def _quoted(value: object) -> str:
    """The value as is, or as a JSON string when it would blur the bracket (IDs are free text)."""
    text = str(value)
    if not text or any(char.isspace() or char in '"=[]' for char in text):
        return orjson.dumps(text).decode()
    return text


class JsonFormatter(OrjsonFormatter):
    """One JSON object per line: ``time`` (RFC 3339, UTC), ``level``, ``logger``, ``message``,
    then the request's fields and the record's extras; a traceback as ``exc_info``."""

    def __init__(self) -> None:
        super().__init__(
            "{levelname}{name}{message}",
            style="{",
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp="time",
        )

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        # Time first, as a reader scans for it.
        return {"time": log_data.pop("time"), **log_data}


def configure(level: str, log_format: str) -> None:
    """Send every logger's records at ``level`` and above to stderr, in ``log_format``
    (``text`` or ``json``), with the fields of the request each is about."""
    handler = logging.StreamHandler()
    handler.addFilter(RequestContextFilter())
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    logging.basicConfig(level=level.upper(), handlers=[handler])
    # Python's warnings become records too, so that a JSON log stays one object per line.
    logging.captureWarnings(True)
