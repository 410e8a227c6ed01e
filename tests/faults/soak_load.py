"""The soak's side that is not chaos: workers and lanes of the mixed workload running through
the kills, what the SDK's workers complained of, and the verdict read back at the end.

Each lane starts a ``Mixed`` workflow (the fault test's workload), drives it until it returns,
and starts the next, until told to stop; a start counts as acknowledged once the server
answered it. The verdict applies the fault test's invariants to every run stored.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from temporalio.api.enums.v1 import EventType, WorkflowTaskFailedCause
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client
from temporalio.runtime import LogForwardingConfig, LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter
from temporalio.worker import Worker

from tests.faults import workload
from tests.faults.drive import drive_mixed, start_mixed
from tests.faults.harness import chain_problems
from tests.faults.invariants import check_acknowledged, check_deliveries

QUEUE = "soak"
NONDETERMINISTIC = WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_NON_DETERMINISTIC_ERROR


class Lanes:
    """``count`` lanes of ``Mixed`` workflows, each through a client drawn from ``clients``."""

    def __init__(self, clients: Sequence[Client], count: int, seed: int) -> None:
        self._clients = clients
        self._count = count
        self._random = random.Random(seed)
        self._stop = asyncio.Event()
        self.acknowledged: list[str] = []
        self.completed = 0
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._lane(n)) for n in range(self._count)]

    async def _lane(self, number: int) -> None:
        while not self._stop.is_set():
            workflow_id = f"soak-{number}-{uuid.uuid4().hex[:8]}"
            client = self._random.choice(self._clients)
            await start_mixed(client, workflow_id, QUEUE)
            self.acknowledged.append(workflow_id)
            await drive_mixed(client, workflow_id)
            self.completed += 1

    async def finish(self, timeout: float) -> bool:
        """Start no more workflows and wait up to ``timeout`` seconds for those in flight;
        False when some did not finish (the verdict then finds them open)."""
        self._stop.set()
        _, pending = await asyncio.wait(self._tasks, timeout=timeout)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        return not pending


@asynccontextmanager
async def workers(clients: Sequence[Client]) -> AsyncIterator[None]:
    """A worker for the workload on each client (one per replica)."""
    async with AsyncExitStack() as stack:
        for client in clients:
            await stack.enter_async_context(
                Worker(
                    client,
                    task_queue=QUEUE,
                    workflows=workload.WORKFLOWS,
                    activities=workload.ACTIVITIES,
                    graceful_shutdown_timeout=timedelta(seconds=1),
                )
            )
        yield


CORE_LOGGER = logging.getLogger("soak.sdk_core")
"""Where the SDK's core (its Rust half, which detects nondeterminism) logs, through ``sdk_runtime``."""


@functools.cache
def sdk_runtime() -> Runtime:
    """The SDK runtime the soak's clients and workers use: its core's warnings forwarded to
    ``CORE_LOGGER``, where the soak reads them."""
    return Runtime(
        telemetry=TelemetryConfig(
            logging=LoggingConfig(
                filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
                forwarding=LogForwardingConfig(logger=CORE_LOGGER),
            )
        )
    )


class WorkerComplaints(logging.Handler):
    """What the SDK's workers said of nondeterminism (the core's words or the Python half's),
    kept to look at the runs they name afterwards."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.nondeterminism: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "nondetermin" in message.lower():
            self.nondeterminism.append(message)


@asynccontextmanager
async def watching_workers(log: Path) -> AsyncIterator[WorkerComplaints]:
    """Nondeterminism warnings collected, and every SDK warning written to ``log`` instead of
    the terminal (connection-refused retries are most of them)."""
    complaints = WorkerComplaints()
    to_file = logging.FileHandler(log)
    to_file.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    loggers = [logging.getLogger("temporalio"), CORE_LOGGER]
    for logger in loggers:
        logger.addHandler(complaints)
        logger.addHandler(to_file)
        logger.propagate = False
    try:
        yield complaints
    finally:
        for logger in loggers:
            logger.removeHandler(complaints)
            logger.removeHandler(to_file)
            logger.propagate = True
        to_file.close()


@dataclass
class Verdict:
    """The invariants over every stored run, counted as the soak reports them."""

    workflow_ids: int = 0
    runs: int = 0
    acknowledged: int = 0
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    other: list[str] = field(default_factory=list)
    nondeterministic_tasks: list[str] = field(default_factory=list)
    """Runs with a workflow task the worker failed as nondeterministic (not an invariant)."""

    @property
    def problems(self) -> list[str]:
        return self.lost + self.duplicated + self.other


def verdict(
    runs: dict[str, dict[str, list[HistoryEvent]]],
    acknowledged: Sequence[str],
    deliveries: Sequence[tuple[str, ...]],
) -> Verdict:
    """Every workflow ID's chain well formed and closed once, every acknowledged start completed
    exactly once, no activity attempt handed out twice; a problem counts as lost when something
    acknowledged never completed, as duplicated when something happened twice."""
    chains, closed = chain_problems(runs)
    found = Verdict(
        workflow_ids=len(runs),
        runs=sum(len(by_run) for by_run in runs.values()),
        acknowledged=len(acknowledged),
    )
    for problem in check_acknowledged(acknowledged, closed):
        (found.lost if problem.endswith(" 0 times") else found.duplicated).append(problem)
    found.duplicated += check_deliveries(deliveries)
    for problem in chains:
        twice = ("times" in problem and "resolved" in problem) or "closing events" in problem
        (found.duplicated if twice else found.other).append(problem)
    found.nondeterministic_tasks = [
        f"{workflow_id}/{run_id} event {event.event_id}"
        for workflow_id, by_run in runs.items()
        for run_id, events in by_run.items()
        for event in events
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
        and event.workflow_task_failed_event_attributes.cause == NONDETERMINISTIC
    ]
    return found
