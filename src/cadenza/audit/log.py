"""Writing the rows of calls that committed no change, and reading the log."""

from __future__ import annotations

import logging

from cadenza.clock import Clock
from cadenza.persistence.audit_records import AuditFilter, AuditRecord
from cadenza.persistence.errors import StorageError
from cadenza.persistence.roles import AuditStore

logger = logging.getLogger(__name__)

MAX_LIST = 1000
"""The most rows one listing returns."""


class AuditLog:
    """The audit log of one server: rows written on their own, and listings."""

    def __init__(self, store: AuditStore, clock: Clock) -> None:
        self._store = store
        self.clock = clock

    async def append(self, record: AuditRecord) -> None:
        """Store ``record``; a database that fails is logged, and the call's answer stands."""
        try:
            await self._store.append_audit(record)
        except StorageError as error:
            logger.error(
                "audit row for %s by %s not written: %s",
                record.method,
                record.principal_name,
                error,
                extra={"namespace": record.namespace, "workflow_id": record.workflow_id},
            )

    async def list(self, wanted: AuditFilter) -> list[AuditRecord]:
        """Rows matching ``wanted``, newest first, at most ``MAX_LIST``."""
        if wanted.limit > MAX_LIST:
            wanted = AuditFilter(wanted.namespace, wanted.principal, wanted.since, wanted.before_id, MAX_LIST)
        return await self._store.list_audit(wanted)
