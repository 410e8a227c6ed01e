"""A workflow that schedules many activities at once, and an activity that notes when the server
handed it out, for the rate-limit tests."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import activity, workflow

STARTS: list[float] = []
"""When each activity task was handed to a worker, as the server recorded it (its start time)."""


@activity.defn
async def note_start() -> None:
    STARTS.append(activity.info().started_time.timestamp())


@workflow.defn
class ManyActivities:
    @workflow.run
    async def run(self, count: int) -> None:
        await asyncio.gather(
            *(
                workflow.execute_activity(note_start, start_to_close_timeout=timedelta(seconds=60))
                for _ in range(count)
            )
        )
