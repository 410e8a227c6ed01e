"""The execution cache against a real store: what another replica changed is never kept stale."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from temporalio.api.enums.v1 import EventType, WorkflowExecutionStatus
from temporalio.api.history.v1 import History, HistoryEvent

from cadenza.history.machine.state import MutableState
from cadenza.history.service.cache import Entry, ExecutionCache
from cadenza.persistence.records import CurrentExecution, EventBatch, ExecutionKey, ExecutionWrite
from cadenza.persistence.store import Store

KEY = ExecutionKey("ns", "wf", "run")


def write(version: int, task_queue: str) -> ExecutionWrite:
    """A change of KEY from ``version``; its state names ``task_queue``, to tell copies apart."""
    state = MutableState("ns", "default", "wf", "run", "T", task_queue, 1.0, "req", 10.0, 0.0, 0.0)
    current = CurrentExecution("run", 1, "req") if version == 0 else None
    return ExecutionWrite(
        key=KEY,
        expected_version=version,
        state=state.to_bytes(),
        status=1,
        workflow_type="T",
        task_queue=task_queue,
        start_time=1.0,
        new_current=current,
    )


async def test_a_read_overtaken_by_an_announced_change_is_read_again(store: Store) -> None:
    await store.commit(write(0, "first"))
    cache = ExecutionCache(store)
    loading = asyncio.create_task(cache.get(KEY))
    await asyncio.sleep(0)  # the read is under way
    # Another replica commits version 2 and its announcement arrives before the read's result.
    cache.changed_elsewhere(KEY, 2)
    await store.commit(write(1, "second"))
    entry = await loading
    assert entry is not None
    assert (entry.version, entry.state.task_queue) == (2, "second")
    assert cache.peek(KEY) is entry


async def test_an_announcement_drops_an_older_cached_copy_only(store: Store) -> None:
    await store.commit(write(0, "first"))
    cache = ExecutionCache(store)
    first = await cache.get(KEY)
    assert first is not None
    cache.changed_elsewhere(KEY, 1)  # this very version: nothing newer
    assert cache.peek(KEY) is first
    await store.commit(write(1, "second"))
    cache.changed_elsewhere(KEY, 2)
    assert cache.peek(KEY) is None and first.dropped
    again = await cache.get(KEY)
    assert again is not None and again.state.task_queue == "second"


def run_entry(number: int, *, closed: bool) -> Entry:
    """A cached run ``number``, closed (completed) or still running."""
    state = MutableState("ns", "default", f"wf-{number}", "run", "T", "tq", 1.0, "req", 10.0, 0.0, 0.0)
    if closed:
        state.status = WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED
    return Entry(ExecutionKey("ns", f"wf-{number}", "run"), state, 1)


async def test_closed_runs_are_held_up_to_their_own_bound_and_running_ones_stay(store: Store) -> None:
    cache = ExecutionCache(store, capacity=100, closed_capacity=3)
    running = [run_entry(n, closed=False) for n in range(5)]
    closed = [run_entry(n, closed=True) for n in range(5, 10)]
    for entry in [*running, *closed]:
        cache.put(entry)
    assert all(cache.holds(entry) for entry in running)
    assert [cache.holds(entry) for entry in closed] == [False, False, True, True, True]
    assert cache.latest_run("ns", "wf-5") is None  # a forgotten run is not the latest either


async def test_a_run_that_closes_joins_the_closed_ones_and_the_oldest_closed_goes(store: Store) -> None:
    cache = ExecutionCache(store, capacity=100, closed_capacity=1)
    first, second = run_entry(1, closed=True), run_entry(2, closed=False)
    cache.put(first)
    cache.put(second)
    second.state.status = WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_FAILED
    cache.note_state(second)
    assert not cache.holds(first) and cache.holds(second)
    assert cache.size() == 1


def batch(first: int, last: int) -> EventBatch:
    """Events ``first`` to ``last`` (workflow task events, their kind does not matter here)."""
    events = [
        HistoryEvent(event_id=n, event_type=EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED)
        for n in range(first, last + 1)
    ]
    return EventBatch(first, last, History(events=events).SerializeToString())


async def test_a_history_read_during_a_commit_does_not_get_that_commit_twice(store: Store) -> None:
    await store.commit(replace(write(0, "first"), events=batch(1, 2)))
    cache = ExecutionCache(store)
    entry = await cache.get(KEY)
    assert entry is not None
    # The commit of events 3-4 has reached the store, and a history load ran before the
    # committing change could add them to the cached copy: the load read them already.
    committed = batch(3, 4)
    await store.commit(replace(write(1, "first"), events=committed))
    entry.state.next_event_id = 5
    loaded = await cache.history(entry)
    cache.add_committed(entry, committed)
    assert [event.event_id for event in loaded] == [1, 2, 3, 4]


async def test_a_commit_extends_a_history_loaded_before_it(store: Store) -> None:
    await store.commit(replace(write(0, "first"), events=batch(1, 2)))
    cache = ExecutionCache(store)
    entry = await cache.get(KEY)
    assert entry is not None
    entry.state.next_event_id = 3
    loaded = await cache.history(entry)
    cache.add_committed(entry, batch(3, 4))
    assert [event.event_id for event in loaded] == [1, 2, 3, 4]
    cache.add_committed(entry, batch(6, 6))  # a gap: the copy is read again when needed
    assert entry.events is None
