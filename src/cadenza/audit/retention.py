"""Audit retention: rows older than ``--audit-retention`` are deleted by a periodic sweep."""

from __future__ import annotations

import asyncio
import logging

from cadenza.clock import Clock
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
        self._interval = interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="cadenza-audit-retention")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def sweep(self) -> int:
        """Delete every row past retention now; returns how many."""
        cutoff = self._clock.now() - self._retention
        deleted = 0
        while True:
            count = await self._store.delete_audit_before(cutoff, BATCH)
            deleted += count
            if count < BATCH:
                return deleted

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                deleted = await self.sweep()
                if deleted:
                    logger.info("audit retention deleted %d rows", deleted)
            except Exception:
                logger.exception("audit retention sweep failed; trying again later")
