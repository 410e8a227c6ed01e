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


async def _serve(address: str, queue: str) -> None:
    client = await Client.connect(address)
    worker = Worker(
        client,
        task_queue=queue,
        workflows=[OneStep, Waits],
        activities=[slow_step],
        workflow_runner=UnsandboxedWorkflowRunner(),
        max_concurrent_activities=10,
    )
    await worker.run()


if __name__ == "__main__":
    os.environ["CONCURRENCY_LOG"] = sys.argv[3]
    asyncio.run(_serve(sys.argv[1], sys.argv[2]))
