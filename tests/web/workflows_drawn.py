"""A workflow that does one of everything the graph draws: parallel activities, a timer, a
child workflow, a signal, an activity retried until it fails for good, and an update."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

QUICK = timedelta(seconds=10)


@activity.defn
async def fetch(part: str) -> str:
    return f"fetched {part}"


@activity.defn
async def charge(order: str) -> str:
    raise ApplicationError(f"card declined for {order}")


@workflow.defn
class Packer:
    """The child: packs what its parent fetched."""

    @workflow.run
    async def run(self, parts: list[str]) -> str:
        return f"packed {len(parts)}"


@workflow.defn
class Drawn:
    """Fetches three parts at once, waits a moment, has a child pack them, waits for approval,
    fails to charge (three attempts), and finishes once a note arrives by update."""

    def __init__(self) -> None:
        self.approved = False
        self.notes: list[str] = []

    @workflow.run
    async def run(self, order: str) -> str:
        parts = await asyncio.gather(
            *(workflow.execute_activity(fetch, part, start_to_close_timeout=QUICK) for part in "abc")
        )
        await workflow.sleep(timedelta(milliseconds=100))
        await workflow.execute_child_workflow(Packer.run, parts, id=f"{workflow.info().workflow_id}-packer")
        await workflow.wait_condition(lambda: self.approved)
        try:
            await workflow.execute_activity(
                charge,
                order,
                start_to_close_timeout=QUICK,
                retry_policy=RetryPolicy(
                    initial_interval=timedelta(milliseconds=50), backoff_coefficient=1, maximum_attempts=3
                ),
            )
        except ActivityError:
            pass
        await workflow.wait_condition(lambda: bool(self.notes))
        return f"{order}: {', '.join(self.notes)}"

    @workflow.signal
    def approve(self) -> None:
        self.approved = True

    @workflow.update
    def note(self, text: str) -> int:
        self.notes.append(text)
        return len(self.notes)


@activity.defn
async def stamp(label: str) -> str:
    return f"stamped {label}"


FAILED_TASKS: set[str] = set()
"""Workflow IDs whose first workflow task has failed already (the workflow runs unsandboxed)."""


@workflow.defn(sandboxed=False)
class Stumbles:
    """Fails its first workflow task, then runs a patched local activity."""

    @workflow.run
    async def run(self) -> str:
        workflow_id = workflow.info().workflow_id
        if workflow_id not in FAILED_TASKS:
            FAILED_TASKS.add(workflow_id)
            raise RuntimeError("stumbled on the first try")
        if workflow.patched("stamp-first"):
            return await workflow.execute_local_activity(stamp, "box", start_to_close_timeout=QUICK)
        return "unpatched"


@workflow.defn
class KeepsCharging:
    """Retries the charge until someone ends it."""

    @workflow.run
    async def run(self, order: str) -> str:
        return await workflow.execute_activity(
            charge,
            order,
            start_to_close_timeout=QUICK,
            retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=50), backoff_coefficient=1),
        )


WORKFLOWS = [Drawn, Packer, Stumbles, KeepsCharging]
ACTIVITIES = [fetch, charge, stamp]
