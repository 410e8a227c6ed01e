"""The audit log's rows as stored, and what a listing of them may filter on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

OK = "ok"
"""The outcome of a call that succeeded; a failed one records its gRPC status code's name."""


@dataclass(frozen=True)
class AuditRecord:
    """One audited call: who, on what, and how it ended."""

    time: float
    """When the call was recorded, in seconds since the epoch."""
    principal_kind: str
    principal_name: str
    namespace: str
    service: str
    """The gRPC service's full name (``temporal.api.workflowservice.v1.WorkflowService``)."""
    method: str
    workflow_id: str = ""
    run_id: str = ""
    schedule_id: str = ""
    request_id: str = ""
    outcome: str = OK
    """``ok``, or the name of the gRPC status code the call ended with (``PERMISSION_DENIED``)."""
    reason: str = ""
    """The error message of a failed call, bounded."""
    identity: str = ""
    """The ``identity`` field the client set on the request (a worker or CLI name)."""
    id: int = 0
    """The row's number, increasing with each row written; 0 for a row not yet stored."""

    def row(self) -> tuple[object, ...]:
        """The values ``insert_audit`` takes, in order."""
        return (
            self.time,
            self.principal_kind,
            self.principal_name,
            self.namespace,
            self.service,
            self.method,
            self.workflow_id,
            self.run_id,
            self.schedule_id,
            self.request_id,
            self.outcome,
            self.reason,
            self.identity,
        )


COLUMNS = (
    "id, recorded_at, principal_kind, principal_name, namespace, service, method, workflow_id, run_id, "
    "schedule_id, request_id, outcome, reason, identity"
)
"""The columns a listing reads, in the order ``from_row`` takes them."""


def from_row(values: Sequence[Any]) -> AuditRecord:
    """A record from a listing's row (``COLUMNS``)."""
    text = [str(value) for value in values[2:]]
    return AuditRecord(
        time=float(values[1]),
        principal_kind=text[0],
        principal_name=text[1],
        namespace=text[2],
        service=text[3],
        method=text[4],
        workflow_id=text[5],
        run_id=text[6],
        schedule_id=text[7],
        request_id=text[8],
        outcome=text[9],
        reason=text[10],
        identity=text[11],
        id=int(values[0]),
    )


@dataclass(frozen=True)
class AuditFilter:
    """Which rows a listing wants: newest first, each condition optional."""

    namespace: str | None = None
    principal: str | None = None
    """A principal's name, of any kind."""
    since: float | None = None
    """Rows recorded at or after this time (seconds since the epoch)."""
    before_id: int | None = None
    """Rows older than this one (the next page of a listing)."""
    limit: int = 100
