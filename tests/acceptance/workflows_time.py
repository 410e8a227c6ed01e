"""Workflows about time and failure: timers, cancellation, heartbeats, timeouts."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, CancelledError


@activity.defn
async def heartbeat_until_cancelled() -> str:
    while True:  # ends with the CancelledError a heartbeat response delivers
        activity.heartbeat("alive")
        await asyncio.sleep(0.1)


@activity.defn
async def stalls_after_one_heartbeat() -> str:
    info = activity.info()
    if info.attempt == 1:
        activity.heartbeat("progress-1")
        await asyncio.sleep(10)
        return "first attempt should have timed out"
    return f"attempt {info.attempt} resumed from {list(info.heartbeat_details)}"


@activity.defn
async def completes_later() -> str:
    activity.raise_complete_async()


@activity.defn
async def sleeps(seconds: float) -> str:
    await asyncio.sleep(seconds)
    return "woke"


ACTIVITIES: list[Callable[..., Any]] = [
    heartbeat_until_cancelled,
    stalls_after_one_heartbeat,
    completes_later,
    sleeps,
]


@workflow.defn
class Sleeper:
    @workflow.run
    async def run(self, seconds: float) -> str:
        await asyncio.sleep(seconds)
        return f"slept {seconds}"


@workflow.defn
class ZeroTimer:
    """A timer of zero duration: Temporal starts it and fires it at once."""

    @workflow.run
    async def run(self) -> str:
        await workflow.sleep(0, summary="zero")
        return "fired"


@workflow.defn
class CancelsItsActivity:
    @workflow.run
    async def run(self) -> str:
        handle = workflow.start_activity(
            heartbeat_until_cancelled,
            start_to_close_timeout=timedelta(seconds=30),
            heartbeat_timeout=timedelta(seconds=5),
            cancellation_type=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
        )
        await asyncio.sleep(0.5)
        handle.cancel()
        try:
            return await handle
        except ActivityError as err:
            assert isinstance(err.cause, CancelledError)
            return "cancelled"


@workflow.defn
class ResumesFromHeartbeat:
    @workflow.run
    async def run(self) -> str:
        return await workflow.execute_activity(
            stalls_after_one_heartbeat,
            start_to_close_timeout=timedelta(seconds=30),
            heartbeat_timeout=timedelta(seconds=1),
            retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=100)),
        )


@workflow.defn
class CompletedFromOutside:
    @workflow.run
    async def run(self) -> str:
        return await workflow.execute_activity(
            completes_later, activity_id="outside", start_to_close_timeout=timedelta(seconds=30)
        )


@workflow.defn
class ScheduleToCloseTimeout:
    @workflow.run
    async def run(self) -> str:
        try:
            return await workflow.execute_activity(
                sleeps, 5.0, schedule_to_close_timeout=timedelta(seconds=1)
            )
        except ActivityError as err:
            return f"{type(err.cause).__name__}: {err.cause}"


@workflow.defn
class CancellableSleeper:
    @workflow.run
    async def run(self) -> str:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            return "cleaned up after cancel"
        return "not cancelled"


@workflow.defn
class CancelTimerEarly:
    @workflow.run
    async def run(self) -> str:
        try:
            await asyncio.wait_for(asyncio.sleep(3600), timeout=0.3)
        except TimeoutError:
            return "gave up on the long timer"
        return "impossible"


WORKFLOWS = [
    Sleeper,
    ZeroTimer,
    CancelsItsActivity,
    ResumesFromHeartbeat,
    CompletedFromOutside,
    ScheduleToCloseTimeout,
    CancellableSleeper,
    CancelTimerEarly,
]


@workflow.defn
class FailsUntilThirdAttempt:
    @workflow.run
    async def run(self) -> str:
        attempt = workflow.info().attempt
        if attempt < 3:
            raise ApplicationError(f"run attempt {attempt} fails")
        return f"succeeded on run attempt {attempt}"


@workflow.defn
class CronRun:
    @workflow.run
    async def run(self) -> str:
        last = workflow.get_last_completion_result(str)
        return f"cron run after {last!r}"


WORKFLOWS.extend([FailsUntilThirdAttempt, CronRun])


@workflow.defn
class FailsItsFirstTasks:
    """Its workflow task fails until the given time, then the workflow completes."""

    @workflow.run
    async def run(self, fail_until: float) -> str:
        if workflow.now().timestamp() < fail_until:
            raise RuntimeError("workflow task failure on purpose")
        return "completed after failing tasks"


WORKFLOWS.append(FailsItsFirstTasks)


@workflow.defn
class UsesLocalActivityAndPatch:
    """A local activity and a patch: both are recorded as markers."""

    @workflow.run
    async def run(self) -> str:
        result = await workflow.execute_local_activity(
            sleeps, 0.0, start_to_close_timeout=timedelta(seconds=5)
        )
        return f"{result}, patched={workflow.patched('my-patch')}"


@workflow.defn
class NobodyPicksUpItsActivity:
    @workflow.run
    async def run(self) -> str:
        try:
            return await workflow.execute_activity(
                sleeps,
                0.0,
                task_queue="a-queue-nobody-polls",
                schedule_to_start_timeout=timedelta(milliseconds=500),
                start_to_close_timeout=timedelta(seconds=5),
            )
        except ActivityError as err:
            return f"{type(err.cause).__name__}: {err.cause}"


WORKFLOWS.extend([UsesLocalActivityAndPatch, NobodyPicksUpItsActivity])


@workflow.defn
class QuickActivityThenWait:
    """Runs an activity that ends well inside its timeouts, then waits to be told to finish."""

    def __init__(self) -> None:
        self.finished = False

    @workflow.run
    async def run(self) -> str:
        result = await workflow.execute_activity(
            sleeps,
            0.0,
            start_to_close_timeout=timedelta(seconds=1),
            schedule_to_close_timeout=timedelta(seconds=1),
        )
        await workflow.wait_condition(lambda: self.finished)
        return result

    @workflow.signal
    def finish(self) -> None:
        self.finished = True


WORKFLOWS.append(QuickActivityThenWait)
