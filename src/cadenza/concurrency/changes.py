"""The changes a server makes to its slots and limits while it reads them from the store.

A refresh reads the store, then replaces what this server holds in memory. A slot taken or
freed here, or a limit set here, after the read began may be missing from what it read (the
row written after the read, or the read's snapshot taken before the write landed); replacing
the memory with the read would then drop a slot just taken, bring back one just freed, or
bring back the limits as they were, until the next refresh. So each refresh notes the changes
made here while it reads, and makes them again on what it read.
"""

from __future__ import annotations

from collections.abc import Iterable

from cadenza.concurrency.limits import LimitKey, key_of
from cadenza.concurrency.table import SlotId, SlotTable, slot_id
from cadenza.persistence.concurrency_records import ConcurrencyLimitRecord, SlotRecord


class LocalChanges:
    """The slots added and removed, and the limits set and unset, here since a read began."""

    def __init__(self, reserved: Iterable[SlotRecord]) -> None:
        self.slots: dict[SlotId, tuple[bool, SlotRecord]] = {slot_id(s): (True, s) for s in reserved}
        """The last change of each slot: added (True) or removed (False), and its record. It
        starts with the slots reserved and not yet handed over: their rows may be written after
        the read."""
        self.limits: dict[LimitKey, ConcurrencyLimitRecord | None] = {}
        """The last limit set (its record) or unset (None) for each key."""

    def added(self, slot: SlotRecord) -> None:
        self.slots[slot_id(slot)] = (True, slot)

    def removed(self, slot: SlotRecord) -> None:
        self.slots[slot_id(slot)] = (False, slot)

    def limit_set(self, key: LimitKey, limit: ConcurrencyLimitRecord | None) -> None:
        self.limits[key] = limit

    def table_from(self, read: Iterable[SlotRecord]) -> SlotTable:
        """The slots the store held when read, with the changes made here since."""
        table = SlotTable()
        for slot in read:
            table.add(slot)
        for held, (added, slot) in self.slots.items():
            if added:
                table.add(slot)
            elif table.slots.get(held) == slot:
                # Only the row of the slot freed here: one with the same holder that another
                # server took (the activity's next attempt, the workflow's next start, the task
                # it is handing over while this server's reservation of it is given back) stays.
                table.remove(held)
        return table

    def limits_from(self, read: Iterable[ConcurrencyLimitRecord]) -> list[ConcurrencyLimitRecord]:
        """The limits the store held when read, with the changes made here since, in the
        store's order."""
        limits = {key_of(limit): limit for limit in read}
        for key, limit in self.limits.items():
            if limit is None:
                limits.pop(key, None)
            else:
                limits[key] = limit
        return sorted(limits.values(), key=key_of)
