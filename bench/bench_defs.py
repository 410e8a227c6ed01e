"""Workflow and activity shared by the benchmark worker and driver.

Both are deliberately trivial (the activity echoes its input) so that the
measured cost is the server's: one workflow start, two workflow tasks, one
activity task and the completion, all persisted by the server under test.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow

ACTIVITY_TIMEOUT = timedelta(seconds=30)


@activity.defn
async def echo(value: str) -> str:
    """Return the input unchanged: the cheapest possible activity round-trip."""
    return value


@workflow.defn
class EchoWorkflow:
    """Schedule a single `echo` activity and return its result."""

    @workflow.run
    async def run(self, value: str) -> str:
        """Run one activity so each workflow exercises both task queues."""
        return await workflow.execute_activity(echo, value, start_to_close_timeout=ACTIVITY_TIMEOUT)
