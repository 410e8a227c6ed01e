"""Workflows for the backup, restore and copy tests: each waits on timers and runs an activity,
so a database taken mid-run holds timers, tasks and activities in flight."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.common import RetryPolicy


@activity.defn
async def step(number: int) -> str:
    await asyncio.sleep(0.2)
    return f"step {number}"


@workflow.defn
class TimerActivityTimer:
    @workflow.run
    async def run(self, number: int) -> str:
        await asyncio.sleep(1.5)
        result = await workflow.execute_activity(
            step,
            number,
            start_to_close_timeout=timedelta(seconds=3),
            retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=200)),
        )
        await asyncio.sleep(1.5)
        return result


@workflow.defn
class Tick:
    """What the schedule starts."""

    @workflow.run
    async def run(self) -> str:
        return "tick"
