"""Audit retention: rows older than ``--audit-retention`` are deleted by a periodic sweep."""

from __future__ import annotations

import logging

from cadenza.clock import Clock
from cadenza.periodic import Periodic
from cadenza.persistence.roles import AuditStore

logger = logging.getLogger(__name__)

BATCH = 1000
"""Rows deleted per transaction, so a large sweep never holds the database for long."""


class AuditSweeper:
    """Deletes audit rows older than ``retention`` seconds, every ``interval`` seconds."""

    def __init__(self, store: AuditStore, clock: Clock, retention: float, interval: float) -> None:
        self._store = store
        self._clock = clock
        self._retention = retention
        self._rounds = Periodic(
            self._sweep_and_report,
            interval,
            name="cadenza-audit-retention",
            what="audit retention sweep",
            logger=logger,
        )

    def start(self) -> None:
        self._rounds.start()

    async def stop(self) -> None:
        await self._rounds.stop()

    async def sweep(self) -> int:
        """Delete every row past retention now; returns how many."""
        cutoff = self._clock.now() - self._retention
        deleted = 0
        while True:
            count = await self._store.delete_audit_before(cutoff, BATCH)
            deleted += count
            if count < BATCH:
                return deleted

    async def _sweep_and_report(self) -> None:
        if deleted := await self.sweep():
            logger.info("audit retention deleted %d rows", deleted)
