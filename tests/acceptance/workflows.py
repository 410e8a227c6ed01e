"""Workflows and activities the acceptance tests run through the official SDK."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

FAST_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=100), maximum_interval=timedelta(seconds=1))


@activity.defn
async def echo(value: str) -> str:
    return value


@activity.defn
async def shout(name: str) -> str:
    return f"Hello, {name}!"


@activity.defn
async def fails_twice(tag: str) -> str:
    attempt = activity.info().attempt
    if attempt < 3:
        raise RuntimeError(f"{tag} failed on attempt {attempt}")
    return f"{tag} succeeded on attempt {attempt}"


@activity.defn
async def fails_for_good(tag: str) -> str:
    raise ApplicationError(f"{tag} cannot work", "details!", type="Unrecoverable", non_retryable=True)


@activity.defn
async def always_fails(tag: str) -> str:
    raise RuntimeError(f"{tag} attempt {activity.info().attempt}")


@activity.defn
async def slow(seconds: float) -> str:
    await asyncio.sleep(seconds)
    return f"slept {seconds}"


ALL_ACTIVITIES: list[Callable[..., Any]] = [echo, shout, fails_twice, fails_for_good, always_fails, slow]


@workflow.defn
class OneActivity:
    @workflow.run
    async def run(self, name: str) -> str:
        return await workflow.execute_activity(shout, name, start_to_close_timeout=timedelta(seconds=10))


@workflow.defn
class SequentialActivities:
    @workflow.run
    async def run(self, count: int) -> list[str]:
        results = []
        for i in range(count):
            results.append(
                await workflow.execute_activity(
                    echo, f"step-{i}", start_to_close_timeout=timedelta(seconds=10)
                )
            )
        return results


@workflow.defn
class ConcurrentActivities:
    @workflow.run
    async def run(self, count: int) -> list[str]:
        return list(
            await asyncio.gather(
                *(
                    workflow.execute_activity(echo, f"item-{i}", start_to_close_timeout=timedelta(seconds=30))
                    for i in range(count)
                )
            )
        )


@workflow.defn
class Retrying:
    @workflow.run
    async def run(self, tag: str) -> str:
        return await workflow.execute_activity(
            fails_twice, tag, start_to_close_timeout=timedelta(seconds=10), retry_policy=FAST_RETRY
        )


@workflow.defn
class NonRetryable:
    @workflow.run
    async def run(self, tag: str) -> str:
        return await workflow.execute_activity(
            fails_for_good, tag, start_to_close_timeout=timedelta(seconds=10)
        )


@workflow.defn
class LimitedAttempts:
    @workflow.run
    async def run(self, tag: str) -> str:
        return await workflow.execute_activity(
            always_fails,
            tag,
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=100), maximum_attempts=2),
        )


@workflow.defn
class Failing:
    @workflow.run
    async def run(self, tag: str) -> str:
        raise ApplicationError(f"{tag}: the workflow says no", "detail", type="WorkflowSaysNo")


@workflow.defn
class Echo:
    @workflow.run
    async def run(self, payload: str) -> str:
        return await workflow.execute_activity(echo, payload, start_to_close_timeout=timedelta(seconds=30))


@workflow.defn
class SlowActivity:
    @workflow.run
    async def run(self, seconds: float) -> str:
        return await workflow.execute_activity(slow, seconds, start_to_close_timeout=timedelta(seconds=30))


@workflow.defn
class WaitsForever:
    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: False)


ALL_WORKFLOWS = [
    OneActivity,
    SequentialActivities,
    ConcurrentActivities,
    Retrying,
    NonRetryable,
    LimitedAttempts,
    Failing,
    Echo,
    SlowActivity,
    WaitsForever,
]


@workflow.defn
class TwoSteps:
    """Two activities, so a crash can land between, during or after them."""

    @workflow.run
    async def run(self, n: int) -> str:
        first = await workflow.execute_activity(
            slow, 0.5, start_to_close_timeout=timedelta(seconds=5), retry_policy=FAST_RETRY
        )
        second = await workflow.execute_activity(
            echo, f"{n}", start_to_close_timeout=timedelta(seconds=5), retry_policy=FAST_RETRY
        )
        return f"{first}/{second}"


ALL_WORKFLOWS.append(TwoSteps)
