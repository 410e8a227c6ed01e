"""Pending activities' rows on every backend: written with the run's change, or not at all."""

from __future__ import annotations

import pytest

from cadenza.exceptions import ConcurrentUpdateError
from cadenza.persistence.records import ExecutionKey, NamespaceRecord
from cadenza.persistence.store import Store
from tests.integration.test_store_contract import start, write


async def test_rows_are_written_changed_and_removed_with_the_run(store: Store) -> None:
    key = ExecutionKey("ns", "wf", "run")
    await start(store, key, activities_written=[(5, b"a5"), (6, b"a6"), (7, b"a7")])
    await store.commit(write(key, 1, activities_written=[(6, b"a6 again")], activities_removed=[5]))
    stored = await store.load_execution(key)
    assert stored is not None and stored.version == 2 and stored.state == b"{}"
    assert sorted(stored.activities) == [(6, b"a6 again"), (7, b"a7")]
    with pytest.raises(ConcurrentUpdateError):
        await store.commit(write(key, 1, activities_written=[(8, b"lost")], activities_removed=[7]))
    stored = await store.load_execution(key)
    assert stored is not None and sorted(stored.activities) == [(6, b"a6 again"), (7, b"a7")]
    await store.delete_execution(key)
    assert await store.load_execution(key) is None
    await start(store, key)
    stored = await store.load_execution(key)
    assert stored is not None and stored.activities == ()


async def test_deleting_a_namespace_removes_its_rows(store: Store) -> None:
    await store.create_namespace(NamespaceRecord("3", "another", {}))
    key = ExecutionKey("3", "wf", "run")
    await start(store, key, activities_written=[(5, b"a5")])
    await store.delete_namespace("3")
    await start(store, key)
    stored = await store.load_execution(key)
    assert stored is not None and stored.activities == ()
