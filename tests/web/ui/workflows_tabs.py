"""A workflow the run tabs look at: its activity heartbeats and fails twice, then heartbeats and
waits, so the run holds a pending activity with a last failure and heartbeat details."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

FAILED_ATTEMPTS = 2
MAXIMUM_ATTEMPTS = 5


@activity.defn
async def stubborn(job: str) -> str:
    """Heartbeats its progress; fails its first attempts, then waits until cancelled."""
    attempt = activity.info().attempt
    activity.heartbeat({"job": job, "attempt": attempt})
    if attempt <= FAILED_ATTEMPTS:
        raise ApplicationError(f"attempt {attempt} failed")
    await asyncio.sleep(3600)
    return job


@workflow.defn
class Tended:
    """Runs ``stubborn`` and answers updates while it waits."""

    def __init__(self) -> None:
        self.notes: list[str] = []

    @workflow.run
    async def run(self, job: str) -> str:
        return await workflow.execute_activity(
            stubborn,
            job,
            start_to_close_timeout=timedelta(minutes=5),
            heartbeat_timeout=timedelta(minutes=1),
            retry_policy=RetryPolicy(
                initial_interval=timedelta(milliseconds=100),
                backoff_coefficient=1.0,
                maximum_attempts=MAXIMUM_ATTEMPTS,
            ),
        )

    @workflow.update
    def note(self, text: str) -> int:
        self.notes.append(text)
        return len(self.notes)

    @note.validator
    def check_note(self, text: str) -> None:
        if not text:
            raise ValueError("an empty note")


@workflow.defn
class FailsOnce:
    """Fails its first attempt, so a retry policy makes a second run that completes."""

    @workflow.run
    async def run(self) -> str:
        if workflow.info().attempt == 1:
            raise ApplicationError("first attempt fails")
        return "second attempt"
