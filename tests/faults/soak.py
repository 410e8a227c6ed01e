"""The chaos soak: the mixed workload through the official SDK while the server is SIGKILLed
again and again (SQLite), or while two replicas are killed in turn and PostgreSQL itself
restarts every 5-20 s (PostgreSQL); then every stored run is read back and checked.

Run it from the repository root, with ``src`` and the root on ``PYTHONPATH``::

    python -m tests.faults.soak sqlite                  # 100 SIGKILLs at random moments
    python -m tests.faults.soak postgres --seconds 300  # a private cluster, two replicas

It is not part of the test run (``tests/acceptance/test_chaos_soak.py`` runs a few kills of
each in CI). The invariants are the fault test's (``tests/faults/invariants.py``): every start
a client saw acknowledged completes exactly once; every history is well formed (event IDs
contiguous, every scheduled activity, timer and child resolved once, no timer fired twice);
no activity attempt reached a worker twice. The servers also run under the fault test's
seeded storage faults (``--profile``, ``none`` for SIGKILLs only). PostgreSQL runs in a private
cluster started here (``initdb``/``pg_ctl``, as ``tests/postgres.py`` does), never a shared
one. It prints its figures and exits 1 when an invariant failed.

Options: ``--kills N`` (SQLite, default 100), ``--seconds S`` (PostgreSQL, default 300),
``--lanes N`` workflows in flight (default 6), ``--seed N``, ``--workdir DIR`` (kept, with
the servers' logs; a temporary folder otherwise).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import json
import random
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from google.protobuf import json_format
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client

from tests import postgres
from tests.faults import workload
from tests.faults.drive import all_closed, create_schedule, delete_schedule, still_firing
from tests.faults.harness import FaultyServer, kept_alive, stored_runs
from tests.faults.plan import count_faults
from tests.faults.soak_load import QUEUE, Lanes, Verdict, sdk_runtime, verdict, watching_workers, workers

SCHEDULE = "soak-ticks"
DRAIN_SECONDS = 180.0
"""How long the workflows in flight when the chaos ends may take to finish."""
KILL_PAUSE = (0.2, 3.0)
"""Seconds a server serves before the next SIGKILL, drawn uniformly: some land in recovery."""
REPLICA_PAUSE = (2.0, 8.0)
POSTGRES_PAUSE = (5.0, 20.0)


@dataclass
class Options:
    backend: str
    kills: int = 100
    seconds: float = 300.0
    lanes: int = 6
    seed: int = 1
    profile: str = "workload"
    workdir: Path | None = None
    kill_pause: tuple[float, float] = KILL_PAUSE
    replica_pause: tuple[float, float] = REPLICA_PAUSE
    postgres_pause: tuple[float, float] = POSTGRES_PAUSE


@dataclass
class Figures:
    kills: int = 0
    postgres_restarts: int = 0
    storage_faults: dict[str, int] = field(default_factory=dict)
    starts: int = 0
    seconds: float = 0.0
    drained: bool = True
    verdict: Verdict = field(default_factory=Verdict)
    nondeterminism: list[str] = field(default_factory=list)
    chaos_log: list[str] = field(default_factory=list)

    def note(self, what: str) -> None:
        """Keep when each blow fell, to set beside the servers' logs."""
        self.chaos_log.append(f"{datetime.datetime.now().isoformat(sep=' ', timespec='milliseconds')} {what}")

    def count_kill(self, victim: FaultyServer) -> None:
        self.note(f"SIGKILL {victim.log.stem}")
        self.kills += 1
        if self.kills % 10 == 0:
            print(f"{self.kills} kills, {self.postgres_restarts} PostgreSQL restarts", flush=True)

    def lines(self) -> list[str]:
        v = self.verdict
        return [
            f"kills survived:      {self.kills}",
            f"PostgreSQL restarts: {self.postgres_restarts}",
            f"storage faults:      {sum(self.storage_faults.values())} {self.storage_faults}",
            f"server starts:       {self.starts}",
            f"workflows checked:   {v.workflow_ids} IDs, {v.runs} runs, {v.acknowledged} acknowledged starts",
            f"lost:                {len(v.lost)}",
            f"duplicated:          {len(v.duplicated)}",
            f"other problems:      {len(v.other)}",
            f"nondeterminism:      {len(self.nondeterminism)} worker warnings, "
            f"{len(v.nondeterministic_tasks)} workflow tasks failed as nondeterministic",
            f"took:                {self.seconds:.0f} s",
        ]


Chaos = Callable[[list[FaultyServer], Figures], Coroutine[Any, Any, None]]


async def soak(options: Options, workdir: Path) -> Figures:
    """Run the soak in ``workdir`` and return its figures."""
    began = time.monotonic()
    figures = Figures()
    if options.backend == "sqlite":
        servers = [FaultyServer(workdir, options.seed, options.profile)]
        await _soak(servers, figures, options, _kill_in_a_row(options))
    else:
        with _private_cluster() as cluster:
            url = await postgres.create_database(cluster.url)
            servers = [
                FaultyServer(workdir, options.seed * 10 + n, options.profile, url=url, name=f"replica-{n}")
                for n in range(2)
            ]
            await _soak(servers, figures, options, _replicas_and_postgres(options, cluster))
    figures.storage_faults = count_faults(servers[0].fault_log)
    figures.starts = sum(server.starts for server in servers)
    figures.seconds = time.monotonic() - began
    (workdir / "chaos.log").write_text("\n".join(figures.chaos_log) + "\n")
    return figures


async def _soak(servers: list[FaultyServer], figures: Figures, options: Options, chaos: Chaos) -> None:
    workload.DELIVERIES.clear()
    async with _all_kept_alive(servers), watching_workers(servers[0].log.parent / "sdk.log") as complaints:
        clients = [await Client.connect(server.address, runtime=sdk_runtime()) for server in servers]
        async with workers(clients):
            await create_schedule(clients[0], SCHEDULE, QUEUE)
            lanes = Lanes(clients, options.lanes, options.seed)
            lanes.start()
            await chaos(servers, figures)
            for server in servers:
                await server.serving.wait()
            figures.drained = await lanes.finish(DRAIN_SECONDS)
            await asyncio.wait_for(still_firing(clients[0], SCHEDULE), DRAIN_SECONDS)
            await delete_schedule(clients[0], SCHEDULE)
            await all_closed(clients[0])
        figures.nondeterminism = complaints.nondeterminism
    checker = servers[0]
    await checker.start(faults=False)
    try:
        runs = await stored_runs(await Client.connect(checker.address))
    finally:
        checker.stop()
    figures.verdict = verdict(runs, lanes.acknowledged, workload.DELIVERIES)
    if figures.verdict.problems or figures.verdict.nondeterministic_tasks:
        _keep_histories(runs, checker.log.parent / "histories.jsonl")


def _keep_histories(runs: dict[str, dict[str, list[HistoryEvent]]], path: Path) -> None:
    """Every stored history, one run a line as JSON, to find the cause of a violation or of a
    workflow task failed as nondeterministic afterwards (a private cluster is gone by then)."""
    with path.open("w") as out:
        for workflow_id, by_run in runs.items():
            for run_id, events in by_run.items():
                history = [json_format.MessageToDict(event) for event in events]
                out.write(
                    json.dumps({"workflow_id": workflow_id, "run_id": run_id, "events": history}) + "\n"
                )


@contextlib.asynccontextmanager
async def _all_kept_alive(servers: Sequence[FaultyServer]) -> AsyncIterator[None]:
    async with contextlib.AsyncExitStack() as stack:
        for server in servers:
            await stack.enter_async_context(kept_alive(server))
        yield


def _kill_in_a_row(options: Options) -> Chaos:
    """SIGKILL the one server ``options.kills`` times, each after it served for a random while."""
    rng = random.Random(options.seed)

    async def chaos(servers: list[FaultyServer], figures: Figures) -> None:
        (server,) = servers
        while figures.kills < options.kills:
            await server.serving.wait()
            await asyncio.sleep(rng.uniform(*options.kill_pause))
            if server.serving.is_set() and not server.died:
                server.kill()
                figures.count_kill(server)

    return chaos


def _replicas_and_postgres(options: Options, cluster: postgres.Cluster) -> Chaos:
    """For ``options.seconds``: the replicas SIGKILLed in turn (each once the other serves),
    and PostgreSQL restarted every 5-20 s, every other time as a crash."""
    rng = random.Random(options.seed)

    async def kill_replicas(servers: list[FaultyServer], figures: Figures, until: float) -> None:
        turn = 0
        while time.monotonic() < until:
            await asyncio.sleep(rng.uniform(*options.replica_pause))
            victim, other = servers[turn % 2], servers[(turn + 1) % 2]
            await other.serving.wait()
            if victim.serving.is_set() and not victim.died:
                victim.kill()
                figures.count_kill(victim)
                turn += 1

    async def restart_postgres(figures: Figures, until: float) -> None:
        while time.monotonic() < until:
            await asyncio.sleep(rng.uniform(*options.postgres_pause))
            mode = "immediate" if figures.postgres_restarts % 2 else "fast"
            figures.note(f"PostgreSQL restart ({mode}) begins")
            await asyncio.to_thread(cluster.restart, mode)
            figures.postgres_restarts += 1
            figures.note(f"PostgreSQL restart ({mode}) done")

    async def chaos(servers: list[FaultyServer], figures: Figures) -> None:
        until = time.monotonic() + options.seconds
        await asyncio.gather(kill_replicas(servers, figures, until), restart_postgres(figures, until))

    return chaos


@contextlib.contextmanager
def _private_cluster() -> Any:
    bin_dir = postgres.binaries()
    if bin_dir is None:
        raise SystemExit("PostgreSQL is not installed (no initdb/pg_ctl found)")
    # Crash-safe: a PostgreSQL crash must not take back commits it acknowledged, else the
    # soak would count PostgreSQL's own documented losses as Cadenza's.
    cluster = postgres.Cluster(bin_dir, crash_safe=True)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


def _options(argv: Sequence[str]) -> Options:
    parser = argparse.ArgumentParser(prog="python -m tests.faults.soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("backend", choices=["sqlite", "postgres"])
    parser.add_argument("--kills", type=int, default=100, help="SIGKILLs on SQLite")
    parser.add_argument("--seconds", type=float, default=300.0, help="length of the PostgreSQL chaos")
    parser.add_argument("--lanes", type=int, default=6, help="workflows in flight")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", default="workload", help="storage faults (tests/faults/serve.py)")
    parser.add_argument("--workdir", type=Path, default=None)
    return Options(**vars(parser.parse_args(argv)))


def main(argv: Sequence[str]) -> int:
    options = _options(argv)
    workdir = options.workdir or Path(tempfile.mkdtemp(prefix="cadenza-soak-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"soak on {options.backend} in {workdir}", flush=True)
    figures = asyncio.run(soak(options, workdir))
    print("\n".join(figures.lines()))
    for problem in figures.verdict.problems[:50]:
        print("  ", problem)
    for message in figures.nondeterminism[:10]:
        print("   nondeterminism:", message[:800])
    for task in figures.verdict.nondeterministic_tasks[:10]:
        print("   failed as nondeterministic:", task)
    return 1 if figures.verdict.problems or not figures.drained else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
