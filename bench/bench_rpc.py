"""The signal and query workloads: many calls to a few long-running workflows.

Both start a handful of `CounterWorkflow`s (workflow *i* starting its count at
i + 1, so every workflow's answer is distinct) and wait until each one's
history shows a completed workflow task, i.e. every workflow is idle and
cached on the worker before the first measured call. Then:

- **signal**: `handle.signal(CounterWorkflow.increment)` calls, spread
  round-robin over the workflows with bounded concurrency. The latency is the
  client-observed round trip of the SignalWorkflowExecution RPC (the server
  records the signal and schedules a workflow task; the worker's processing
  is not part of it). Afterwards every workflow gets `finish` and its result
  must equal its start value plus the increments sent to it.
- **query**: `handle.query(CounterWorkflow.count)` calls, spread the same way.
  A query goes client -> server -> worker -> server -> client, so its latency
  includes the worker answering; each answer is checked. Afterwards the
  workflows are finished and their results checked as well.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle

from bench_defs import CounterWorkflow
from bench_driver import PhaseResult, Workload

FIRST_TASK_POLL_S = 0.05

CounterHandle = WorkflowHandle[CounterWorkflow, int]


def start_value(index: int) -> int:
    """The count workflow `index` starts from."""
    return index + 1


async def has_completed_a_task(handle: CounterHandle) -> bool:
    """True once the workflow's history holds a WorkflowTaskCompleted event."""
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            return True
    return False


async def wait_first_task(handle: CounterHandle, poll_s: float = FIRST_TASK_POLL_S) -> None:
    """Wait until the worker has completed the workflow's first task (the caller bounds the wait)."""
    while True:
        if await has_completed_a_task(handle):
            return
        await asyncio.sleep(poll_s)


async def start_counters(load: Workload, count: int) -> list[CounterHandle]:
    """Start `count` CounterWorkflows and wait until each has processed its first task."""
    handles = await asyncio.gather(
        *(
            load.client.start_workflow(
                CounterWorkflow.run,
                start_value(index),
                id=f"{load.id_prefix}-{index}",
                task_queue=load.task_queue,
            )
            for index in range(count)
        )
    )
    await asyncio.gather(*(wait_first_task(handle) for handle in handles))
    return list(handles)


async def run_calls(call: Callable[[int], Awaitable[None]], count: int, concurrency: int) -> PhaseResult:
    """Make `count` calls (`call(0)` ... `call(count - 1)`), at most `concurrency` at once.

    Each call's latency is timed on its own, after it got past the
    semaphore, so time spent queueing in the driver is never counted.
    """
    phase = PhaseResult()
    gate = asyncio.Semaphore(concurrency)

    async def guarded(index: int) -> None:
        async with gate:
            began = time.perf_counter()
            try:
                await call(index)
            except Exception as err:
                phase.record_failure(err)
            else:
                phase.latencies_s.append(time.perf_counter() - began)

    began = time.perf_counter()
    await asyncio.gather(*(guarded(index) for index in range(count)))
    phase.wall_s = time.perf_counter() - began
    return phase


class SignalSender:
    """Sends increments round-robin over the workflows and counts those acknowledged."""

    def __init__(self, handles: Sequence[CounterHandle]) -> None:
        self.handles = list(handles)
        self.delivered = [0] * len(self.handles)
        self._next = 0  # keeps successive batches spread evenly

    async def batch(self, count: int, concurrency: int) -> PhaseResult:
        """Send `count` increments; the result's latencies are per `handle.signal` call."""
        offset = self._next
        self._next += count

        async def send(index: int) -> None:
            slot = (offset + index) % len(self.handles)
            await self.handles[slot].signal(CounterWorkflow.increment)
            self.delivered[slot] += 1

        return await run_calls(send, count, concurrency)

    def expected_results(self) -> list[int]:
        """What each workflow must return: its start value plus its acknowledged increments."""
        return [start_value(i) + n for i, n in enumerate(self.delivered)]


async def query_batch(handles: Sequence[CounterHandle], count: int, concurrency: int) -> PhaseResult:
    """Make `count` count queries round-robin over the (unsignalled) workflows, checking each answer."""

    async def ask(index: int) -> None:
        slot = index % len(handles)
        answer = await handles[slot].query(CounterWorkflow.count)
        if answer != start_value(slot):
            raise ValueError(f"{handles[slot].id} answered {answer!r}, expected {start_value(slot)}")

    return await run_calls(ask, count, concurrency)


@dataclass
class Completion:
    """How many workflows finished with the expected result."""

    ok: int = 0
    failed: int = 0
    first_error: str | None = None

    def record(self, message: str) -> None:
        """Count a workflow that failed or returned the wrong count."""
        self.failed += 1
        if self.first_error is None:
            self.first_error = message


async def finish_and_check(handles: Sequence[CounterHandle], expected: Sequence[int]) -> Completion:
    """Signal `finish` to every workflow and compare each result with `expected`."""
    completion = Completion()

    async def finish(handle: CounterHandle, want: int) -> None:
        try:
            await handle.signal(CounterWorkflow.finish)
            got = await handle.result()
        except Exception as err:
            completion.record(f"{handle.id}: {type(err).__name__}: {err}")
            return
        if got == want:
            completion.ok += 1
        else:
            completion.record(f"{handle.id} counted {got}, expected {want} (signals lost or duplicated)")

    await asyncio.gather(*(finish(h, want) for h, want in zip(handles, expected, strict=True)))
    return completion
