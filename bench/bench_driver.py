"""The workload: a worker subprocess plus concurrent and sequential phases.

The worker runs in a separate process so that its Python CPU time neither
competes with the driver's event loop nor gets mistaken for server cost.
Latency is measured per workflow from just before `start_workflow` until
`result()` returns, i.e. what a client calling the server actually waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from temporalio.client import Client

from bench_defs import EchoWorkflow
from bench_servers import API_KEY_ENV

WORKER_SCRIPT = Path(__file__).resolve().parent / "worker.py"
WORKER_READY_TIMEOUT_S = 60.0
WORKER_STOP_TIMEOUT_S = 15.0


@dataclass
class PhaseResult:
    """Outcome of one phase: per-workflow latencies (seconds) and failures."""

    latencies_s: list[float] = field(default_factory=list)
    wall_s: float = 0.0
    failures: int = 0
    first_error: str | None = None

    def record_failure(self, err: BaseException) -> None:
        """Count a failed workflow, keeping the first message for the report."""
        self.failures += 1
        if self.first_error is None:
            self.first_error = f"{type(err).__name__}: {err}"


@dataclass(frozen=True)
class Workload:
    """Where and how to start workflows.

    With `more_clients` (other replicas of the same server) workflows are
    started through all the clients in turn, each awaited through its own.
    """

    client: Client
    task_queue: str
    id_prefix: str
    more_clients: tuple[Client, ...] = ()

    def client_for(self, index: int) -> Client:
        """The client that starts (and awaits) workflow number `index`."""
        clients = (self.client, *self.more_clients)
        return clients[index % len(clients)]


async def run_one(load: Workload, index: int) -> float:
    """Start one workflow, wait for its result, return the latency in seconds."""
    payload = f"wf-{index}"
    began = time.perf_counter()
    handle = await load.client_for(index).start_workflow(
        EchoWorkflow.run,
        payload,
        id=f"{load.id_prefix}-{index}",
        task_queue=load.task_queue,
    )
    result = await handle.result()
    elapsed = time.perf_counter() - began
    if result != payload:
        raise ValueError(f"workflow returned {result!r}, expected {payload!r}")
    return elapsed


async def run_concurrent(load: Workload, count: int, concurrency: int) -> PhaseResult:
    """Run `count` workflows with at most `concurrency` in flight at once."""
    phase = PhaseResult()
    gate = asyncio.Semaphore(concurrency)

    async def guarded(index: int) -> None:
        async with gate:
            try:
                phase.latencies_s.append(await run_one(load, index))
            except Exception as err:
                phase.record_failure(err)

    began = time.perf_counter()
    await asyncio.gather(*(guarded(i) for i in range(count)))
    phase.wall_s = time.perf_counter() - began
    return phase


async def run_sequential(load: Workload, count: int) -> PhaseResult:
    """Run `count` workflows strictly one after another (unloaded latency)."""
    phase = PhaseResult()
    began = time.perf_counter()
    for index in range(count):
        try:
            phase.latencies_s.append(await run_one(load, index))
        except Exception as err:
            phase.record_failure(err)
    phase.wall_s = time.perf_counter() - began
    return phase


async def stop_worker(proc: asyncio.subprocess.Process) -> None:
    """SIGTERM the worker (graceful shutdown), SIGKILL it if it lingers."""
    if proc.returncode is not None:
        return
    proc.terminate()
    try:
        await asyncio.wait_for(proc.wait(), WORKER_STOP_TIMEOUT_S)
    except TimeoutError:
        proc.kill()
        await proc.wait()


async def await_ready_line(proc: asyncio.subprocess.Process) -> None:
    """Block until the worker prints READY; fail if it exits first."""
    assert proc.stdout is not None
    async with asyncio.timeout(WORKER_READY_TIMEOUT_S):
        while line := await proc.stdout.readline():
            if line.strip() == b"READY":
                return
    raise RuntimeError(f"worker exited before becoming ready (code {proc.returncode})")


@contextlib.asynccontextmanager
async def worker_process(
    target: str,
    task_queue: str,
    log_path: Path,
    max_activities: int | None = None,
    api_key: str | None = None,
) -> AsyncIterator[asyncio.subprocess.Process]:
    """Run the benchmark worker for the duration of the block.

    `max_activities` raises how many activities it runs at once (a fan-out
    wider than the SDK's default of 100 would otherwise queue in the worker).
    `api_key` is what it presents to a server started with auth on; it goes
    through the environment so it never shows in a process listing.
    """
    extra = [] if max_activities is None else ["--max-activities", str(max_activities)]
    env = {**os.environ, API_KEY_ENV: api_key} if api_key else None
    with log_path.open("wb") as log:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, str(WORKER_SCRIPT),
            "--target", target, "--task-queue", task_queue, *extra,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=log,
            env=env,
        )  # fmt: skip
    try:
        await await_ready_line(proc)
        yield proc
    finally:
        await stop_worker(proc)
