"""Workflows and activity shared by the benchmark worker and driver.

All are deliberately trivial so that the measured cost is the server's:

- `EchoWorkflow` (activity workload): one workflow start, two workflow
  tasks, one activity task (the activity echoes its input) and the completion;
- `TimersWorkflow` (timers workload): a few sequential durable timers, so
  the server's timer firing can be timed from the history it records.
"""

from __future__ import annotations

import asyncio
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
