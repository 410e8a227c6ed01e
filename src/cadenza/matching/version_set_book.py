"""Each task queue's compatible version sets, kept durably in the task queue config table.

A queue's sets are one row of ``task_queue_configs`` under the queue type
``VERSION_SETS_ROW``, written conditionally on the row's revision like any config, so two
replicas changing one queue's sets at once cannot both win: the loser reads again and
retries. Every read goes to the store, so a change made through one replica is seen by all.
"""

from __future__ import annotations

from collections.abc import Callable

from cadenza.exceptions import ConcurrentUpdateError
from cadenza.matching.queue_configs import VERSION_SETS_ROW
from cadenza.matching.version_sets import SetLimits, VersionSets, check_limits
from cadenza.persistence.roles import QueueConfigStore

ATTEMPTS = 5
"""Conditional writes tried before a change lost to concurrent ones is given up."""


class VersionSetBook:
    """Reads and changes the version sets of task queues."""

    def __init__(self, store: QueueConfigStore, limits: SetLimits) -> None:
        self._store = store
        self._limits = limits

    async def get(self, namespace_id: str, task_queue: str) -> VersionSets:
        """A queue's sets; none if it never had any."""
        row = await self._store.get_queue_config(namespace_id, task_queue, VERSION_SETS_ROW)
        return VersionSets() if row is None else VersionSets.decode(row.config)

    async def update(self, namespace_id: str, task_queue: str, change: Callable[[VersionSets], None]) -> None:
        """Apply ``change`` and store the result if it stays within the limits; a change that
        raises stores nothing."""
        for _ in range(ATTEMPTS):
            row = await self._store.get_queue_config(namespace_id, task_queue, VERSION_SETS_ROW)
            state = VersionSets() if row is None else VersionSets.decode(row.config)
            before = state.encode()
            change(state)
            if state.encode() == before:
                return
            check_limits(state, self._limits)
            revision = row.revision if row is not None else 0
            written = await self._store.put_queue_config(
                namespace_id, task_queue, VERSION_SETS_ROW, state.encode(), revision
            )
            if written is not None:
                return
        raise ConcurrentUpdateError(f"task queue {task_queue} version sets changed meanwhile")

    async def all_queues(self, namespace_id: str) -> list[tuple[str, VersionSets]]:
        """Every queue of a namespace that has sets, by name, with its sets.

        The task queue config table is read whole: it holds a row per configured queue,
        which stays small next to executions and tasks."""
        found = [
            (row.task_queue, VersionSets.decode(row.config))
            for row in await self._store.queue_configs_since(0)
            if row.namespace_id == namespace_id and row.queue_type == VERSION_SETS_ROW
        ]
        return sorted(found, key=lambda pair: pair[0])
