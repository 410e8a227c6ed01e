"""A call cancelled while its change commits still hands off what the change created.

The database finishes a change once it has it, whether or not the caller is
still waiting: a client whose deadline passes mid-commit leaves a committed
run behind. That run's workflow task must still reach matching and its timers
the timer queue, or it would sit in the store, due, until the next restart.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import timedelta

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import (
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleIntervalSpec,
    ScheduleSpec,
    WorkflowFailureError,
)
from temporalio.exceptions import TimeoutError as WorkflowTimeoutError
from temporalio.service import RPCError, RPCStatusCode

from cadenza.persistence.records import ExecutionWrite
from tests.acceptance import workflows as w
from tests.acceptance.workflows_schedules import Quick
from tests.held_commit import held_server
from tests.helpers import Registered, eventually

FOREVER = Registered([w.WaitsForever])
QUICK = Registered([Quick])


def starts_a_run(write: ExecutionWrite) -> bool:
    return write.new_current is not None


def any_write(_write: object) -> bool:
    return True


async def written(describe: Awaitable[object]) -> bool:
    """Whether the described thing exists: a released write may not have committed yet."""
    try:
        await describe
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return False
        raise
    return True


async def test_a_start_whose_caller_gave_up_mid_commit_still_runs_and_times_out(
    monkeypatch: pytest.MonkeyPatch, workflow_id: str, task_queue: str
) -> None:
    async with held_server(monkeypatch, starts_a_run, task_queue, FOREVER) as (client, held):
        start = asyncio.create_task(
            client.start_workflow(
                w.WaitsForever.run,
                id=workflow_id,
                task_queue=task_queue,
                execution_timeout=timedelta(seconds=2),
                rpc_timeout=timedelta(seconds=0.5),
            )
        )
        await asyncio.wait_for(held.holding.wait(), 20)
        with pytest.raises(RPCError):
            await start  # the client's deadline passes while the start is held
        held.release.set()
        handle = client.get_workflow_handle(workflow_id)
        await eventually(lambda: written(handle.describe()), timeout=20)
        with pytest.raises(WorkflowFailureError) as failed:
            await asyncio.wait_for(handle.result(), 20)
        assert isinstance(failed.value.cause, WorkflowTimeoutError)
        events = [event.event_type async for event in handle.fetch_history_events()]
        assert EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED in events, "the workflow task never ran"


async def test_a_schedule_whose_creator_gave_up_mid_write_still_wakes(
    monkeypatch: pytest.MonkeyPatch, task_queue: str
) -> None:
    schedule = Schedule(
        action=ScheduleActionStartWorkflow(Quick.run, id=f"sched-wf-{task_queue}", task_queue=task_queue),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(seconds=1))]),
    )
    held_writes = held_server(monkeypatch, any_write, task_queue, QUICK, method="write_schedule")
    async with held_writes as (client, held):
        create = asyncio.create_task(
            client.create_schedule(f"sched-{task_queue}", schedule, rpc_timeout=timedelta(seconds=0.5))
        )
        await asyncio.wait_for(held.holding.wait(), 20)
        with pytest.raises(RPCError):
            await create  # the client's deadline passes while the schedule is being written
        held.release.set()
        handle = client.get_schedule_handle(f"sched-{task_queue}")

        await eventually(lambda: written(handle.describe()), timeout=20)

        async def acted() -> bool:
            return (await handle.describe()).info.num_actions > 0

        await eventually(acted, timeout=20)
