"""The Store's concurrency limits and slots, run on every backend: limits replaced and removed,
slots taken only while their scope and fairness key have room, taken again idempotently,
freed, and gone with their namespace."""

from __future__ import annotations

import asyncio
import sqlite3

import asyncpg

from cadenza.persistence.backends import open_store
from cadenza.persistence.concurrency_records import ConcurrencyLimitRecord, SlotRecord
from cadenza.persistence.records import NamespaceRecord
from cadenza.persistence.sql import load_queries
from cadenza.persistence.store import Store


def slot(workflow_id: str, key: str = "", attempt: int = 1, namespace_id: str = "ns") -> SlotRecord:
    return SlotRecord(namespace_id, "activity-queue", "q", workflow_id, "run", 5, attempt, key, 1.0)


async def test_a_limit_is_set_replaced_and_removed(store: Store) -> None:
    limit = ConcurrencyLimitRecord("ns", "workflow-type", "Pay", 3, 0, "reject")
    await store.put_concurrency_limit(limit)
    await store.put_concurrency_limit(ConcurrencyLimitRecord("ns", "activity-queue", "q", 2, 1, "queue"))
    replaced = ConcurrencyLimitRecord("ns", "workflow-type", "Pay", 5, 0, "queue")
    await store.put_concurrency_limit(replaced)
    assert await store.list_concurrency_limits() == [
        ConcurrencyLimitRecord("ns", "activity-queue", "q", 2, 1, "queue"),
        replaced,
    ]
    assert await store.delete_concurrency_limit("ns", "workflow-type", "Pay")
    assert not await store.delete_concurrency_limit("ns", "workflow-type", "Pay")
    assert [x.name for x in await store.list_concurrency_limits()] == ["q"]


async def test_slots_are_taken_only_while_there_is_room(store: Store) -> None:
    assert await store.acquire_slot(slot("a", "k1"), 2, 1) == "taken"
    assert await store.acquire_slot(slot("b", "k1"), 2, 1) == "full"  # k1 is full
    assert await store.acquire_slot(slot("b", "k2"), 2, 1) == "taken"
    assert await store.acquire_slot(slot("c", "k3"), 2, 1) == "full"  # the queue is full
    assert await store.acquire_slot(slot("b", "k2"), 2, 1) == "held"  # this attempt has it already
    assert await store.acquire_slot(slot("a", "k1", attempt=2), 2, 1) == "taken"  # its next attempt
    assert sorted((s.workflow_id, s.attempt) for s in await store.list_slots()) == [("a", 2), ("b", 1)]

    await store.release_slots([slot("a"), slot("zz")])
    assert await store.acquire_slot(slot("c", "k3"), 2, 1) == "taken"
    assert sorted(s.workflow_id for s in await store.list_slots()) == ["b", "c"]


async def test_racing_takers_never_pass_the_limit(db_url: str) -> None:
    stores = [open_store(db_url) for _ in range(2)] if db_url.startswith("postgresql") else []
    store = stores[0] if stores else open_store(db_url)
    for each in stores or [store]:
        await each.open()
    try:
        takers = stores or [store, store]
        taken = await asyncio.gather(*(takers[i % 2].acquire_slot(slot(f"w{i}"), 3, 0) for i in range(12)))
        assert taken.count("taken") == 3
        assert len(await store.list_slots()) == 3
    finally:
        for each in stores or [store]:
            await each.close()


async def test_limits_and_slots_go_with_their_namespace(store: Store) -> None:
    await store.create_namespace(NamespaceRecord(id="gone", name="gone", info={}))
    await store.put_concurrency_limit(ConcurrencyLimitRecord("gone", "workflow-type", "Pay", 1, 0, "queue"))
    assert await store.acquire_slot(slot("a", namespace_id="gone"), 1, 0) == "taken"
    await store.delete_namespace("gone")
    assert await store.list_concurrency_limits() == []
    assert await store.list_slots() == []


SLOTS_OF_100_KEYS = (
    "INSERT INTO concurrency_slots SELECT 'ns', 'activity-queue', 'q', 'w' || i, 'run', i, 1, "
    "'k' || (i % 100), 1.0 FROM generate_series(1, 20000) AS i"
)


async def test_counting_a_fairness_keys_slots_reads_its_index(db_url: str, store: Store) -> None:
    """Taking a slot on a queue limited per fairness key counts that key's slots: through the
    index, not through every slot of the queue."""
    args = ("ns", "activity-queue", "q", "k7")
    if db_url.startswith("postgresql"):
        plan = await _postgres_plan(db_url, args)
    else:
        plan = _sqlite_plan(db_url, args)
    assert "concurrency_slots_by_fairness_key" in plan, plan


def _sqlite_plan(path: str, args: tuple[str, ...]) -> str:
    count_key = load_queries("cadenza.persistence.sqlite", "concurrency.sql")["count_key"]
    with sqlite3.connect(path) as conn:
        return "\n".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + count_key, args))


async def _postgres_plan(url: str, args: tuple[str, ...]) -> str:
    """The plan with enough slots analysed that the planner weighs an index against a scan."""
    count_key = load_queries("cadenza.persistence.postgres", "concurrency.sql")["count_key"]
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(SLOTS_OF_100_KEYS)
        await conn.execute("ANALYZE concurrency_slots")
        return "\n".join(row[0] for row in await conn.fetch("EXPLAIN " + count_key, *args))
    finally:
        await conn.close()
