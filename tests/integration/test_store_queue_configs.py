"""The Store's task queue configs, run on every backend: writes conditional on the row's
revision, rows read back in the order written, and gone with their namespace."""

from __future__ import annotations

import asyncio

from cadenza.persistence.backends import open_store
from cadenza.persistence.records import NamespaceRecord
from cadenza.persistence.store import Store

ACTIVITY, NEXUS = 2, 3


async def test_a_config_is_written_once_per_revision(store: Store) -> None:
    assert await store.get_queue_config("ns", "q", ACTIVITY) is None
    first = await store.put_queue_config("ns", "q", ACTIVITY, b"one", 0)
    assert first is not None and first.config == b"one"
    assert await store.put_queue_config("ns", "q", ACTIVITY, b"lost", 0) is None  # it exists now

    second = await store.put_queue_config("ns", "q", ACTIVITY, b"two", first.revision)
    assert second is not None and second.revision > first.revision
    assert await store.put_queue_config("ns", "q", ACTIVITY, b"stale", first.revision) is None
    assert await store.get_queue_config("ns", "q", ACTIVITY) == second


async def test_rows_come_back_in_the_order_written(store: Store) -> None:
    a = await store.put_queue_config("ns", "a", ACTIVITY, b"a1", 0)
    b = await store.put_queue_config("ns", "b", NEXUS, b"b1", 0)
    assert a is not None and b is not None
    a2 = await store.put_queue_config("ns", "a", ACTIVITY, b"a2", a.revision)
    assert a2 is not None
    assert [(c.task_queue, c.config) for c in await store.queue_configs_since(0)] == [
        ("b", b"b1"),
        ("a", b"a2"),
    ]
    assert await store.queue_configs_since(b.revision) == [a2]
    assert await store.queue_configs_since(a2.revision) == []


async def test_racing_writes_of_one_revision_let_exactly_one_land(db_url: str) -> None:
    stores = [open_store(db_url) for _ in range(2)] if db_url.startswith("postgresql") else []
    store = open_store(db_url) if not stores else stores[0]
    if not stores:
        await store.open()
    for each in stores:
        await each.open()
    try:
        writers = stores or [store, store]
        first = await store.put_queue_config("ns", "q", ACTIVITY, b"v1", 0)
        assert first is not None
        outcomes = await asyncio.gather(
            *(
                w.put_queue_config("ns", "q", ACTIVITY, f"w{i}".encode(), first.revision)
                for i, w in enumerate(writers)
            )
        )
        landed = [o for o in outcomes if o is not None]
        assert len(landed) == 1
        assert await store.get_queue_config("ns", "q", ACTIVITY) == landed[0]
    finally:
        for each in stores or [store]:
            await each.close()


async def test_a_deleted_namespace_takes_its_queue_configs(store: Store) -> None:
    await store.create_namespace(NamespaceRecord("gone-id", "gone", {}))
    await store.create_namespace(NamespaceRecord("kept-id", "kept", {}))
    await store.put_queue_config("gone-id", "q", ACTIVITY, b"x", 0)
    await store.put_queue_config("kept-id", "q", ACTIVITY, b"y", 0)
    await store.delete_namespace("gone-id")
    assert await store.get_queue_config("gone-id", "q", ACTIVITY) is None
    assert [c.namespace_id for c in await store.queue_configs_since(0)] == ["kept-id"]
