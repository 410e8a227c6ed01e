"""Workflows whose activities an operator pauses, unpauses, resets or changes."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.common import RetryPolicy


@activity.defn
async def heartbeat_until_stopped() -> str:
    """Heartbeat until the server says stop; answer why, as the SDK read it."""
    try:
        while True:
            activity.heartbeat("progress")
            await asyncio.sleep(0.2)
    except asyncio.CancelledError:
        details = activity.cancellation_details()
        return f"paused={details.paused} reset={details.reset}" if details else "no details"


@activity.defn
async def fail_until_attempt_three() -> int:
    attempt = activity.info().attempt
    if attempt < 3:
        raise RuntimeError(f"attempt {attempt} fails")
    return attempt


@workflow.defn(sandboxed=False)
class HeartbeatingActivity:
    @workflow.run
    async def run(self) -> str:
        return await workflow.execute_activity(
            heartbeat_until_stopped,
            activity_id="hb",
            start_to_close_timeout=timedelta(seconds=60),
            heartbeat_timeout=timedelta(seconds=5),
            retry_policy=RetryPolicy(maximum_attempts=1),
        )


@workflow.defn(sandboxed=False)
class SlowlyRetriedActivity:
    """An activity that fails twice, retried only after a backoff far longer than a test."""

    @workflow.run
    async def run(self) -> int:
        return await workflow.execute_activity(
            fail_until_attempt_three,
            activity_id="retried",
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=RetryPolicy(initial_interval=timedelta(seconds=300), backoff_coefficient=1),
        )


WORKFLOWS = [HeartbeatingActivity, SlowlyRetriedActivity]
ACTIVITIES = [heartbeat_until_stopped, fail_until_attempt_three]
