"""The Store's task queue version sets, run on every backend: writes conditional on the row's
version, the queues holding a build ID found by it and kept in step with each write, and
everything gone with its namespace."""

from __future__ import annotations

import asyncio

from cadenza.persistence.backends import open_store
from cadenza.persistence.records import NamespaceRecord, StoredVersionSets
from cadenza.persistence.store import Store


async def test_sets_are_written_once_per_version(store: Store) -> None:
    assert await store.get_version_sets("ns", "q") is None
    assert await store.put_version_sets("ns", "q", b"one", ["1"], 0)
    assert not await store.put_version_sets("ns", "q", b"lost", ["x"], 0)  # it exists now
    first = await store.get_version_sets("ns", "q")
    assert first == StoredVersionSets("ns", "q", 1, b"one")

    assert await store.put_version_sets("ns", "q", b"two", ["1", "2"], first.version)
    assert not await store.put_version_sets("ns", "q", b"stale", ["y"], first.version)
    assert await store.get_version_sets("ns", "q") == StoredVersionSets("ns", "q", 2, b"two")
    assert await store.queues_with_build_id("ns", "x") == []
    assert await store.queues_with_build_id("ns", "y") == []


async def test_each_write_replaces_the_build_ids_a_queue_holds(store: Store) -> None:
    await store.put_version_sets("ns", "b", b"b", ["1", "2"], 0)
    await store.put_version_sets("ns", "a", b"a", ["1"], 0)
    await store.put_version_sets("other", "c", b"c", ["1"], 0)
    assert await store.queues_with_build_id("ns", "1") == ["a", "b"]
    assert await store.queues_with_build_id("ns", "2") == ["b"]

    assert await store.put_version_sets("ns", "b", b"b2", ["2", "3", "3"], 1)
    assert await store.queues_with_build_id("ns", "1") == ["a"]
    assert await store.queues_with_build_id("ns", "3") == ["b"]
    assert await store.queues_with_build_id("other", "1") == ["c"]


async def test_racing_writes_of_one_version_let_exactly_one_land(db_url: str) -> None:
    stores = [open_store(db_url) for _ in range(2)] if db_url.startswith("postgresql") else []
    store = open_store(db_url) if not stores else stores[0]
    if not stores:
        await store.open()
    for each in stores:
        await each.open()
    try:
        writers = stores or [store, store]
        await store.put_version_sets("ns", "q", b"v1", ["v1"], 0)
        outcomes = await asyncio.gather(
            *(w.put_version_sets("ns", "q", f"w{i}".encode(), [f"w{i}"], 1) for i, w in enumerate(writers))
        )
        assert sorted(outcomes) == [False, True]
        winner = outcomes.index(True)
        assert await store.get_version_sets("ns", "q") == StoredVersionSets(
            "ns", "q", 2, f"w{winner}".encode()
        )
        assert await store.queues_with_build_id("ns", f"w{winner}") == ["q"]
        assert await store.queues_with_build_id("ns", f"w{1 - winner}") == []
        assert await store.queues_with_build_id("ns", "v1") == []
    finally:
        for each in stores or [store]:
            await each.close()


async def test_a_deleted_namespace_takes_its_version_sets(store: Store) -> None:
    await store.create_namespace(NamespaceRecord("gone-id", "gone", {}))
    await store.create_namespace(NamespaceRecord("kept-id", "kept", {}))
    await store.put_version_sets("gone-id", "q", b"x", ["1"], 0)
    await store.put_version_sets("kept-id", "q", b"y", ["1"], 0)
    await store.delete_namespace("gone-id")
    assert await store.get_version_sets("gone-id", "q") is None
    assert await store.queues_with_build_id("gone-id", "1") == []
    assert await store.get_version_sets("kept-id", "q") == StoredVersionSets("kept-id", "q", 1, b"y")
    assert await store.queues_with_build_id("kept-id", "1") == ["q"]
