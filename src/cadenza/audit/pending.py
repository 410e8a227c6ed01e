"""The row of the call being handled, waiting to be committed with the change it records.

The audit wrapper sets ``pending_audit`` around a mutating call. When the engine
commits a change to the workflow the call names, it takes the row into that
change's write (``ExecutionWrite.audit``), so both land in one transaction or
neither does: a commit that loses a conflict writes no row, and the retry that
follows carries the row again. Once a commit with the row succeeds the row is
``written``, and the wrapper records nothing more; a call that committed no
change (refused, failed, or one that changes no execution) is recorded by the
wrapper on its own when it ends.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, replace

from cadenza.audit.subjects import Subject
from cadenza.auth.principal import ANONYMOUS, Principal, current_principal
from cadenza.persistence.audit_records import OK, AuditRecord
from cadenza.persistence.records import ExecutionKey

MAX_REASON_CHARS = 1000
"""The longest error message kept in a row."""


@dataclass
class PendingAudit:
    """One mutating call's row, until it is written."""

    service: str
    method: str
    subject: Subject
    written: bool = False
    """Set once a commit carrying the row succeeded."""
    admitted: bool = False
    """Set when authorization and the rate limits let the call through to its handler."""
    principal: Principal | None = None
    """The caller as authorization proved it, noted as the handler starts: authorization may
    unset ``current_principal`` again before the call's end is recorded."""

    def row_for(self, key: ExecutionKey, now: float) -> AuditRecord | None:
        """The row to commit with a change to ``key`` at ``now``; None if the row is written
        already or the change is to another workflow than the call names."""
        if self.written or key.workflow_id != self.subject.workflow_id:
            return None
        return replace(self.row(now, OK), run_id=self.subject.run_id or key.run_id)

    def row(self, now: float, outcome: str, reason: str = "") -> AuditRecord:
        """The call's row, by its principal (anonymous if none was proven)."""
        principal = current_principal.get() or self.principal
        return record(self.service, self.method, self.subject, now, outcome, reason, principal)


def record(
    service: str,
    method: str,
    subject: Subject,
    now: float,
    outcome: str,
    reason: str = "",
    principal: Principal | None = None,
) -> AuditRecord:
    """A row for a call on ``subject`` by ``principal``, else the current one, else anonymous."""
    principal = principal or current_principal.get() or ANONYMOUS
    return AuditRecord(
        time=now,
        principal_kind=principal.kind.value,
        principal_name=principal.name,
        namespace=subject.namespace,
        service=service,
        method=method,
        workflow_id=subject.workflow_id,
        run_id=subject.run_id,
        schedule_id=subject.schedule_id,
        request_id=subject.request_id,
        outcome=outcome,
        reason=reason[:MAX_REASON_CHARS],
        identity=subject.identity,
    )


pending_audit: ContextVar[PendingAudit | None] = ContextVar("pending_audit", default=None)
"""The audited call being handled in this task, if any."""
