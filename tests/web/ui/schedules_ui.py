"""Schedules the UI's schedule tests make through the SDK: each starts the Greeter workflow."""

from __future__ import annotations

import uuid
from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleHandle,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
)

from tests.web.ui import workflows_ui


async def hourly(client: Client, task_queue: str, paused: bool = False, note: str = "") -> ScheduleHandle:
    """A schedule that greets every hour, 5 minutes past; buffering one start when runs overlap."""
    tag = uuid.uuid4().hex[:8]
    return await client.create_schedule(
        f"hourly-{tag}",
        Schedule(
            action=ScheduleActionStartWorkflow(
                workflows_ui.Greeter.run, {"name": "Cron"}, id=f"greet-{tag}", task_queue=task_queue
            ),
            spec=ScheduleSpec(
                intervals=[ScheduleIntervalSpec(every=timedelta(hours=1), offset=timedelta(minutes=5))]
            ),
            policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.BUFFER_ONE),
            state=ScheduleState(paused=paused, note=note),
        ),
    )


async def weekdays(client: Client, task_queue: str) -> ScheduleHandle:
    """A schedule that greets at 09:30 UTC on weekdays, from a cron line."""
    tag = uuid.uuid4().hex[:8]
    return await client.create_schedule(
        f"weekdays-{tag}",
        Schedule(
            action=ScheduleActionStartWorkflow(
                workflows_ui.Greeter.run, {"name": "Week"}, id=f"week-{tag}", task_queue=task_queue
            ),
            spec=ScheduleSpec(cron_expressions=["30 9 * * MON-FRI"]),
        ),
    )
