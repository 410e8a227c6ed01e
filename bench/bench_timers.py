"""The timers workload: workflows that sleep, and timer lateness read from their histories.

Each `TimersWorkflow` starts one durable timer per configured duration, one
after another. Lateness is computed purely from server-stamped history
events, so neither the worker nor the driver's own scheduling affects it:

    lateness = TimerFired.event_time - (TimerStarted.event_time + start_to_fire_timeout)

Histories are fetched only after every workflow has completed, outside the
timed phase, so fetching never inflates the wall time or CPU figures.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHandle

from bench_defs import TimersWorkflow
from bench_driver import PhaseResult, Workload

FETCH_CONCURRENCY = 10
NS_PER_S = 1_000_000_000


class TimerSample(NamedTuple):
    """One fired timer: its requested duration and how late it fired (seconds)."""

    nominal_s: float
    lateness_s: float


@dataclass
class TimerLateness:
    """Lateness samples gathered from a set of histories."""

    samples: list[TimerSample] = field(default_factory=list)
    unfired: int = 0  # TimerStarted events with no matching TimerFired

    def add_history(self, events: Iterable[HistoryEvent]) -> None:
        """Extract every started-and-fired timer pair from one workflow history."""
        started: dict[int, tuple[int, int]] = {}  # event id -> (start ns, timeout ns)
        for event in events:
            if event.event_type == EventType.EVENT_TYPE_TIMER_STARTED:
                timeout = event.timer_started_event_attributes.start_to_fire_timeout
                started[event.event_id] = (event.event_time.ToNanoseconds(), timeout.ToNanoseconds())
            elif event.event_type == EventType.EVENT_TYPE_TIMER_FIRED:
                start_ns, timeout_ns = started.pop(event.timer_fired_event_attributes.started_event_id)
                late_ns = event.event_time.ToNanoseconds() - (start_ns + timeout_ns)
                self.samples.append(TimerSample(timeout_ns / NS_PER_S, late_ns / NS_PER_S))
            elif event.event_type == EventType.EVENT_TYPE_TIMER_CANCELED:
                started.pop(event.timer_canceled_event_attributes.started_event_id, None)
        self.unfired += len(started)


TimersHandle = WorkflowHandle[TimersWorkflow, int]


async def start_and_wait(load: Workload, index: int, durations_s: Sequence[float]) -> TimersHandle:
    """Run one timers workflow to completion and return its handle (for the history)."""
    handle = await load.client.start_workflow(
        TimersWorkflow.run,
        list(durations_s),
        id=f"{load.id_prefix}-{index}",
        task_queue=load.task_queue,
    )
    fired = await handle.result()
    if fired != len(durations_s):
        raise ValueError(f"workflow reported {fired} timers, expected {len(durations_s)}")
    return handle


async def run_timer_workflows(
    load: Workload, count: int, concurrency: int, durations_s: Sequence[float]
) -> tuple[PhaseResult, list[TimersHandle]]:
    """Run `count` timers workflows, at most `concurrency` at once.

    Returns the phase (per-workflow latency, wall time, failures) and the
    handles of the workflows that completed, whose histories are read later.
    """
    phase = PhaseResult()
    handles: list[TimersHandle] = []
    gate = asyncio.Semaphore(concurrency)

    async def guarded(index: int) -> None:
        async with gate:
            began = time.perf_counter()
            try:
                handles.append(await start_and_wait(load, index, durations_s))
            except Exception as err:
                phase.record_failure(err)
            else:
                phase.latencies_s.append(time.perf_counter() - began)

    began = time.perf_counter()
    await asyncio.gather(*(guarded(i) for i in range(count)))
    phase.wall_s = time.perf_counter() - began
    return phase, handles


async def collect_lateness(
    handles: Sequence[TimersHandle], concurrency: int = FETCH_CONCURRENCY
) -> TimerLateness:
    """Fetch each completed workflow's history and gather its timer lateness."""
    gate = asyncio.Semaphore(concurrency)

    async def fetch(handle: TimersHandle) -> Sequence[HistoryEvent]:
        async with gate:
            return (await handle.fetch_history()).events

    lateness = TimerLateness()
    for events in await asyncio.gather(*(fetch(h) for h in handles)):
        lateness.add_history(events)
    return lateness
