"""The SQLite store on real files: conditional writes, group commit, recovery."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from cadenza.exceptions import ConcurrentUpdateError, NamespaceAlreadyExistsError
from cadenza.persistence import open_store
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


def write(key: ExecutionKey, version: int, **extra: object) -> ExecutionWrite:
    return ExecutionWrite(key=key, expected_version=version, state=b"{}", status=1,
                          workflow_type="T", task_queue="q", start_time=1.0, **extra)  # type: ignore[arg-type]


async def test_namespace_names_are_unique(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "a.db"))
    await store.open()
    try:
        await store.create_namespace(NamespaceRecord("1", "default", {"description": "d"}))
        with pytest.raises(NamespaceAlreadyExistsError):
            await store.create_namespace(NamespaceRecord("2", "default", {}))
        assert [n.id for n in await store.list_namespaces()] == ["1"]
    finally:
        await store.close()


async def test_stale_version_is_rejected_and_writes_nothing(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "a.db"))
    await store.open()
    key = ExecutionKey("ns", "wf", "run")
    try:
        await store.commit(write(key, 0, new_current=CurrentExecution("run", 1, "req"),
                                 events=EventBatch(1, 2, b"one")))
        await store.commit(write(key, 1, events=EventBatch(3, 3, b"two")))
        task = TaskRecord("t1", "ns", "q", TaskKind.WORKFLOW, "wf", "run", 3, 1)
        with pytest.raises(ConcurrentUpdateError):
            await store.commit(write(key, 1, events=EventBatch(4, 4, b"lost"), tasks_added=[task]))
        stored = await store.load_execution(key)
        assert stored is not None and stored.version == 2
        assert [b.data for b in await store.read_history(key, 1)] == [b"one", b"two"]
        assert await store.list_tasks() == []
    finally:
        await store.close()


async def test_second_run_cannot_take_a_workflow_id_already_held(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "a.db"))
    await store.open()
    try:
        await store.commit(write(ExecutionKey("ns", "wf", "r1"), 0,
                                 new_current=CurrentExecution("r1", 1, "a")))
        with pytest.raises(ConcurrentUpdateError):
            await store.commit(write(ExecutionKey("ns", "wf", "r2"), 0,
                                     new_current=CurrentExecution("r2", 1, "b")))
        current = await store.get_current_execution("ns", "wf")
        assert current is not None and current.run_id == "r1"
        assert await store.load_execution(ExecutionKey("ns", "wf", "r2")) is None
    finally:
        await store.close()


async def test_concurrent_commits_all_land_and_survive_reopen(tmp_path: Path) -> None:
    path = str(tmp_path / "a.db")
    store = open_store(path)
    await store.open()
    keys = [ExecutionKey("ns", f"wf{i}", "run") for i in range(200)]
    await asyncio.gather(*(
        store.commit(write(
            key, 0, new_current=CurrentExecution("run", 1, "r"),
            tasks_added=[TaskRecord(f"t{i}", "ns", "q", TaskKind.ACTIVITY, key.workflow_id, "run", 5, 1)],
            timers_added=[TimerRecord(f"x{i}", 100.0 + i, "ns", key.workflow_id, "run", "k", 5, 1)],
        ))
        for i, key in enumerate(keys)
    ))
    await store.close()
    reopened = open_store(path)
    await reopened.open()
    try:
        assert len(await reopened.list_tasks()) == 200
        timers = await reopened.list_timers()
        assert [t.fire_at for t in timers] == sorted(t.fire_at for t in timers)
        await reopened.remove_stale(["t0"], ["x0"])
        assert len(await reopened.list_tasks()) == 199
    finally:
        await reopened.close()
