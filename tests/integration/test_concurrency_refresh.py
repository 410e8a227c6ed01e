"""A refresh of the concurrency limits keeps the changes made on this server while it read the
store: a slot taken here stays counted, a slot freed here stays free, and a limit set or unset
here stays so, even when the store's answer predates them. The store is real; its answers are
held back at the points each test names, so the changes land inside the read."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from typing import Any, cast

import pytest

from cadenza.concurrency import ConcurrencyLimits
from cadenza.persistence.backends import open_store
from cadenza.persistence.concurrency_records import ConcurrencyLimitRecord, SlotRecord
from cadenza.persistence.records import TaskKind, TaskRecord
from cadenza.persistence.roles import ConcurrencyStore
from cadenza.persistence.store import Store

PAY = ConcurrencyLimitRecord("ns", "workflow-type", "Pay", 1, 0, "queue")
QUEUE = ConcurrencyLimitRecord("ns", "activity-queue", "q", 1, 0, "queue")
SHIP = ConcurrencyLimitRecord("ns", "workflow-type", "Ship", 3, 0, "reject")
FIRST = SlotRecord("ns", "workflow-type", "Pay", "first", "", 0, 1, "", 1_000.0)
SECOND = SlotRecord("ns", "workflow-type", "Pay", "second", "", 0, 1, "", 1_000.0)


class Clock:
    def now(self) -> float:
        return 1_000.0


class Gate:
    """Holds one store call until let go: before it runs, or after it answered."""

    def __init__(self, before: bool) -> None:
        self.before = before
        self.reached = asyncio.Event()
        self.go = asyncio.Event()

    async def hold(self) -> None:
        self.reached.set()
        await self.go.wait()


class HeldStore:
    """The real store, with the calls named in ``gates`` held at their gate."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.gates: dict[str, Gate] = {}

    def __getattr__(self, name: str) -> Any:
        call = getattr(self._store, name)
        gate = self.gates.pop(name, None)
        if gate is None:
            return call

        async def held(*args: Any) -> Any:
            if gate.before:
                await gate.hold()
            answer = await call(*args)
            if not gate.before:
                await gate.hold()
            return answer

        return held

    def hold(self, name: str, before: bool = False) -> Gate:
        self.gates[name] = Gate(before)
        return self.gates[name]


@pytest.fixture
async def shared_store(postgres_database: str) -> AsyncIterator[Store]:
    """A store on a PostgreSQL database, as replicas share one, with the limit ``PAY``."""
    opened = open_store(postgres_database)
    await opened.open()
    await opened.put_concurrency_limit(PAY)
    yield opened
    await opened.close()


async def limits_on(store: HeldStore, shared: bool) -> ConcurrencyLimits:
    limits = ConcurrencyLimits(cast(ConcurrencyStore, store), Clock(), shared)
    await limits.load()
    return limits


async def test_a_slot_taken_while_the_slots_are_read_stays_counted(shared_store: Store) -> None:
    store = HeldStore(shared_store)
    limits = await limits_on(store, shared=True)
    read = store.hold("list_slots")
    refresh = asyncio.create_task(limits.refresh())
    await read.reached.wait()  # the refresh read no slot

    assert await limits.take(FIRST, PAY) == "taken"
    read.go.set()
    await refresh

    assert limits.holds(FIRST)
    assert limits.running(("ns", "workflow-type", "Pay")) == 1
    assert not limits.admits(PAY, "")
    await limits.stop()


async def test_a_slot_being_taken_when_the_slots_are_read_stays_counted(shared_store: Store) -> None:
    store = HeldStore(shared_store)
    limits = await limits_on(store, shared=True)
    writing = store.hold("acquire_slot", before=True)
    take = asyncio.create_task(limits.take(FIRST, PAY))
    await writing.reached.wait()  # reserved here, its row not yet written
    read = store.hold("list_slots")
    refresh = asyncio.create_task(limits.refresh())
    await read.reached.wait()  # the refresh read no slot

    writing.go.set()
    assert await take == "taken"  # the row is written and the slot handed over
    read.go.set()
    await refresh

    assert limits.holds(FIRST)
    assert not limits.admits(PAY, "")
    await limits.stop()


async def test_a_slot_freed_while_the_slots_are_read_stays_free(shared_store: Store) -> None:
    store = HeldStore(shared_store)
    limits = await limits_on(store, shared=True)
    assert await limits.take(FIRST, PAY) == "taken"
    read = store.hold("list_slots")
    refresh = asyncio.create_task(limits.refresh())
    await read.reached.wait()  # the refresh read the slot's row

    limits.give_back_slots([FIRST])
    read.go.set()
    await refresh

    assert not limits.holds(FIRST)
    assert limits.admits(PAY, "")
    await limits.stop()
    assert await limits.take(SECOND, PAY) == "taken"


async def test_a_slot_freed_here_and_taken_elsewhere_while_the_slots_are_read_stays_counted(
    shared_store: Store, postgres_database: str
) -> None:
    store = HeldStore(shared_store)
    limits = await limits_on(store, shared=True)
    assert await limits.take(FIRST, PAY) == "taken"
    read = store.hold("list_slots", before=True)
    refresh = asyncio.create_task(limits.refresh())
    await read.reached.wait()

    limits.give_back_slots([FIRST])
    await limits.stop()  # the slot's row is deleted
    other_store = open_store(postgres_database)
    await other_store.open()
    other = await limits_on(HeldStore(other_store), shared=True)
    restarted = dataclasses.replace(FIRST, acquired_at=2_000.0)
    assert await other.take(restarted, PAY) == "taken"  # the workflow started again, elsewhere
    read.go.set()
    await refresh

    assert limits.holds(FIRST)
    assert not limits.admits(PAY, "")
    await other.stop()
    await other_store.close()


async def test_a_task_another_server_hands_over_while_the_slots_are_read_stays_counted(
    shared_store: Store,
) -> None:
    await shared_store.put_concurrency_limit(QUEUE)
    task = TaskRecord("t", "ns", "q", TaskKind.ACTIVITY, "wf", "run", 5, 1)
    store = HeldStore(shared_store)
    limits = await limits_on(store, shared=True)
    elsewhere = SlotRecord("ns", "activity-queue", "q", "wf", "run", 5, 1, "", 2_000.0)
    assert await shared_store.acquire_slot(elsewhere, 1, 0) == "taken"  # another server's

    limits.reserve(task)  # the same task, handed to a poll here too
    read = store.hold("list_slots")
    refresh = asyncio.create_task(limits.refresh())
    await read.reached.wait()  # the refresh read the other server's row
    assert await limits.confirm(task) == "held"  # this server's reservation is given back
    read.go.set()
    await refresh

    assert limits.running(("ns", "activity-queue", "q")) == 1
    assert not limits.admits(QUEUE, "")
    await limits.stop()


@pytest.mark.parametrize("shared", [False, True], ids=["single", "shared"])
async def test_limits_set_and_unset_while_the_limits_are_read_stay_so(store: Store, shared: bool) -> None:
    await store.put_concurrency_limit(PAY)
    held = HeldStore(store)
    limits = await limits_on(held, shared)
    read = held.hold("list_concurrency_limits")
    refresh = asyncio.create_task(limits.refresh())
    await read.reached.wait()  # the refresh read PAY alone

    await limits.set_limit(SHIP)
    assert await limits.unset_limit("ns", "workflow-type", "Pay")
    read.go.set()
    await refresh

    assert list(limits.limits.values()) == [SHIP]
    assert limits.workflow_limits("ns", "Pay", "any") == []
    assert limits.workflow_limits("ns", "Ship", "any") == [SHIP]
    await limits.stop()
