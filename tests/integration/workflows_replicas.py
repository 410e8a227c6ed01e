"""A workflow with one activity, for the tests that run several replicas on one database."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.common import RetryPolicy

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
            note, workflow_id, start_to_close_timeout=timedelta(seconds=5),
            retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=200)))
