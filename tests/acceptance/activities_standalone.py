"""Activities the standalone activity tests start without a workflow."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError


@activity.defn
async def add_one(number: int) -> int:
    return number + 1


@activity.defn
async def fails_twice(text: str) -> str:
    """Fails its first two attempts; the third returns what the first heartbeat recorded."""
    info = activity.info()
    if info.attempt < 3:
        activity.heartbeat(f"{text} from attempt {info.attempt}")
        raise ApplicationError(f"attempt {info.attempt} failed")
    return f"{info.heartbeat_details[0]}, done on attempt {info.attempt}"


@activity.defn
async def refuses(text: str) -> str:
    raise ApplicationError(f"no {text}", type="Refused", non_retryable=True)


@activity.defn
async def sleeps(seconds: float) -> str:
    await asyncio.sleep(seconds)
    return "woke up"


@activity.defn
async def heartbeats_until_cancelled() -> str:
    while True:
        activity.heartbeat("still here")
        await asyncio.sleep(0.1)


ALL: list[Callable[..., Any]] = [add_one, fails_twice, refuses, sleeps, heartbeats_until_cancelled]


RUNS: list[str] = []
"""The activity IDs ``recorded`` ran for, in this process: each once, or the server lost track."""


@activity.defn
async def recorded(number: int) -> int:
    RUNS.append(activity.info().activity_id)
    return number * 2
