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
import os
import random
import uuid
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.worker import Worker

from tests.faults import workload
from tests.faults.drive import (
    all_closed,
    create_schedule,
    delete_schedule,
    drive_mixed,
    start_mixed,
    still_firing,
)
from tests.faults.harness import FaultyServer, chain_problems, kept_alive, stored_runs
from tests.faults.invariants import check_acknowledged, check_deliveries
from tests.faults.plan import count_faults

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


async def _run_workload(server: FaultyServer) -> list[str]:
    client = await Client.connect(server.address)
    ids = [f"mixed-{uuid.uuid4().hex[:8]}" for _ in range(WORKFLOWS)]
    async with Worker(client, task_queue=QUEUE, workflows=workload.WORKFLOWS, activities=workload.ACTIVITIES):
        await create_schedule(client, "ticks", QUEUE)
        await asyncio.gather(*(start_mixed(client, i, QUEUE) for i in ids))
        acknowledged = ids
        await asyncio.wait_for(asyncio.gather(*(drive_mixed(client, i) for i in acknowledged)), DRIVE_SECONDS)
        await asyncio.wait_for(still_firing(client, "ticks"), DRIVE_SECONDS)
        await delete_schedule(client, "ticks")
        await all_closed(client)
    return acknowledged


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
