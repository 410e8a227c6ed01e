"""A workflow whose activity is finished from outside, over HTTP."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow


@activity.defn
async def finished_elsewhere() -> str:
    activity.raise_complete_async()


@workflow.defn
class WaitsForItsActivity:
    @workflow.run
    async def run(self) -> str:
        result: str = await workflow.execute_activity(
            finished_elsewhere, activity_id="outside", start_to_close_timeout=timedelta(seconds=60)
        )
        return result
