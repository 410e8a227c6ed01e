"""The Store's standalone activities, run on every backend: a run written with its tasks and
timers in one conditional transaction, its latest run found by ID, and listings by filter."""

from __future__ import annotations

import pytest

from cadenza.exceptions import ConcurrentUpdateError
from cadenza.persistence.records import (
    StandaloneActivityWrite,
    TaskKind,
    TaskRecord,
    TimerRecord,
)
from cadenza.persistence.standalone_sql import ACTIVITY_COLUMNS
from cadenza.persistence.store import Store
from cadenza.visibility import filters
from cadenza.visibility.query import parse

RUNNING, COMPLETED = 1, 2


def write(
    run_id: str, version: int = 0, *, status: int = RUNNING, start: float = 100.0, **more: object
) -> StandaloneActivityWrite:
    return StandaloneActivityWrite(
        "ns",
        "act",
        run_id,
        version,
        "AddOne",
        "q",
        status,
        start,
        None if status == RUNNING else start + 1,
        f"req-{run_id}",
        f"state of {run_id} v{version}".encode(),
        **more,  # type: ignore[arg-type]
    )


def task(task_id: str, run_id: str) -> TaskRecord:
    return TaskRecord(task_id, "ns", "q", TaskKind.ACTIVITY, "act", run_id, 0, 1)


def timer(timer_id: str, run_id: str) -> TimerRecord:
    return TimerRecord(timer_id, 200.0, "ns", "act", run_id, "standalone_activity_start_to_close", 0, 1)


async def test_a_run_is_written_with_its_tasks_and_timers(store: Store) -> None:
    await store.write_standalone_activity(
        write("r1", tasks_added=[task("t1", "r1")], timers_added=[timer("x1", "r1")])
    )
    stored = await store.get_standalone_activity("ns", "act", "r1")
    assert stored is not None and (stored.version, stored.request_id, stored.state) == (
        1,
        "req-r1",
        b"state of r1 v0",
    )
    assert [t.task_id for t in await store.list_tasks()] == ["t1"]
    assert [t.timer_id for t in await store.list_timers()] == ["x1"]

    await store.write_standalone_activity(
        write("r1", 1, status=COMPLETED, tasks_removed=["t1"], timers_removed=["x1"])
    )
    stored = await store.get_standalone_activity("ns", "act", "r1")
    assert stored is not None and (stored.version, stored.state) == (2, b"state of r1 v1")
    assert await store.list_tasks() == [] and await store.list_timers() == []


async def test_a_stale_version_or_a_taken_run_changes_nothing(store: Store) -> None:
    await store.write_standalone_activity(write("r1"))
    with pytest.raises(ConcurrentUpdateError):
        await store.write_standalone_activity(write("r1"))
    with pytest.raises(ConcurrentUpdateError):
        await store.write_standalone_activity(write("r1", 7, tasks_added=[task("t1", "r1")]))
    assert await store.list_tasks() == []
    stored = await store.get_standalone_activity("ns", "act", "r1")
    assert stored is not None and stored.version == 1


async def test_the_latest_run_is_found_by_the_activity_id_alone(store: Store) -> None:
    assert await store.get_standalone_activity("ns", "act", "") is None
    await store.write_standalone_activity(write("old", status=COMPLETED, start=100.0))
    await store.write_standalone_activity(write("new", start=200.0))
    latest = await store.get_standalone_activity("ns", "act", "")
    assert latest is not None and latest.run_id == "new"
    await store.write_standalone_activity(write("old", 1, status=COMPLETED, delete=True))
    assert await store.get_standalone_activity("ns", "act", "old") is None


async def test_runs_are_listed_and_counted_by_filter(store: Store) -> None:
    await store.write_standalone_activity(write("r1", status=COMPLETED, start=100.0))
    await store.write_standalone_activity(write("r2", start=200.0))
    everything = filters.check(parse("ActivityType = 'AddOne'"), {}, built_in=ACTIVITY_COLUMNS)
    listed = await store.list_standalone_activities("ns", everything, {}, 10, None)
    assert [run.run_id for run in listed] == ["r2", "r1"]  # newest first
    after_first = (listed[0].start_time, listed[0].activity_id, listed[0].run_id)
    second_page = await store.list_standalone_activities("ns", everything, {}, 1, after_first)
    assert [run.run_id for run in second_page] == ["r1"]
    running = filters.check(parse("ExecutionStatus = 'Running'"), {}, built_in=ACTIVITY_COLUMNS)
    assert [run.run_id for run in await store.list_standalone_activities("ns", running, {}, 10, None)] == [
        "r2"
    ]
    grouped = filters.check(
        parse("ActivityId = 'act' GROUP BY ExecutionStatus"), {}, counting=True, built_in=ACTIVITY_COLUMNS
    )
    assert sorted(await store.count_standalone_activities("ns", grouped, {})) == [
        (RUNNING, 1),
        (COMPLETED, 1),
    ]
    assert await store.count_standalone_activities("other", grouped, {}) == []


async def test_a_deleted_namespace_takes_its_activities_along(store: Store) -> None:
    await store.write_standalone_activity(write("r1"))
    await store.delete_namespace("ns")
    assert await store.get_standalone_activity("ns", "act", "r1") is None


async def test_runs_closed_before_the_cutoff_are_deleted_oldest_first(store: Store) -> None:
    await store.write_standalone_activity(write("early", status=COMPLETED, start=100.0))
    await store.write_standalone_activity(write("late", status=COMPLETED, start=300.0))
    await store.write_standalone_activity(write("open", start=50.0))
    assert await store.delete_closed_standalone_activities("ns", 1000.0, 1) == 1
    assert await store.get_standalone_activity("ns", "act", "early") is None
    assert await store.delete_closed_standalone_activities("ns", 200.0, 10) == 0
    assert await store.delete_closed_standalone_activities("ns", 1000.0, 10) == 1
    assert await store.get_standalone_activity("ns", "act", "open") is not None


async def test_pages_walk_runs_started_at_the_same_time_each_once(store: Store) -> None:
    for run_id in ("c", "a", "b"):
        await store.write_standalone_activity(write(run_id, start=100.0))
    everything = filters.check(parse(""), {}, built_in=ACTIVITY_COLUMNS)
    seen: list[str] = []
    after = None
    while page := await store.list_standalone_activities("ns", everything, {}, 1, after):
        seen.append(page[0].run_id)
        after = (page[0].start_time, page[0].activity_id, page[0].run_id)
    assert seen == ["a", "b", "c"]
