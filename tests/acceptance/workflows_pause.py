"""Workflows an operator pauses and unpauses."""

from __future__ import annotations

import time
from datetime import timedelta

from temporalio import activity, workflow


@activity.defn
async def greet(name: str) -> str:
    return f"hello {name}"


@workflow.defn(sandboxed=False)
class SignalWaiter:
    """Ends with the first two signals it is sent."""

    def __init__(self) -> None:
        self.got: list[str] = []

    @workflow.run
    async def run(self) -> list[str]:
        await workflow.wait_condition(lambda: len(self.got) >= 2)
        return self.got

    @workflow.signal
    def poke(self, value: str) -> None:
        self.got.append(value)


@workflow.defn(sandboxed=False)
class Greeter:
    """Runs one activity on the queue it is given."""

    @workflow.run
    async def run(self, activity_queue: str) -> str:
        return await workflow.execute_activity(
            greet, "paused", task_queue=activity_queue, start_to_close_timeout=timedelta(seconds=30)
        )


@workflow.defn(sandboxed=False)
class SleepThenWait:
    """Sleeps two seconds, then waits for an update."""

    def __init__(self) -> None:
        self.bumps = 0

    @workflow.run
    async def run(self) -> int:
        await workflow.sleep(2)
        await workflow.wait_condition(lambda: self.bumps > 0)
        return self.bumps

    @workflow.update
    def bump(self) -> int:
        self.bumps += 1
        return self.bumps


@workflow.defn(sandboxed=False)
class SlowFirstTask:
    """A first workflow task long enough to be paused in; it schedules an activity."""

    def __init__(self) -> None:
        self.go = False

    @workflow.run
    async def run(self) -> str:
        time.sleep(1.2)  # noqa: ASYNC251 - holds the task on purpose, under the SDK's 2 s deadlock limit
        result = await workflow.execute_activity(greet, "later", start_to_close_timeout=timedelta(seconds=30))
        await workflow.wait_condition(lambda: self.go)
        return result

    @workflow.signal
    def proceed(self) -> None:
        self.go = True


WORKFLOWS = [SignalWaiter, Greeter, SleepThenWait, SlowFirstTask]
ACTIVITIES = [greet]
