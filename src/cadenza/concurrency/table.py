"""The slots held now, counted per limit and per fairness key, and indexed by their holders."""

from __future__ import annotations

from collections import Counter

from cadenza.concurrency.limits import ACTIVITY_QUEUE, LimitKey, key_of
from cadenza.persistence.concurrency_records import SlotRecord
from cadenza.persistence.records import TaskRecord
from cadenza.standalone.machine import STANDALONE_EVENT_ID

SlotId = tuple[str, str, str, str, str, int]


def ended_by_commits(slot: SlotRecord) -> bool:
    """Whether a committed workflow change ends this slot's holder, so ``committed`` frees it:
    a workflow's chain or a workflow's activity; not a standalone activity, which no workflow
    change ends (only the sweep frees its slot)."""
    return not slot.run_id or slot.scheduled_event_id != STANDALONE_EVENT_ID


def slot_id(slot: SlotRecord) -> SlotId:
    return (slot.namespace_id, slot.scope, slot.name, slot.workflow_id, slot.run_id, slot.scheduled_event_id)


def activity_slot(task: TaskRecord, now: float) -> SlotRecord:
    """The slot an activity task's attempt holds on its queue's limit."""
    return SlotRecord(
        task.namespace_id,
        ACTIVITY_QUEUE,
        task.task_queue,
        task.workflow_id,
        task.run_id,
        task.scheduled_event_id,
        task.attempt,
        task.priority.fairness_key,
        now,
    )


class SlotTable:
    """The slots held now, with their counts per limit and per fairness key."""

    def __init__(self) -> None:
        self.slots: dict[SlotId, SlotRecord] = {}
        self.by_run: dict[tuple[str, str, str], set[SlotId]] = {}
        """An activity's slots by its run (namespace ID, workflow ID, run ID)."""
        self.by_workflow: dict[tuple[str, str], set[SlotId]] = {}
        """A workflow chain's slots by its namespace ID and workflow ID."""
        self.per_limit: Counter[LimitKey] = Counter()
        self.per_key: Counter[tuple[str, str, str, str]] = Counter()

    def add(self, slot: SlotRecord) -> None:
        held = slot_id(slot)
        if held in self.slots:
            self.remove(held)
        self.slots[held] = slot
        self._index(slot).setdefault(self._owner(slot), set()).add(held)
        self.per_limit[key_of(slot)] += 1
        self.per_key[(*key_of(slot), slot.fairness_key)] += 1

    def remove(self, held: SlotId) -> SlotRecord | None:
        slot = self.slots.pop(held, None)
        if slot is None:
            return None
        index, owner = self._index(slot), self._owner(slot)
        owned = index.get(owner)
        if owned is not None:
            owned.discard(held)
            if not owned:
                del index[owner]
        self.per_limit[key_of(slot)] -= 1
        self.per_key[(*key_of(slot), slot.fairness_key)] -= 1
        return slot

    def _index(self, slot: SlotRecord) -> dict[tuple[str, ...], set[SlotId]]:
        return self.by_run if slot.run_id else self.by_workflow  # type: ignore[return-value]

    @staticmethod
    def _owner(slot: SlotRecord) -> tuple[str, ...]:
        if slot.run_id:
            return (slot.namespace_id, slot.workflow_id, slot.run_id)
        return (slot.namespace_id, slot.workflow_id)
