"""The sweep that frees the concurrency slots whose holders ended unseen. Replicas check every
slot, as the others' changes pass no hook here. A single server, whose every committed change
frees the slots it ended, checks only the slots no workflow change frees (a standalone
activity's) and, after a commit whose outcome stayed unknown, the slots taken before it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from cadenza.concurrency import ConcurrencyLimits
from cadenza.persistence.backends import open_store
from cadenza.persistence.concurrency_records import ConcurrencyLimitRecord, SlotRecord
from cadenza.persistence.store import Store

TAKEN_AT = 1_000.0
WORKFLOW = SlotRecord("ns", "workflow-type", "Pay", "chain", "", 0, 1, "", TAKEN_AT)
ACTIVITY = SlotRecord("ns", "activity-queue", "q", "wf", "run", 5, 1, "", TAKEN_AT)
STANDALONE = SlotRecord("ns", "activity-queue", "q", "act", "run", 0, 1, "", TAKEN_AT)


class HandClock:
    def __init__(self, now: float) -> None:
        self.at = now

    def now(self) -> float:
        return self.at


class Holders:
    """Every holder has ended; the sweep's questions are noted, and so are unseen commits."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.unsure = False

    async def alive(self, slot: SlotRecord) -> bool:
        self.asked.append(slot.workflow_id)
        return False

    def unseen_commits(self) -> bool:
        met, self.unsure = self.unsure, False
        return met


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = open_store(str(tmp_path / "slots.db"))
    await opened.open()
    await opened.put_concurrency_limit(ConcurrencyLimitRecord("ns", "workflow-type", "Pay", 5, 0, "queue"))
    await opened.put_concurrency_limit(ConcurrencyLimitRecord("ns", "activity-queue", "q", 5, 0, "queue"))
    for slot in (WORKFLOW, ACTIVITY, STANDALONE):
        assert await opened.acquire_slot(slot, 0, 0) == "taken"
    yield opened
    await opened.close()


async def limits_on(store: Store, clock: HandClock, holders: Holders, shared: bool) -> ConcurrencyLimits:
    limits = ConcurrencyLimits(store, clock, shared)
    limits.holder_alive = holders.alive
    limits.unseen_commits = holders.unseen_commits
    await limits.load()
    return limits


async def test_a_single_servers_sweep_checks_only_the_slots_no_commit_frees(store: Store) -> None:
    clock, holders = HandClock(TAKEN_AT + 60), Holders()
    limits = await limits_on(store, clock, holders, shared=False)
    await limits.sweep_round()
    assert holders.asked == ["act"]  # a standalone activity's slot: no workflow change frees it
    assert sorted(limits.table.slots) == sorted(
        [("ns", "workflow-type", "Pay", "chain", "", 0), ("ns", "activity-queue", "q", "wf", "run", 5)]
    )

    holders.asked.clear()
    await limits.sweep_round()
    assert holders.asked == []  # every change since was seen

    holders.unsure = True  # a commit may have ended a holder unseen: the slots taken before it
    await limits.sweep_round()
    assert sorted(holders.asked) == ["chain", "wf"]
    assert limits.table.slots == {}
    await limits.stop()
    assert await store.list_slots() == []


async def test_a_slot_taken_just_before_an_unseen_commit_is_checked_once_old_enough(store: Store) -> None:
    clock, holders = HandClock(TAKEN_AT + 1), Holders()
    limits = await limits_on(store, clock, holders, shared=False)
    holders.unsure = True
    await limits.sweep_round()
    assert holders.asked == []  # too young: its holder's start may not be committed yet
    clock.at += 60
    await limits.sweep_round()
    assert sorted(holders.asked) == ["act", "chain", "wf"]
    await limits.stop()


async def test_a_replicas_sweep_checks_every_slot(store: Store) -> None:
    clock, holders = HandClock(TAKEN_AT + 60), Holders()
    limits = await limits_on(store, clock, holders, shared=True)
    await limits.sweep_round()
    assert sorted(holders.asked) == ["act", "chain", "wf"]
    assert limits.table.slots == {}
    await limits.stop()
