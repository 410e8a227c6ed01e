"""The Store contract, run on every backend: conditional writes, atomic changes, recovery, deletes."""

from __future__ import annotations

import asyncio

import pytest

from cadenza.exceptions import ConcurrentUpdateError, NamespaceAlreadyExistsError
from cadenza.persistence.backends import open_store
from cadenza.persistence.records import (
    CurrentExecution,
    EventBatch,
    ExecutionKey,
    ExecutionWrite,
    NamespaceRecord,
    TaskKind,
    TaskRecord,
    TimerRecord,
)
from cadenza.persistence.store import Store


def write(key: ExecutionKey, version: int, **extra: object) -> ExecutionWrite:
    fields: dict[str, object] = {
        "state": b"{}",
        "status": 1,
        "workflow_type": "T",
        "task_queue": "q",
        "start_time": 1.0,
        **extra,
    }
    return ExecutionWrite(key=key, expected_version=version, **fields)  # type: ignore[arg-type]


def task(task_id: str, key: ExecutionKey) -> TaskRecord:
    return TaskRecord(task_id, key.namespace_id, "q", TaskKind.ACTIVITY, key.workflow_id, key.run_id, 5, 1)


def timer(timer_id: str, key: ExecutionKey, fire_at: float) -> TimerRecord:
    return TimerRecord(timer_id, fire_at, key.namespace_id, key.workflow_id, key.run_id, "k", 5, 1)


async def start(store: Store, key: ExecutionKey, **extra: object) -> None:
    await store.commit(write(key, 0, new_current=CurrentExecution(key.run_id, 1, "req"), **extra))


async def test_namespaces_are_unique_updatable_and_deletable(store: Store) -> None:
    await store.create_namespace(NamespaceRecord("1", "default", {"description": "d"}))
    with pytest.raises(NamespaceAlreadyExistsError):
        await store.create_namespace(NamespaceRecord("2", "default", {}))
    await store.create_namespace(NamespaceRecord("3", "another", {}))
    assert [n.name for n in await store.list_namespaces()] == ["another", "default"]
    await store.update_namespace(NamespaceRecord("1", "default", {"description": "new", "n": [1, 2]}))
    assert await store.get_namespace("default") == NamespaceRecord(
        "1", "default", {"description": "new", "n": [1, 2]}
    )
    key = ExecutionKey("3", "wf", "run")
    await start(store, key, tasks_added=[task("t", key)], timers_added=[timer("x", key, 5.0)])
    await store.delete_namespace("3")
    assert await store.get_namespace("another") is None
    assert await store.load_execution(key) is None
    assert await store.list_tasks() == [] and await store.list_timers() == []


async def test_stale_version_is_rejected_and_writes_nothing(store: Store) -> None:
    key = ExecutionKey("ns", "wf", "run")
    await start(store, key, events=EventBatch(1, 2, b"one"))
    await store.commit(write(key, 1, events=EventBatch(3, 3, b"two")))
    with pytest.raises(ConcurrentUpdateError):
        await store.commit(write(key, 1, events=EventBatch(4, 4, b"lost"), tasks_added=[task("t1", key)]))
    stored = await store.load_execution(key)
    assert stored is not None and stored.version == 2
    assert await store.execution_version(key) == 2
    assert await store.execution_version(ExecutionKey("ns", "wf", "other")) is None
    assert [b.data for b in await store.read_history(key, 1)] == [b"one", b"two"]
    assert [b.data for b in await store.read_history(key, 3)] == [b"two"]
    assert await store.list_tasks() == []


async def test_second_run_cannot_take_a_workflow_id_already_held(store: Store) -> None:
    await start(store, ExecutionKey("ns", "wf", "r1"))
    with pytest.raises(ConcurrentUpdateError):
        await start(store, ExecutionKey("ns", "wf", "r2"))
    current = await store.get_current_execution("ns", "wf")
    assert current is not None and current.run_id == "r1"
    assert await store.load_execution(ExecutionKey("ns", "wf", "r2")) is None


async def test_a_new_run_replaces_only_the_run_it_expects(store: Store) -> None:
    await start(store, ExecutionKey("ns", "wf", "r1"))
    await store.commit(write(ExecutionKey("ns", "wf", "r1"), 1, status=2, current_status=2))
    current = await store.get_current_execution("ns", "wf")
    assert current == CurrentExecution("r1", 2, "req")
    with pytest.raises(ConcurrentUpdateError):
        await store.commit(
            write(
                ExecutionKey("ns", "wf", "r3"),
                0,
                new_current=CurrentExecution("r3", 1, "c"),
                replaced_run_id="not-r1",
            )
        )
    await store.commit(
        write(
            ExecutionKey("ns", "wf", "r2"),
            0,
            new_current=CurrentExecution("r2", 1, "b"),
            replaced_run_id="r1",
        )
    )
    assert await store.get_current_execution("ns", "wf") == CurrentExecution("r2", 1, "b")


async def test_changes_committed_together_land_together_or_not_at_all(store: Store) -> None:
    held, fresh = ExecutionKey("ns", "held", "r1"), ExecutionKey("ns", "fresh", "r1")
    await start(store, held)
    with pytest.raises(ConcurrentUpdateError):
        await store.commit(
            write(fresh, 0, new_current=CurrentExecution("r1", 1, "a"), tasks_added=[task("t-fresh", fresh)]),
            write(held, 0, new_current=CurrentExecution("r1", 1, "b")),
        )
    assert await store.load_execution(fresh) is None
    assert await store.get_current_execution("ns", "fresh") is None
    assert await store.list_tasks() == []


async def test_concurrent_commits_all_land_and_survive_reopen(db_url: str) -> None:
    store = open_store(db_url)
    await store.open()
    keys = [ExecutionKey("ns", f"wf{i}", "run") for i in range(200)]
    await asyncio.gather(
        *(
            start(store, key, tasks_added=[task(f"t{i}", key)], timers_added=[timer(f"x{i}", key, 300.0 - i)])
            for i, key in enumerate(keys)
        )
    )
    racing = [store.commit(write(keys[0], 1, status=n)) for n in range(2, 7)]
    outcomes = await asyncio.gather(*racing, return_exceptions=True)
    assert sum(o is None for o in outcomes) == 1
    assert all(isinstance(o, ConcurrentUpdateError) for o in outcomes if o is not None)
    await store.close()
    reopened = open_store(db_url)
    await reopened.open()
    try:
        tasks = await reopened.list_tasks()
        assert len(tasks) == 200
        timers = await reopened.list_timers()
        assert [t.fire_at for t in timers] == sorted(t.fire_at for t in timers)
        await reopened.remove_stale(["t0"], ["x0"])
        assert len(await reopened.list_tasks()) == 199
        assert len(await reopened.list_timers()) == 199
        stored = await reopened.load_execution(keys[0])
        assert stored is not None and stored.version == 2
    finally:
        await reopened.close()


async def test_tasks_are_listed_in_the_order_they_were_written(store: Store) -> None:
    key = ExecutionKey("ns", "wf", "run")
    ids = ["m", "c", "x", "a"]
    await start(store, key, tasks_added=[task(ids[0], key)])
    for version, task_id in enumerate(ids[1:], start=1):
        await store.commit(write(key, version, tasks_added=[task(task_id, key)]))
    assert [t.task_id for t in await store.list_tasks()] == ids
    assert (await store.list_tasks())[0] == task("m", key)


async def test_deleting_a_run_removes_its_history_tasks_timers_and_id(store: Store) -> None:
    gone, kept = ExecutionKey("ns", "gone", "r"), ExecutionKey("ns", "kept", "r")
    for key in (gone, kept):
        await start(
            store,
            key,
            events=EventBatch(1, 3, b"h"),
            tasks_added=[task(f"t-{key.workflow_id}", key)],
            timers_added=[timer(f"x-{key.workflow_id}", key, 9.0)],
        )
    await store.delete_execution(gone)
    assert await store.load_execution(gone) is None
    assert await store.read_history(gone, 1) == []
    assert await store.get_current_execution("ns", "gone") is None
    assert [t.task_id for t in await store.list_tasks()] == ["t-kept"]
    assert [t.timer_id for t in await store.list_timers()] == ["x-kept"]


async def test_retention_deletes_only_runs_closed_before_the_cutoff(store: Store) -> None:
    for name, close in (("old1", 10.0), ("old2", 20.0), ("recent", 100.0), ("open", None)):
        await start(store, ExecutionKey("ns", name, "r"), close_time=close)
    await start(store, ExecutionKey("other", "old", "r"), close_time=1.0)
    deleted = await store.delete_closed_before("ns", 50.0, limit=1)
    assert deleted == [ExecutionKey("ns", "old1", "r")]
    deleted = await store.delete_closed_before("ns", 50.0, limit=10)
    assert deleted == [ExecutionKey("ns", "old2", "r")]
    assert await store.load_execution(ExecutionKey("ns", "recent", "r")) is not None
    assert await store.load_execution(ExecutionKey("ns", "open", "r")) is not None
    assert await store.load_execution(ExecutionKey("other", "old", "r")) is not None
