"""Storage faults under a mixed workload: a seeded plan fails, delays and kills the server at its
store calls, inside SQLite's group commit and during recovery, while the official SDK runs
activities, timers, signals, updates, children, continue-as-new and a schedule; killed, the
server is started again on the same file. Then every run is read back from a clean server
and the invariants of ``tests/faults/invariants.py`` must hold.

CI runs the fixed ``SEEDS``; ``CADENZA_FAULT_SEEDS=N`` runs N more, drawn at random (each
printed, so a failing one can be run again with ``CADENZA_FAULT_SEEDS=seed1,seed2``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
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
from temporalio.worker import Worker

from tests.faults import workload
from tests.faults.harness import FaultyServer, chain_problems, kept_alive, stored_runs
from tests.faults.invariants import check_acknowledged, check_deliveries
from tests.faults.plan import count_faults
from tests.faults.workload import Leaf, Mixed

pytestmark = pytest.mark.crash

SEEDS = [1, 2, 3]
WORKFLOWS = 6
QUEUE = "faults"
DRIVE_SECONDS = 75.0
"""How long a workflow may take to finish through the faults before the run counts as stuck."""


def _seeds() -> list[int]:
    chosen = os.environ.get("CADENZA_FAULT_SEEDS", "")
    if not chosen:
        return SEEDS
    if "," in chosen or not chosen.isdigit() or int(chosen) > 10_000:
        return [int(seed) for seed in chosen.split(",") if seed]
    return [random.randrange(10_000, 1_000_000) for _ in range(int(chosen))]


async def _start(client: Client, workflow_id: str) -> None:
    """Start ``workflow_id`` until the server acknowledges it (a start refused as already
    started was acknowledged by an earlier try whose answer was lost)."""
    while True:
        try:
            await client.start_workflow(
                Mixed.run, 0, id=workflow_id, task_queue=QUEUE, task_timeout=timedelta(seconds=2)
            )
            return
        except WorkflowAlreadyStartedError:
            return
        except RPCError:
            await asyncio.sleep(0.2)


async def _drive(client: Client, workflow_id: str) -> int:
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


async def _schedule(client: Client, schedule_id: str) -> None:
    while True:
        try:
            await client.create_schedule(
                schedule_id,
                Schedule(
                    action=ScheduleActionStartWorkflow(
                        Leaf.run, 7, id=f"{schedule_id}-run", task_queue=QUEUE
                    ),
                    spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(seconds=1))]),
                ),
            )
            return
        except RPCError as error:
            if "already" in str(error).lower():
                return
            await asyncio.sleep(0.2)


async def _still_firing(client: Client, schedule_id: str) -> None:
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


async def _delete_schedule(client: Client, schedule_id: str) -> None:
    for _ in range(50):
        try:
            await client.get_schedule_handle(schedule_id).delete()
            return
        except RPCError as error:
            if "not found" in str(error).lower():
                return
            await asyncio.sleep(0.2)


async def _run_workload(server: FaultyServer) -> list[str]:
    client = await Client.connect(server.address)
    ids = [f"mixed-{uuid.uuid4().hex[:8]}" for _ in range(WORKFLOWS)]
    async with Worker(client, task_queue=QUEUE, workflows=workload.WORKFLOWS, activities=workload.ACTIVITIES):
        await _schedule(client, "ticks")
        await asyncio.gather(*(_start(client, i) for i in ids))
        acknowledged = ids
        await asyncio.wait_for(asyncio.gather(*(_drive(client, i) for i in acknowledged)), DRIVE_SECONDS)
        await asyncio.wait_for(_still_firing(client, "ticks"), DRIVE_SECONDS)
        await _delete_schedule(client, "ticks")
        await _all_closed(client)
    return acknowledged


async def _all_closed(client: Client) -> None:
    """Wait until no run is open (the schedule's last runs finish after it is deleted)."""
    for _ in range(200):
        with contextlib.suppress(RPCError):
            if (await client.count_workflows("ExecutionStatus = 'Running'")).count == 0:
                return
        await asyncio.sleep(0.2)


@pytest.mark.timeout(150)
@pytest.mark.parametrize("seed", _seeds())
async def test_invariants_hold_through_storage_faults(tmp_path: Path, seed: int) -> None:
    await _check_through_faults(tmp_path, seed, "workload")


@pytest.mark.timeout(150)
async def test_commits_whose_reply_was_lost_still_take_effect(tmp_path: Path) -> None:
    """A commit done whose reply is lost (PostgreSQL's connection cut at COMMIT) still hands
    its tasks and timers on: no workflow waits for a restart to move."""
    await _check_through_faults(tmp_path, 1, "ambiguous-commits")


async def _check_through_faults(tmp_path: Path, seed: int, profile: str) -> None:
    workload.DELIVERIES.clear()
    server = FaultyServer(tmp_path, seed, profile)
    async with kept_alive(server):
        acknowledged = await _run_workload(server)
    faults, restarts = count_faults(server.fault_log), server.starts - 1
    await server.start(faults=False)
    try:
        runs = await stored_runs(await Client.connect(server.address))
    finally:
        server.stop()
    problems, closed = chain_problems(runs)
    problems += check_acknowledged(acknowledged, closed)
    problems += check_deliveries(workload.DELIVERIES)
    print(f"seed {seed}: {sum(faults.values())} faults {faults}, {restarts} restarts, {len(runs)} IDs")
    assert problems == [], f"seed {seed}:\n" + "\n".join(problems)
    assert sum(faults.values()) > 0
