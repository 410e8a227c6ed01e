"""The UI workload: how long the web UI's pages take the server with a large store.

Usage: python bench/bench_ui.py [--db PATH] [--executions N] [--repeats N]

1. Starts Cadenza on a durable SQLite file (``--db``). When the file does not exist yet it is
   populated as the scale workload does it (``bench_list.populate``: concurrent starts on a task
   queue no worker polls, each with a 2 s execution timeout, so the server closes every one), and a
   worker runs one ``SignalledRoundsWorkflow`` of about 1,000 events (rounds of parallel activities,
   each round started by a signal). Given an existing file, both steps are skipped, so one populated
   store serves many runs.
2. Asks for each page one request at a time over HTTP on the loopback, after a few unmeasured
   requests, and reports per page the median and p95 of the time to the full response and the
   server's CPU per request (user + system CPU of the server process over the timed requests,
   divided by their number; psutil's figures come in 10 ms ticks, so they need many requests).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode

import httpx
import psutil
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_defs import SignalledRoundsWorkflow
from bench_driver import worker_process
from bench_list import NAMESPACE, populate, wait_visible
from bench_procstats import cpu_seconds
from bench_report import percentile
from bench_scale import ALL_TIME_OUT
from bench_servers import (
    ServerProcess,
    allocate_ports,
    cadenza_command,
    resolve_executable,
    wait_until_ready,
)

DEFAULT_DB = Path("/tmp/cadenza-ui-bench/cadenza.db")
BIG_RUN_ID = "ui-bench-1000-events"
BIG_QUEUE = "ui-bench-q"
ROUNDS = 10
WIDTH = 30
HTML = {"accept": "text/html"}
FILTERED = 'WorkflowType="ListA" AND ExecutionStatus="TimedOut"'
RARE = f'WorkflowType="{SignalledRoundsWorkflow.__name__}" AND ExecutionStatus="Completed"'
NEXT_LINK = re.compile(r'rel="next" href="([^"]+)"')


@dataclass(frozen=True)
class Timing:
    """One page's figures over the timed requests."""

    page: str
    p50_ms: float
    p95_ms: float
    cpu_ms: float
    size_kb: float


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--db", type=Path, default=DEFAULT_DB, help=f"SQLite file, reused if it exists ({DEFAULT_DB})"
    )
    parser.add_argument(
        "--executions", type=int, default=100_000, help="runs stored when populating (100000)"
    )
    parser.add_argument("--concurrency", type=int, default=100, help="starts in flight when populating (100)")
    parser.add_argument("--repeats", type=int, default=50, help="timed requests per page (50)")
    parser.add_argument("--warmup", type=int, default=3, help="unmeasured requests per page (3)")
    parser.add_argument(
        "--rounds", type=int, default=ROUNDS, help=f"signals (rounds) of the big run ({ROUNDS})"
    )
    parser.add_argument(
        "--width", type=int, default=WIDTH, help=f"activities per round of the big run ({WIDTH})"
    )
    parser.add_argument("--populate-timeout", type=float, default=7200.0, help="seconds (7200)")
    return parser.parse_args(argv)


def log(message: str) -> None:
    print(f"[bench_ui] {message}", file=sys.stderr, flush=True)


@contextlib.asynccontextmanager
async def cadenza(db: Path) -> AsyncIterator[tuple[Client, str, psutil.Process]]:
    """A Cadenza server on ``db``: its client, HTTP base URL and process."""
    exe = resolve_executable("cadenza")
    if exe is None:
        raise SystemExit("`cadenza` executable not found")
    ports = allocate_ports()
    target = f"127.0.0.1:{ports.grpc}"
    with ServerProcess(
        "cadenza", cadenza_command(exe, ports, db.parent, db), db.parent / "server.log"
    ) as server:
        client = await wait_until_ready(server, target)
        yield client, f"http://127.0.0.1:{ports.http}", psutil.Process(server.pid)


async def populate_store(client: Client, db: Path, args: argparse.Namespace) -> None:
    """Fill a new store: the scale workload's closed runs, then the 1,000-event run."""
    log(f"storing {args.executions} executions, concurrency {args.concurrency}")
    began = time.perf_counter()
    failed = await populate(
        client, f"ui-{uuid.uuid4().hex[:8]}", args.executions, args.concurrency, ALL_TIME_OUT
    )
    if failed:
        raise SystemExit(f"{failed} of {args.executions} starts failed")
    await wait_visible(client, args.executions, args.populate_timeout, ALL_TIME_OUT)
    log(f"stored and closed in {time.perf_counter() - began:.0f} s")
    await run_big_workflow(client, db.parent / "worker.log", args.rounds, args.width)


async def run_big_workflow(client: Client, worker_log: Path, rounds: int, width: int) -> None:
    """One run of about 1,000 events (by default): ``rounds`` signals, each starting ``width`` activities."""
    address = client.service_client.config.target_host
    async with worker_process(address, BIG_QUEUE, worker_log, max_activities=width):
        handle = await client.start_workflow(
            SignalledRoundsWorkflow.run, args=[rounds, width], id=BIG_RUN_ID, task_queue=BIG_QUEUE
        )
        for _ in range(rounds):
            await handle.signal(SignalledRoundsWorkflow.go)
            await asyncio.sleep(0.2)
        await handle.result()


async def big_run(client: Client) -> WorkflowHandle[object, object]:
    handle = client.get_workflow_handle(BIG_RUN_ID)
    try:
        await handle.describe()
    except RPCError as error:
        raise SystemExit(f"{BIG_RUN_ID} is not in this store; populate a new one") from error
    return handle


async def next_page_url(http: httpx.AsyncClient, first: str) -> str:
    """The list's second page, as its first page links it."""
    answer = await http.get(first, headers=HTML)
    found = NEXT_LINK.search(answer.text)
    if found is None:
        raise SystemExit(f"{first} has no next page")
    return found.group(1).replace("&amp;", "&")


async def pages(http: httpx.AsyncClient, client: Client) -> list[tuple[str, str]]:
    """(name, URL) of every page timed."""
    handle = await big_run(client)
    run = (await handle.describe()).run_id
    base = f"/namespaces/{NAMESPACE}"
    listed = f"{base}/workflows"
    filtered = f"{listed}?{urlencode({'query': FILTERED})}"
    run_path = f"{listed}/{quote(BIG_RUN_ID)}/{run}"
    return [
        ("workflow list, first page", listed),
        ("workflow list, first page, filter matching half", filtered),
        ("workflow list, first page, filter matching one", f"{listed}?{urlencode({'query': RARE})}"),
        ("workflow list, next page, filter", await next_page_url(http, filtered)),
        ("namespace page (counts by status)", base),
        ("CSV export, filter matching one", f"{listed}.csv?{urlencode({'query': RARE})}"),
        (
            "CSV export, filter matching half (up to 10,000 rows)",
            f"{listed}.csv?{urlencode({'query': FILTERED})}",
        ),
        ("1,000-event run: history", f"{run_path}/history"),
        ("1,000-event run: history.json", f"{run_path}/history.json"),
        ("1,000-event run: timeline", f"{run_path}/timeline"),
        ("1,000-event run: graph", f"{run_path}/graph"),
        ("1,000-event run: pending activities", f"{run_path}/pending-activities"),
        ("1,000-event run: relationships", f"{run_path}/relationships"),
    ]


async def time_page(
    http: httpx.AsyncClient, server: psutil.Process, name: str, url: str, args: argparse.Namespace
) -> Timing:
    """``args.repeats`` requests of ``url`` one at a time, after ``args.warmup`` unmeasured ones."""
    for _ in range(args.warmup):
        await fetch(http, url)
    latencies = []
    size = 0
    cpu_before = cpu_seconds(server)
    for _ in range(args.repeats):
        began = time.perf_counter()
        size = await fetch(http, url)
        latencies.append(time.perf_counter() - began)
    cpu = cpu_seconds(server) - cpu_before
    return Timing(
        page=name,
        p50_ms=percentile(latencies, 50) * 1000,
        p95_ms=percentile(latencies, 95) * 1000,
        cpu_ms=cpu * 1000 / args.repeats,
        size_kb=size / 1024,
    )


async def fetch(http: httpx.AsyncClient, url: str) -> int:
    answer = await http.get(url, headers=HTML)
    if answer.status_code != 200:
        raise SystemExit(f"{url}: {answer.status_code} {answer.text[:300]}")
    return len(answer.content)


def table(timings: list[Timing], events: int, stored: int) -> str:
    lines = [
        f"{stored} executions stored; the run has {events} events",
        "| page | p50 ms | p95 ms | server CPU ms / request | response KB |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {t.page} | {t.p50_ms:.0f} | {t.p95_ms:.0f} | {t.cpu_ms:.0f} | {t.size_kb:.0f} |" for t in timings
    ]
    return "\n".join(lines)


async def bench(args: argparse.Namespace, new_store: bool) -> None:
    db: Path = args.db
    async with cadenza(db) as (client, http_base, server):
        if new_store:
            await populate_store(client, db, args)
        else:
            log(f"reusing {db}")
        stored = (await client.count_workflows()).count
        events = len((await (await big_run(client)).fetch_history()).events)
        async with httpx.AsyncClient(base_url=http_base, timeout=120) as http:
            timings = []
            for name, url in await pages(http, client):
                timings.append(await time_page(http, server, name, url, args))
                log(f"{name}: p50 {timings[-1].p50_ms:.0f} ms")
        print(table(timings, events, stored))


def main() -> None:
    args = parse_args()
    args.db.parent.mkdir(parents=True, exist_ok=True)
    asyncio.run(bench(args, new_store=not args.db.exists()))


if __name__ == "__main__":
    main()
