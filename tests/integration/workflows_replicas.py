"""Workflows for the tests that run several replicas on one database."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

EXECUTIONS: Counter[str] = Counter()
"""How often each workflow's activity ran, across every worker of the test process."""


@activity.defn
async def note(workflow_id: str) -> str:
    EXECUTIONS[workflow_id] += 1
    return f"done {workflow_id}"


@workflow.defn
class OneActivity:
    @workflow.run
    async def run(self, workflow_id: str) -> str:
        return await workflow.execute_activity(
            note,
            workflow_id,
            start_to_close_timeout=timedelta(seconds=5),
            retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=200)),
        )


@workflow.defn
class Tally:
    """Adds up the numbers signalled to it until told to finish; queries read the sum."""

    def __init__(self) -> None:
        self.values: list[int] = []
        self.done = False

    @workflow.run
    async def run(self) -> list[int]:
        await workflow.wait_condition(lambda: self.done)
        return self.values

    @workflow.signal
    def add(self, value: int) -> None:
        self.values.append(value)

    @workflow.signal
    def finish(self) -> None:
        self.done = True

    @workflow.query
    def total(self) -> int:
        return sum(self.values)

    @workflow.query
    def seen(self) -> list[int]:
        return self.values

    @workflow.query
    def broken(self) -> int:
        raise ApplicationError(f"cannot answer after {len(self.values)} values")
