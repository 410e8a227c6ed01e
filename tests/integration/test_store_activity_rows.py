"""Pending activities' rows on every backend: written with the run's change, or not at all."""

from __future__ import annotations

import pytest

from cadenza.exceptions import ConcurrentUpdateError
from cadenza.history.machine.change import Change
from cadenza.history.machine.state import Activity, MutableState, RetryPolicy
from cadenza.history.service.cache import ExecutionCache
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


async def test_a_run_stored_with_its_activities_inside_keeps_them_when_it_changes(store: Store) -> None:
    state = MutableState("ns", "default", "wf", "old", "T", "q", 1.0, "req", 10.0, 0.0, 0.0)
    for event_id in (5, 6):
        state.activities[event_id] = Activity(
            event_id, str(event_id), "a", "q", 1.0, 0, 0, 10, 0, RetryPolicy()
        )
    key = ExecutionKey("ns", "wf", "old")
    await start(store, key, state=state.to_bytes())  # as stored before activities had rows
    entry = await ExecutionCache(store).get(key)
    assert entry is not None and entry.state == state
    change = Change(entry.state, 2.0, entry.version)
    change.state.activities[6].attempt = 2
    del change.state.activities[5]
    change.state_changed = True
    await store.commit(change.to_write())
    again = await ExecutionCache(store).get(key)
    assert again is not None and again.version == 2
    assert list(again.state.activities) == [6] and again.state.activities[6].attempt == 2
    stored = await store.load_execution(key)
    assert stored is not None and [event_id for event_id, _ in stored.activities] == [6]
