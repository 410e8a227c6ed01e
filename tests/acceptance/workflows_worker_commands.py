"""Activities that never heartbeat, and workflows that leave them behind.

The activities run in the test's own process, so they note what happened to
them in module-level records the tests read.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.workflow import ActivityCancellationType

STARTED: set[str] = set()
"""Workflow IDs whose activity is running."""

CANCELLED: dict[str, activity.ActivityCancellationDetails | None] = {}
"""What each workflow's activity was told when it was cancelled, by workflow ID."""

ONE_ATTEMPT = RetryPolicy(maximum_attempts=1)


@activity.defn
async def wait_without_heartbeat() -> str:
    """Wait long, never heartbeating: only a push from the server can cancel it early."""
    workflow_id = activity.info().workflow_id or ""
    STARTED.add(workflow_id)
    try:
        await asyncio.sleep(60)
    except asyncio.CancelledError:
        CANCELLED[workflow_id] = activity.cancellation_details()
        raise
    return "not cancelled"


@workflow.defn
class ActivityTimesOut:
    """Its activity's attempt times out after a second; the activity is not told by heartbeat."""

    @workflow.run
    async def run(self) -> str:
        return await workflow.execute_activity(
            wait_without_heartbeat, start_to_close_timeout=timedelta(seconds=1), retry_policy=ONE_ATTEMPT
        )


@workflow.defn
class CancelsActivity:
    """Cancels its running activity when told to, and waits for the activity to stop."""

    def __init__(self) -> None:
        self._go = False

    @workflow.run
    async def run(self) -> str:
        handle = workflow.start_activity(
            wait_without_heartbeat,
            start_to_close_timeout=timedelta(minutes=5),
            retry_policy=ONE_ATTEMPT,
            cancellation_type=ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
        )
        await workflow.wait_condition(lambda: self._go)
        handle.cancel()
        try:
            return await handle
        except Exception as err:  # the ActivityError of a cancelled activity
            return type(err.__cause__).__name__

    @workflow.signal
    def go(self) -> None:
        self._go = True


@workflow.defn
class LeavesActivityRunning:
    """Completes while its activity still runs."""

    def __init__(self) -> None:
        self._go = False

    @workflow.run
    async def run(self) -> str:
        workflow.start_activity(
            wait_without_heartbeat,
            start_to_close_timeout=timedelta(minutes=5),
            retry_policy=ONE_ATTEMPT,
            cancellation_type=ActivityCancellationType.ABANDON,
        )
        await workflow.wait_condition(lambda: self._go)
        return "done"

    @workflow.signal
    def go(self) -> None:
        self._go = True


ALL_WORKFLOWS = [ActivityTimesOut, CancelsActivity, LeavesActivityRunning]
