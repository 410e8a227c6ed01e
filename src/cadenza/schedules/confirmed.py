"""A schedule write whose reply may be lost: a connection cut while the database commits
leaves open whether the change was made."""

from __future__ import annotations

from cadenza.persistence.errors import StorageError
from cadenza.persistence.records import ScheduleWrite
from cadenza.persistence.roles import ScheduleStore


async def write_confirmed(store: ScheduleStore, write: ScheduleWrite) -> None:
    """Write; when the store reports a failure, look whether the write took effect all the
    same, and if it did return as from any write, so its new timer is armed. (Else the
    schedule would not fire again until a restart: the timer it fired is gone from the store,
    the one that replaced it is not in memory.)"""
    try:
        await store.write_schedule(write)
    except StorageError:
        if not await _landed(store, write):
            raise


async def _landed(store: ScheduleStore, write: ScheduleWrite) -> bool:
    """The stored state is this write's own bytes, at the version after it, only if it made it."""
    try:
        stored = await store.get_schedule(write.namespace_id, write.schedule_id)
    except StorageError:
        return False
    return stored is not None and (stored.version, stored.state) == (write.expected_version + 1, write.state)
