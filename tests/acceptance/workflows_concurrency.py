"""Workflows and activities for the concurrency-limit tests, and a worker to run as a process.

``python -m tests.acceptance.workflows_concurrency ADDRESS QUEUE LOG`` runs a worker that
appends a line to ``LOG`` as each activity attempt starts and ends, until it is killed.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.common import Priority, RetryPolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

ACTIVITY_SECONDS = 1.0


@activity.defn
async def slow_step(label: str) -> str:
    """Holds its slot a while; logs its start and end so the test can see the overlaps."""
    log = os.environ["CONCURRENCY_LOG"]
    attempt = activity.info().attempt
    _note(log, f"start {label} {attempt} {time.time()}")
    await asyncio.sleep(ACTIVITY_SECONDS)
    _note(log, f"end {label} {attempt} {time.time()}")
    return label


def _note(path: str, line: str) -> None:
    with open(path, "a") as out:
        out.write(line + "\n")


@workflow.defn
class OneStep:
    """Runs one slow activity, retried quickly when its worker dies."""

    @workflow.run
    async def run(self, label: str, fairness_key: str) -> str:
        return await workflow.execute_activity(
            slow_step,
            label,
            start_to_close_timeout=timedelta(seconds=2),
            retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=100), backoff_coefficient=1.0),
            priority=_priority(fairness_key),
        )


def _priority(fairness_key: str) -> Priority:
    return Priority(fairness_key=fairness_key) if fairness_key else Priority.default


@workflow.defn
class Waits:
    """Runs until signalled, so a test decides when its slot frees."""

    def __init__(self) -> None:
        self._done = False

    @workflow.run
    async def run(self) -> str:
        await workflow.wait_condition(lambda: self._done)
        return "done"

    @workflow.signal
    def finish(self) -> None:
        self._done = True


@workflow.defn
class Limited:
    """A child or scheduled run that holds its slot a moment, then completes."""

    @workflow.run
    async def run(self, label: str) -> str:
        await workflow.sleep(0.3)
        return label


@workflow.defn
class FanOut:
    """Starts ``count`` children of type ``Limited`` (or ``Waits``) at once and returns their
    results; a child the limits refused comes back as ``refused <its ID>``."""

    @workflow.run
    async def run(self, prefix: str, count: int, child_type: str) -> list[str]:
        children = (self._child(child_type, f"{prefix}-{i}") for i in range(count))
        return list(await asyncio.gather(*children))

    async def _child(self, child_type: str, child_id: str) -> str:
        args = [child_id] if child_type == "Limited" else []
        try:
            result = await workflow.execute_child_workflow(child_type, args=args, id=child_id)
            return str(result)
        except WorkflowAlreadyStartedError:  # the cause a full ``reject`` limit gives a child
            return f"refused {child_id}"


@workflow.defn
class Updatable:
    """Counts its updates until signalled."""

    def __init__(self) -> None:
        self._count = 0
        self._done = False

    @workflow.run
    async def run(self) -> int:
        await workflow.wait_condition(lambda: self._done)
        return self._count

    @workflow.update
    def bump(self) -> int:
        self._count += 1
        return self._count

    @workflow.signal
    def finish(self) -> None:
        self._done = True


@workflow.defn
class Continues:
    """Continues as new ``remaining`` times, each run waiting for a signal first."""

    def __init__(self) -> None:
        self._go = False

    @workflow.run
    async def run(self, remaining: int) -> str:
        await workflow.wait_condition(lambda: self._go)
        if remaining:
            workflow.continue_as_new(remaining - 1)
        return "done"

    @workflow.signal
    def next(self) -> None:
        self._go = True


@workflow.defn
class SignalsWithStart:
    """Signal-with-starts a ``Waits`` through the system Nexus endpoint, telling it to finish."""

    @workflow.run
    async def run(self, workflow_id: str) -> str:
        handle = await workflow.signal_with_start_workflow(
            Waits.run, id=workflow_id, task_queue=workflow.info().task_queue, signal=Waits.finish
        )
        return handle.id


WORKFLOWS = [OneStep, Waits, Limited, FanOut, Updatable, Continues, SignalsWithStart]


async def _serve(address: str, queue: str) -> None:
    client = await Client.connect(address)
    worker = Worker(
        client,
        task_queue=queue,
        workflows=WORKFLOWS,
        activities=[slow_step],
        workflow_runner=UnsandboxedWorkflowRunner(),
        max_concurrent_activities=10,
    )
    await worker.run()


if __name__ == "__main__":
    os.environ["CONCURRENCY_LOG"] = sys.argv[3]
    asyncio.run(_serve(sys.argv[1], sys.argv[2]))
