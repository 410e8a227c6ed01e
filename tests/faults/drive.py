"""The client side of the mixed workload: starting ``Mixed`` runs until acknowledged, driving
each with signals and updates until it returns, and a schedule that ticks meanwhile.

Every call is retried through the failures a faulty or restarting server answers with, so a
caller learns of an ID only once the server acknowledged its start.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleIntervalSpec,
    ScheduleSpec,
    WorkflowHandle,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from tests.faults.workload import Leaf, Mixed

RETRY_PAUSE = 0.2


async def start_mixed(client: Client, workflow_id: str, queue: str) -> None:
    """Start ``workflow_id`` until the server acknowledges it (a start refused as already
    started was acknowledged by an earlier try whose answer was lost)."""
    while True:
        try:
            await client.start_workflow(
                Mixed.run, 0, id=workflow_id, task_queue=queue, task_timeout=timedelta(seconds=2)
            )
            return
        except WorkflowAlreadyStartedError:
            return
        except RPCError:
            await asyncio.sleep(RETRY_PAUSE)


async def drive_mixed(client: Client, workflow_id: str) -> int:
    """Signal and update the workflow (whichever run is current) until it returns."""
    handle: WorkflowHandle[Mixed, int] = client.get_workflow_handle_for(Mixed.run, workflow_id)
    while True:
        with contextlib.suppress(RPCError):
            await handle.signal(Mixed.go)
        # An update refused or cut short by a fault is simply sent again.
        with contextlib.suppress(RPCError, WorkflowUpdateRPCTimeoutOrCancelledError):
            await handle.execute_update(Mixed.bump, rpc_timeout=timedelta(seconds=3))
        with contextlib.suppress(RPCError, TimeoutError):
            return await asyncio.wait_for(handle.result(), 2)


async def create_schedule(client: Client, schedule_id: str, queue: str) -> None:
    """A schedule starting a ``Leaf`` every second, created once whatever the server answers."""
    while True:
        try:
            await client.create_schedule(
                schedule_id,
                Schedule(
                    action=ScheduleActionStartWorkflow(
                        Leaf.run, 7, id=f"{schedule_id}-run", task_queue=queue
                    ),
                    spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(seconds=1))]),
                ),
            )
            return
        except RPCError as error:
            if "already" in str(error).lower():
                return
            await asyncio.sleep(RETRY_PAUSE)


async def still_firing(client: Client, schedule_id: str) -> None:
    """Wait until the schedule takes two more actions: its timer is still armed."""
    seen: int | None = None
    while True:
        with contextlib.suppress(RPCError):
            actions = (await client.get_schedule_handle(schedule_id).describe()).info.num_actions
            if seen is None:
                seen = actions
            elif actions >= seen + 2:
                return
        await asyncio.sleep(0.3)


async def delete_schedule(client: Client, schedule_id: str) -> None:
    for _ in range(50):
        try:
            await client.get_schedule_handle(schedule_id).delete()
            return
        except RPCError as error:
            if "not found" in str(error).lower():
                return
            await asyncio.sleep(RETRY_PAUSE)


async def all_closed(client: Client, attempts: int = 200) -> None:
    """Wait until no run is open (the schedule's last runs finish after it is deleted)."""
    for _ in range(attempts):
        with contextlib.suppress(RPCError):
            if (await client.count_workflows("ExecutionStatus = 'Running'")).count == 0:
                return
        await asyncio.sleep(RETRY_PAUSE)
