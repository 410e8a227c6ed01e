"""The mixed workload the fault test runs: activities, timers, signals, updates, a child,
continue-as-new, and a schedule's workflows.

The activity notes each attempt it receives in ``DELIVERIES`` (the worker runs in the test's
process), so the test can check that no attempt reached a worker twice.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow
from temporalio.common import RetryPolicy

DELIVERIES: list[tuple[str, str, str, str]] = []
"""(workflow ID, run ID, activity ID, attempt) of every activity task a worker received."""

RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=1))


@activity.defn
async def touch(value: int) -> int:
    info = activity.info()
    DELIVERIES.append((str(info.workflow_id), str(info.workflow_run_id), info.activity_id, str(info.attempt)))
    return value + 1


def _run_activity(value: int) -> workflow.ActivityHandle[int]:
    return workflow.start_activity(
        touch, value, start_to_close_timeout=timedelta(seconds=5), retry_policy=RETRY
    )


@workflow.defn
class Leaf:
    """A child and a schedule's action: one activity."""

    @workflow.run
    async def run(self, value: int) -> int:
        return await _run_activity(value)


@workflow.defn
class Mixed:
    """Runs an activity, sleeps, waits for the ``go`` signal, answers ``bump`` updates, runs a
    child, and continues as new once before it completes."""

    def __init__(self) -> None:
        self.signals = 0
        self.bumps = 0

    @workflow.run
    async def run(self, generation: int) -> int:
        total = await _run_activity(generation)
        await workflow.sleep(0.2)
        await workflow.wait_condition(lambda: self.signals > 0)
        total += await workflow.execute_child_workflow(
            Leaf.run,
            total,
            id=f"{workflow.info().workflow_id}-child-{generation}",
            task_timeout=timedelta(seconds=2),
        )
        if generation == 0:
            workflow.continue_as_new(1)
        await workflow.wait_condition(lambda: self.bumps > 0)
        return total

    @workflow.signal
    def go(self) -> None:
        self.signals += 1

    @workflow.update
    def bump(self) -> int:
        self.bumps += 1
        return self.bumps


@workflow.defn
class Gate:
    """Waits for the ``go`` signal, then runs one activity."""

    def __init__(self) -> None:
        self.open = False

    @workflow.run
    async def run(self, value: int = 0) -> int:
        await workflow.wait_condition(lambda: self.open)
        return await _run_activity(value)

    @workflow.signal
    def go(self) -> None:
        self.open = True


WORKFLOWS = [Mixed, Leaf, Gate]
ACTIVITIES = [touch]
