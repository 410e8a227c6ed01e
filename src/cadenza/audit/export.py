"""Audit rows as JSON: one object per row, written one per line for export."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from cadenza.persistence.audit_records import AuditRecord


def iso_time(seconds: float) -> str:
    """``seconds`` since the epoch as an ISO 8601 UTC time with microseconds."""
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def as_json(record: AuditRecord) -> dict[str, Any]:
    """The row as a JSON object; names follow Temporal's JSON (camelCase)."""
    return {
        "id": record.id,
        "time": iso_time(record.time),
        "principal": {"type": record.principal_kind, "name": record.principal_name},
        "namespace": record.namespace,
        "service": record.service,
        "method": record.method,
        "workflowId": record.workflow_id,
        "runId": record.run_id,
        "scheduleId": record.schedule_id,
        "requestId": record.request_id,
        "outcome": record.outcome,
        "reason": record.reason,
        "identity": record.identity,
    }


def json_lines(records: Iterable[AuditRecord]) -> str:
    """One JSON object per line, each line ended."""
    return "".join(json.dumps(as_json(record), separators=(",", ":")) + "\n" for record in records)
