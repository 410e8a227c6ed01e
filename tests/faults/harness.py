"""A Cadenza process that storage faults strike and kill, kept alive on the same database, and
the invariants read back from what it stored.

``FaultyServer`` runs ``tests.faults.serve`` (the real server with a ``FaultPlan``) and starts
it again on the same file and port whenever a fault killed it, each time with the next seed;
a start that itself dies in recovery is simply started again. ``stored_problems`` reads every
run back through a clean server and checks each workflow ID's chain of runs.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client

from tests import servers
from tests.faults.invariants import CLOSING, E, check_chain
from tests.helpers import free_port

MAX_STARTS = 60
"""Starts in a row that may fail before the harness gives up: a bound, never reached."""


class FaultyServer:
    """The faulty server on ``db`` (or the PostgreSQL database ``url``), restarted after each
    kill with the seed that follows; ``name`` tells replicas' logs apart."""

    def __init__(
        self, workdir: Path, seed: int, profile: str, *, url: str | None = None, name: str = "server"
    ) -> None:
        self.db = workdir / "faults.db"
        self.url = url
        self.log = workdir / f"{name}.log"
        self.fault_log = workdir / "faults.log"
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self._seed = seed
        self._profile = profile
        self.starts = 0
        self.serving = asyncio.Event()
        """Set once a start serves; cleared by ``kill``."""
        self._process: servers.ServerProcess | None = None

    def _next_process(self, *, faults: bool) -> servers.ServerProcess:
        env = {
            "CADENZA_FAULT_SEED": str(self._seed * 1000 + self.starts),
            "CADENZA_FAULT_LOG": str(self.fault_log),
            "CADENZA_FAULT_PROFILE": self._profile,
        }
        env_or_none = env if faults else None
        if self.url is None:
            process = servers.cadenza(self.db, self.log, port=self.port, env=env_or_none)
        else:
            process = servers.cadenza_at(self.url, self.log, port=self.port, env=env_or_none)
        if faults:
            process.argv[1:3] = ["-m", "tests.faults.serve"]
        return process

    async def start(self, *, faults: bool = True) -> None:
        """Start (again) and wait until it serves; a start that dies is tried again."""
        self.serving.clear()
        for _ in range(MAX_STARTS):
            self._process = self._next_process(faults=faults)
            self.starts += 1
            self._process.start()
            try:
                await self._process.wait_ready()
                self.serving.set()
                return
            except RuntimeError:
                continue
        raise RuntimeError(f"the server did not start in {MAX_STARTS} tries: {self.log.read_text()[-3000:]}")

    @property
    def died(self) -> bool:
        return self._process is not None and self._process.returncode is not None

    async def keep_alive(self) -> None:
        """Start the server again whenever it died; runs until cancelled."""
        while True:
            await asyncio.sleep(0.1)
            if self.died:
                await self.start()

    def kill(self) -> None:
        """SIGKILL the running process; ``keep_alive`` starts it again."""
        self.serving.clear()
        if self._process is not None:
            self._process.kill()

    def stop(self) -> None:
        if self._process is not None:
            self._process.stop()


@contextlib.asynccontextmanager
async def kept_alive(server: FaultyServer) -> AsyncIterator[None]:
    await server.start()
    keeper = asyncio.create_task(server.keep_alive())
    try:
        yield
    finally:
        keeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await keeper
        server.stop()


async def stored_runs(client: Client) -> dict[str, dict[str, list[HistoryEvent]]]:
    """Every run the server lists, by workflow ID and run ID, with its whole history."""
    runs: dict[str, dict[str, list[HistoryEvent]]] = defaultdict(dict)
    async for listed in client.list_workflows():
        history = await client.get_workflow_handle(listed.id, run_id=listed.run_id).fetch_history()
        runs[listed.id][listed.run_id] = list(history.events)
    return runs


def chain_problems(runs: dict[str, dict[str, list[HistoryEvent]]]) -> tuple[list[str], dict[str, int]]:
    """Each workflow ID's chain checked from its first run; and how many runs closed each ID
    other than by continuing as new."""
    problems: list[str] = []
    closed: dict[str, int] = {}
    for workflow_id, by_run in runs.items():
        firsts = [run_id for run_id, events in by_run.items() if _is_first(run_id, events)]
        if len(firsts) != 1:
            problems.append(f"{workflow_id}: {len(firsts)} first runs")
            continue
        problems += check_chain(workflow_id, by_run, firsts[0])
        closed[workflow_id] = sum(1 for events in by_run.values() if _closes(events))
    return problems, closed


def _is_first(run_id: str, events: list[HistoryEvent]) -> bool:
    started = events[0].workflow_execution_started_event_attributes if events else None
    return started is not None and started.first_execution_run_id in ("", run_id)


def _closes(events: Iterable[HistoryEvent]) -> bool:
    last = list(events)[-1:]
    return bool(last) and last[0].event_type in CLOSING - {E.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW}
