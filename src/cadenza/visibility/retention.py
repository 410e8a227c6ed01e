"""Retention: closed executions older than their namespace's retention are deleted."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

from cadenza.clock import Clock
from cadenza.namespaces import DEFAULT_RETENTION_SECONDS, NamespaceRegistry
from cadenza.periodic import Periodic
from cadenza.persistence.records import ExecutionKey
from cadenza.persistence.roles import RetentionStore, StandaloneActivityStore
from cadenza.standalone import nexus_operation_rows

logger = logging.getLogger(__name__)

BATCH = 500
"""Runs deleted per transaction, so a large sweep never holds the database for long."""


class SweptStore(RetentionStore, StandaloneActivityStore, Protocol):
    """What retention deletes from: closed workflow runs and closed standalone activities."""


class RetentionSweeper:
    """Deletes expired closed runs in every namespace, every ``interval`` seconds."""

    def __init__(
        self,
        store: SweptStore,
        namespaces: NamespaceRegistry,
        clock: Clock,
        forget: Callable[[ExecutionKey], None],
        interval: float,
    ) -> None:
        self._store = store
        self._namespaces = namespaces
        self._clock = clock
        self._forget = forget
        self._rounds = Periodic(
            self._sweep_and_report, interval, name="cadenza-retention", what="retention sweep", logger=logger
        )

    def start(self) -> None:
        self._rounds.start()

    async def stop(self) -> None:
        await self._rounds.stop()

    async def sweep(self) -> int:
        """One pass over every namespace; returns how many runs were deleted."""
        deleted = 0
        for namespace in await self._namespaces.list_all():
            retention = namespace.info.get("retention_seconds", DEFAULT_RETENTION_SECONDS)
            assert isinstance(retention, int | float)
            cutoff = self._clock.now() - float(retention)
            while True:
                keys = await self._store.delete_closed_before(namespace.id, cutoff, BATCH)
                for key in keys:
                    self._forget(key)
                deleted += len(keys)
                if len(keys) < BATCH:
                    break
            deleted += await self._sweep_activities(namespace.id, cutoff)
            # Standalone Nexus operations are standalone runs under their own key space.
            deleted += await self._sweep_activities(nexus_operation_rows(namespace.id), cutoff)
        return deleted

    async def _sweep_activities(self, namespace_id: str, cutoff: float) -> int:
        """Closed standalone activities past the namespace's retention, a batch at a time."""
        deleted = 0
        while True:
            count = await self._store.delete_closed_standalone_activities(namespace_id, cutoff, BATCH)
            deleted += count
            if count < BATCH:
                return deleted

    async def _sweep_and_report(self) -> None:
        if deleted := await self.sweep():
            logger.info("retention deleted %d closed executions", deleted)
