"""Workflows and activity shared by the benchmark worker and driver.

All are deliberately trivial so that the measured cost is the server's:

- `EchoWorkflow` (activity workload): one workflow start, two workflow
  tasks, one activity task (the activity echoes its input) and the completion;
- `TimersWorkflow` (timers workload): a few sequential durable timers, so
  the server's timer firing can be timed from the history it records;
- `CounterWorkflow` (signal and query workloads): a long-running workflow
  that counts `increment` signals, answers `count` queries and ends on a
  `finish` signal, returning its count;
- `FanoutWorkflow` (fanout workload): N `echo` activities at once
  (`asyncio.gather`), completing when all have returned;
- `HistoryWorkflow` (history workload): rounds of a few parallel `echo`
  activities until its history holds a target number of events (no
  continue-as-new), so the cost of one more event can be seen as it grows;
- `SignalledRoundsWorkflow` (UI workload): rounds of parallel `echo`
  activities, each round started by a `go` signal, so one run holds about
  1,000 events of several kinds for the web UI's pages to draw.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

from temporalio import activity, workflow

ACTIVITY_TIMEOUT = timedelta(seconds=30)


@activity.defn
async def echo(value: str) -> str:
    """Return the input unchanged: the cheapest possible activity round-trip."""
    return value


@workflow.defn
class EchoWorkflow:
    """Schedule a single `echo` activity and return its result."""

    @workflow.run
    async def run(self, value: str) -> str:
        """Run one activity so each workflow exercises both task queues."""
        return await workflow.execute_activity(echo, value, start_to_close_timeout=ACTIVITY_TIMEOUT)


@workflow.defn
class TimersWorkflow:
    """Sleep for each given duration in turn, each sleep being one server-side timer."""

    @workflow.run
    async def run(self, durations_s: list[float]) -> int:
        """Start one timer per duration, sequentially; return how many fired."""
        for seconds in durations_s:
            await asyncio.sleep(seconds)
        return len(durations_s)


@workflow.defn
class CounterWorkflow:
    """Count `increment` signals until `finish`; `count` queries read the tally."""

    @workflow.init
    def __init__(self, start: int) -> None:
        self._count = start
        self._finished = False

    @workflow.run
    async def run(self, start: int) -> int:
        """Wait for `finish`; return the start value plus the increments received."""
        await workflow.wait_condition(lambda: self._finished)
        return self._count

    @workflow.signal
    def increment(self) -> None:
        """Add one to the count."""
        self._count += 1

    @workflow.signal
    def finish(self) -> None:
        """Let the workflow complete (signals already in its history are still counted)."""
        self._finished = True

    @workflow.query
    def count(self) -> int:
        """The current count."""
        return self._count


@workflow.defn
class FanoutWorkflow:
    """Run `width` echo activities in parallel and wait for all of them."""

    @workflow.run
    async def run(self, width: int) -> int:
        """Return how many activities completed."""
        results = await asyncio.gather(
            *(
                workflow.execute_activity(echo, str(i), start_to_close_timeout=ACTIVITY_TIMEOUT)
                for i in range(width)
            )
        )
        return len(results)


@workflow.defn
class HistoryWorkflow:
    """Run rounds of `width` parallel echo activities until the history reaches `target_events`."""

    @workflow.run
    async def run(self, target_events: int, width: int) -> int:
        """Return the history length seen at the last round (the final events come after)."""
        info = workflow.info()
        while info.get_current_history_length() < target_events:
            await asyncio.gather(
                *(
                    workflow.execute_activity(echo, str(i), start_to_close_timeout=ACTIVITY_TIMEOUT)
                    for i in range(width)
                )
            )
        return info.get_current_history_length()


@workflow.defn
class SignalledRoundsWorkflow:
    """Run `rounds` rounds of `width` parallel echo activities, each round waiting for a `go` signal."""

    def __init__(self) -> None:
        self._signals = 0

    @workflow.run
    async def run(self, rounds: int, width: int) -> int:
        """Return how many activities completed."""
        completed = 0
        for round_index in range(rounds):
            await workflow.wait_condition(self._signalled(round_index + 1))
            results = await asyncio.gather(
                *(
                    workflow.execute_activity(
                        echo, f"{round_index}-{i}", start_to_close_timeout=ACTIVITY_TIMEOUT
                    )
                    for i in range(width)
                )
            )
            completed += len(results)
        return completed

    def _signalled(self, count: int) -> Callable[[], bool]:
        return lambda: self._signals >= count

    @workflow.signal
    def go(self) -> None:
        """Let the next round start."""
        self._signals += 1
