"""Each task queue's compatible version sets, kept durably in a table of their own.

A queue's sets are one row, written conditionally on the row's version, so two replicas
changing one queue's sets at once cannot both win: the loser raises ``ConcurrentUpdateError``,
which the RPC layer retries as it retries every lost write (``cadenza.conflicts``). Each
write also records which build IDs the queue's sets hold, so the queues holding a build ID are
found by an index rather than by reading every queue. Every read goes to the store, so a
change made through one replica is seen by all.
"""

from __future__ import annotations

from collections.abc import Callable

from cadenza.exceptions import ConcurrentUpdateError
from cadenza.matching.version_sets import SetLimits, VersionSets, check_limits
from cadenza.persistence.roles import VersionSetStore


class VersionSetBook:
    """Reads and changes the version sets of task queues."""

    def __init__(self, store: VersionSetStore, limits: SetLimits) -> None:
        self._store = store
        self._limits = limits

    async def get(self, namespace_id: str, task_queue: str) -> VersionSets:
        """A queue's sets; none if it never had any."""
        row = await self._store.get_version_sets(namespace_id, task_queue)
        return VersionSets() if row is None else VersionSets.decode(row.sets)

    async def update(self, namespace_id: str, task_queue: str, change: Callable[[VersionSets], None]) -> None:
        """Apply ``change`` and store the result if it stays within the limits; a change that
        raises stores nothing."""
        row = await self._store.get_version_sets(namespace_id, task_queue)
        state = VersionSets() if row is None else VersionSets.decode(row.sets)
        before = state.encode()
        change(state)
        after = state.encode()
        if after == before:
            return
        check_limits(state, self._limits)
        build_ids = [name for members in state.names() for name in members]
        version = row.version if row is not None else 0
        if not await self._store.put_version_sets(namespace_id, task_queue, after, build_ids, version):
            raise ConcurrentUpdateError(f"task queue {task_queue} version sets changed meanwhile")

    async def queues_holding(self, namespace_id: str, build_id: str) -> list[str]:
        """The namespace's queues whose sets hold ``build_id``, by name."""
        return await self._store.queues_with_build_id(namespace_id, build_id)
