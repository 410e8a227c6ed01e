"""Workflows whose outcomes the metrics tests count: each ends in one known way."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

ONCE = RetryPolicy(maximum_attempts=1)


@activity.defn
async def greet(name: str) -> str:
    return f"Hello, {name}!"


@activity.defn
async def refuse(name: str) -> str:
    raise ApplicationError(f"no for {name}", non_retryable=True)


@activity.defn
async def dawdle(seconds: float) -> str:
    await asyncio.sleep(seconds)
    return "late"


@workflow.defn
class Greets:
    """Completes after one activity that succeeds."""

    @workflow.run
    async def run(self, name: str) -> str:
        return await workflow.execute_activity(greet, name, start_to_close_timeout=timedelta(seconds=10))


@workflow.defn
class Fails:
    """Fails at once."""

    @workflow.run
    async def run(self) -> None:
        raise ApplicationError("this workflow fails", non_retryable=True)


@workflow.defn
class Waits:
    """Waits until it is terminated or cancelled."""

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: False)


@workflow.defn
class ActivitiesGoWrong:
    """Completes after one activity fails for good and another times out for good."""

    @workflow.run
    async def run(self) -> list[str]:
        outcomes = []
        try:
            await workflow.execute_activity(
                refuse, "x", start_to_close_timeout=timedelta(seconds=10), retry_policy=ONCE
            )
        except ActivityError as error:
            outcomes.append(type(error.cause).__name__)
        try:
            await workflow.execute_activity(
                dawdle, 30.0, start_to_close_timeout=timedelta(seconds=1), retry_policy=ONCE
            )
        except ActivityError as error:
            outcomes.append(type(error.cause).__name__)
        return outcomes


WORKFLOWS = [Greets, Fails, Waits, ActivitiesGoWrong]
ACTIVITIES: list[Callable[..., Any]] = [greet, refuse, dawdle]
