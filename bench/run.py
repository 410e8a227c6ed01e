"""Benchmark Cadenza against the real Temporal dev server with the same SDK workloads.

Usage:
    python bench/run.py [--workloads activity,timers,signal,query] [--workflows N] [--concurrency C]
                        [--sequential M] [--timer-workflows N] [--timer-concurrency C]
                        [--timer-durations S,S,...] [--signals N] [--signal-workflows W]
                        [--signal-concurrency C] [--queries N] [--query-workflows W]
                        [--query-concurrency C] [--sequential-calls N]
                        [--list-executions N] [--list-concurrency C] [--list-calls M]
                        [--list-timeout S] [--fanout-sizes N,N] [--fanout-workflows N]
                        [--history-events N] [--history-width N] [--history-fetches N]
                        [--scale-sizes N,N] [--scale-million] [--scale-temporal-sizes N,N]
                        [--scale-workflows N] [--scale-concurrency C] [--scale-sequential M]
                        [--only cadenza,cadenza-auth,temporal] [--json PATH]

The list, fanout, history and scale workloads run only when selected in
`--workloads`: list and scale populate large stores first, fanout and history
run workflows with 1,000 activities or 10,000 events.

Servers are benchmarked one at a time (never both running at once) so they
do not compete for CPU, each workload on a freshly started server with new
loopback ports and a durable SQLite file in a temporary directory. See
bench/README.md for what is measured.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import platform
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

import psutil
import temporalio
from temporalio.client import Client

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_auth import CADENZA_AUTH, auth_ratios_for, auth_report, cadenza_auth_command, create_admin_key
from bench_defs import HistoryWorkflow
from bench_driver import PhaseResult, Workload, run_concurrent, run_sequential, worker_process
from bench_fanout import FANOUT_GROWTH_ROWS, FANOUT_METRICS, apply_fanout, run_fanouts
from bench_history import (
    HistoryResult,
    compute_history_ratios,
    format_history_table,
    time_fetches,
)
from bench_list import FILTER as FILTER_TEXT
from bench_list import (
    ListResult,
    compute_list_ratios,
    format_list_table,
    measure_calls,
    populate,
    wait_visible,
)
from bench_procstats import PeakRssSampler, cpu_seconds, own_cpu_seconds, tree_rss_bytes
from bench_report import (
    CADENZA,
    MB,
    TEMPORAL,
    CallResult,
    Ratio,
    ServerResult,
    TimerResult,
    compute_call_ratios,
    compute_ratios,
    compute_timer_ratios,
    format_call_table,
    format_table,
    format_timer_table,
    json_number,
    percentile,
)
from bench_rpc import (
    Completion,
    CounterHandle,
    SignalSender,
    finish_and_check,
    query_batch,
    start_counters,
    start_value,
)
from bench_scale import ALL_TIME_OUT, MILLION, SCALE_GROWTH_ROWS, SCALE_METRICS, apply_scale
from bench_servers import (
    LOOPBACK,
    ServerError,
    ServerPorts,
    ServerProcess,
    allocate_ports,
    cadenza_command,
    cadenza_replicas,
    resolve_executable,
    temporal_command,
    wait_until_ready,
)
from bench_sized import Metric, SizedResult, compute_sized_ratios, format_sized_table
from bench_timers import TimerLateness, collect_lateness, run_timer_workflows

CommandBuilder = Callable[[Path, ServerPorts, Path], list[str]]

# Server name -> (console script name, command-line builder), in run order.
SERVERS: dict[str, tuple[str, CommandBuilder]] = {
    CADENZA: ("cadenza", cadenza_command),
    CADENZA_AUTH: ("cadenza", cadenza_auth_command),
    TEMPORAL: ("temporal", temporal_command),
}
# Cadenza with auth and audit on runs only when named in --only.
DEFAULT_SERVERS = (CADENZA, TEMPORAL)

ACTIVITY = "activity"
TIMERS = "timers"
SIGNAL = "signal"
QUERY = "query"
LIST = "list"
FANOUT = "fanout"
HISTORY = "history"
SCALE = "scale"
WORKLOADS = (ACTIVITY, TIMERS, SIGNAL, QUERY, LIST, FANOUT, HISTORY, SCALE)  # also the run order
# The others populate large stores or grow large workflows, so they run only when asked for.
DEFAULT_WORKLOADS = (ACTIVITY, TIMERS, SIGNAL, QUERY)
DEFAULT_TIMER_DURATIONS = (0.2, 0.5, 1.0, 2.0)
DEFAULT_FANOUT_SIZES = (100, 1000)
DEFAULT_SCALE_SIZES = (10_000, 100_000)


@dataclass(frozen=True)
class BenchConfig:
    """Validated command-line options."""

    workflows: int
    concurrency: int
    sequential: int
    warmup: int
    only: tuple[str, ...] | None
    json_path: Path | None
    server_timeout_s: float
    keep_tmp: bool
    workloads: tuple[str, ...] = DEFAULT_WORKLOADS
    timer_workflows: int = 100
    timer_concurrency: int = 50
    timer_durations: tuple[float, ...] = DEFAULT_TIMER_DURATIONS
    signals: int = 500
    signal_workflows: int = 10
    signal_concurrency: int = 20
    queries: int = 300
    query_workflows: int = 10
    query_concurrency: int = 10
    sequential_calls: int = 200
    list_executions: int = 100_000
    list_concurrency: int = 100
    list_calls: int = 200
    list_timeout_s: float = 3600.0
    list_temporal_executions: int | None = None
    fanout_sizes: tuple[int, ...] = DEFAULT_FANOUT_SIZES
    fanout_workflows: int = 3
    history_events: int = 10_000
    history_width: int = 20
    history_fetches: int = 5
    scale_sizes: tuple[int, ...] = DEFAULT_SCALE_SIZES
    scale_million: bool = False
    scale_temporal_sizes: tuple[int, ...] | None = None
    scale_workflows: int = 200
    scale_concurrency: int = 20
    scale_sequential: int = 50
    long_timeout_s: float = 900.0
    scale_timeout_s: float = 7200.0


def positive_int(text: str) -> int:
    """argparse type for counts that must be at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def non_negative_int(text: str) -> int:
    """argparse type for counts that may be 0."""
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def server_list(text: str) -> tuple[str, ...]:
    """argparse type for a comma-separated server selection, returned in run order."""
    names = {name.strip() for name in text.split(",") if name.strip()}
    unknown = sorted(names - set(SERVERS))
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"choose from {','.join(SERVERS)}, got {text!r}")
    return tuple(s for s in SERVERS if s in names)


def workload_list(text: str) -> tuple[str, ...]:
    """argparse type for a comma-separated workload selection, returned in run order."""
    names = {name.strip() for name in text.split(",") if name.strip()}
    unknown = sorted(names - set(WORKLOADS))
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"choose from {','.join(WORKLOADS)}, got {text!r}")
    return tuple(w for w in WORKLOADS if w in names)


def duration_list(text: str) -> tuple[float, ...]:
    """argparse type for comma-separated timer durations in seconds, kept in order."""
    try:
        durations = tuple(float(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of seconds: {text!r}") from None
    if not all(0 < d < 3600 for d in durations):  # also rejects NaN
        raise argparse.ArgumentTypeError(f"durations must be in (0, 3600) seconds, got {text!r}")
    return durations


def size_list(text: str) -> tuple[int, ...]:
    """argparse type for comma-separated positive sizes, returned sorted without repeats."""
    try:
        sizes = {int(part) for part in text.split(",")}
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of whole numbers: {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"sizes must be >= 1, got {text!r}")
    return tuple(sorted(sizes))


def add_growth_options(parser: argparse.ArgumentParser) -> None:
    """Options of the fanout, history and scale workloads."""
    parser.add_argument(
        "--fanout-sizes",
        type=size_list,
        default=DEFAULT_FANOUT_SIZES,
        help="fanout workload: parallel activities per workflow, one measurement each (100,1000)",
    )
    parser.add_argument(
        "--fanout-workflows", type=positive_int, default=3, help="fanout workload: workflows per size (3)"
    )
    parser.add_argument(
        "--history-events",
        type=positive_int,
        default=10_000,
        help="history workload: events to grow to (10000)",
    )
    parser.add_argument(
        "--history-width",
        type=positive_int,
        default=20,
        help="history workload: parallel activities per round (20)",
    )
    parser.add_argument(
        "--history-fetches",
        type=positive_int,
        default=5,
        help="history workload: timed full GetWorkflowExecutionHistory reads (5)",
    )
    parser.add_argument(
        "--scale-sizes",
        type=size_list,
        default=DEFAULT_SCALE_SIZES,
        help="scale workload: executions stored before measuring, one fresh server each (10000,100000)",
    )
    parser.add_argument(
        "--scale-million", action="store_true", help="scale workload: also measure with 1,000,000 stored"
    )
    parser.add_argument(
        "--scale-temporal-sizes",
        type=size_list,
        default=None,
        help="scale workload: sizes on Temporal, if the full ones are not feasible (--scale-sizes)",
    )
    parser.add_argument(
        "--scale-workflows",
        type=positive_int,
        default=200,
        help="scale workload: concurrent-phase workflows (200)",
    )
    parser.add_argument(
        "--scale-concurrency", type=positive_int, default=20, help="scale workload: max in flight (20)"
    )
    parser.add_argument(
        "--scale-sequential",
        type=positive_int,
        default=50,
        help="scale workload: one-at-a-time workflows (50)",
    )
    parser.add_argument(
        "--long-timeout",
        type=float,
        default=900.0,
        dest="long_timeout_s",
        help="fanout and history workloads: give up on a server after this many seconds (900)",
    )
    parser.add_argument(
        "--scale-timeout",
        type=float,
        default=7200.0,
        dest="scale_timeout_s",
        help="scale workload: give up on a server (all its sizes) after this many seconds (7200)",
    )


def parse_args(argv: list[str] | None = None) -> BenchConfig:
    """Parse and validate the command line."""
    parser = argparse.ArgumentParser(description="Cadenza vs Temporal dev server benchmark.")
    parser.add_argument(
        "--workloads",
        type=workload_list,
        default=DEFAULT_WORKLOADS,
        help=f"comma-separated, from {','.join(WORKLOADS)} ({','.join(DEFAULT_WORKLOADS)})",
    )
    parser.add_argument(
        "--workflows", type=positive_int, default=500, help="concurrent-phase workflows (500)"
    )
    parser.add_argument("--concurrency", type=positive_int, default=50, help="max in-flight workflows (50)")
    parser.add_argument(
        "--sequential", type=non_negative_int, default=50, help="one-at-a-time workflows (50)"
    )
    parser.add_argument(
        "--warmup", type=non_negative_int, default=10, help="unmeasured warm-up workflows (10)"
    )
    parser.add_argument(
        "--timer-workflows", type=positive_int, default=100, help="timers-workload workflows (100)"
    )
    parser.add_argument(
        "--timer-concurrency", type=positive_int, default=50, help="timers-workload max in flight (50)"
    )
    parser.add_argument(
        "--timer-durations",
        type=duration_list,
        default=DEFAULT_TIMER_DURATIONS,
        help="sequential sleeps per timers workflow, in seconds (0.2,0.5,1,2)",
    )
    parser.add_argument("--signals", type=positive_int, default=500, help="measured signals (500)")
    parser.add_argument(
        "--signal-workflows", type=positive_int, default=10, help="workflows the signals go to (10)"
    )
    parser.add_argument(
        "--signal-concurrency", type=positive_int, default=20, help="max signals in flight (20)"
    )
    parser.add_argument("--queries", type=positive_int, default=300, help="measured queries (300)")
    parser.add_argument(
        "--query-workflows", type=positive_int, default=10, help="workflows the queries go to (10)"
    )
    parser.add_argument(
        "--query-concurrency", type=positive_int, default=10, help="max queries in flight (10)"
    )
    parser.add_argument(
        "--sequential-calls",
        type=positive_int,
        default=200,
        help="signals and queries sent one at a time before the concurrent phase (200)",
    )
    parser.add_argument(
        "--list-executions",
        type=positive_int,
        default=100_000,
        help="list workload: executions to populate (100000)",
    )
    parser.add_argument(
        "--list-concurrency",
        type=positive_int,
        default=100,
        help="list workload: start calls in flight while populating (100)",
    )
    parser.add_argument(
        "--list-calls",
        type=positive_int,
        default=200,
        help="list workload: measured calls of each kind (200)",
    )
    parser.add_argument(
        "--list-temporal-executions",
        type=positive_int,
        default=None,
        help="list workload: executions on Temporal, if fewer are feasible (--list-executions)",
    )
    parser.add_argument(
        "--list-timeout",
        type=float,
        default=3600.0,
        dest="list_timeout_s",
        help="list workload: give up on a server after this many seconds (3600)",
    )
    add_growth_options(parser)
    parser.add_argument(
        "--only",
        type=server_list,
        help=f"benchmark just these servers, comma-separated, of {','.join(SERVERS)}"
        f" (default {','.join(DEFAULT_SERVERS)})",
    )
    parser.add_argument("--json", type=Path, dest="json_path", help="write results as JSON here")
    parser.add_argument(
        "--server-timeout",
        type=float,
        default=130.0,
        dest="server_timeout_s",
        help="give up on a server after this many seconds (130)",
    )
    parser.add_argument("--keep-tmp", action="store_true", help="keep databases and logs for debugging")
    ns = parser.parse_args(argv)
    return BenchConfig(**vars(ns))


def log(message: str) -> None:
    """Progress goes to stderr so stdout carries only the result table."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def work_directory(keep: bool) -> Iterator[Path]:
    """A scratch directory for databases and logs, removed unless `keep`."""
    if keep:
        path = Path(tempfile.mkdtemp(prefix="cadenza-bench-"))
        log(f"keeping scratch files in {path}")
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="cadenza-bench-") as tmp:
        yield Path(tmp)


@dataclass(frozen=True)
class CpuProbe:
    """The processes whose CPU is sampled around the measured phases.

    Client-side (driver + workers) CPU is recorded alongside the server's so
    a reader can tell when the harness, not the server, is the bottleneck.
    Replicas of one server are summed, and so are their workers.
    """

    servers: tuple[psutil.Process, ...]
    driver: psutil.Process
    workers: tuple[psutil.Process, ...]

    def read(self) -> CpuReading:
        """CPU seconds consumed so far by each party."""
        return CpuReading(
            server_s=sum(cpu_seconds(server) for server in self.servers),
            driver_s=own_cpu_seconds(self.driver),
            worker_s=sum(cpu_seconds(worker) for worker in self.workers),
        )


@dataclass(frozen=True)
class CpuReading:
    """Cumulative CPU seconds of the server, the driver and the worker."""

    server_s: float = 0.0
    driver_s: float = 0.0
    worker_s: float = 0.0

    def __sub__(self, other: CpuReading) -> CpuReading:
        """CPU consumed between two readings."""
        return CpuReading(
            self.server_s - other.server_s,
            self.driver_s - other.driver_s,
            self.worker_s - other.worker_s,
        )


def apply_phases(
    result: ServerResult,
    concurrent: PhaseResult,
    sequential: PhaseResult,
    cpu: CpuReading,
) -> None:
    """Fill a result's headline figures from the two measured phases and their CPU use."""
    completed = len(concurrent.latencies_s) + len(sequential.latencies_s)
    result.workflows_ok = completed
    result.workflows_failed = concurrent.failures + sequential.failures
    if concurrent.wall_s > 0:
        result.throughput_wfps = len(concurrent.latencies_s) / concurrent.wall_s
    result.concurrent_p50_ms = percentile(concurrent.latencies_s, 50) * 1000
    result.concurrent_p99_ms = percentile(concurrent.latencies_s, 99) * 1000
    result.sequential_p50_ms = percentile(sequential.latencies_s, 50) * 1000
    result.sequential_p99_ms = percentile(sequential.latencies_s, 99) * 1000
    result.cpu_s_total = cpu.server_s
    if completed:
        result.cpu_s_per_1000 = cpu.server_s / completed * 1000
        result.driver_cpu_s_per_1000 = cpu.driver_s / completed * 1000
        result.worker_cpu_s_per_1000 = cpu.worker_s / completed * 1000
    result.error = concurrent.first_error or sequential.first_error


async def run_phases(load: Workload, config: BenchConfig, probe: CpuProbe, result: ServerResult) -> None:
    """Warm up, then run the measured concurrent and sequential phases.

    Warm-up is excluded from every figure so one-off costs (first task-queue
    creation, sandbox import of the workflow module) do not skew latencies.
    CPU is measured across both measured phases and divided by the number of
    workflows they completed.
    """
    warm = await run_sequential(dataclasses.replace(load, id_prefix=f"{load.id_prefix}-warm"), config.warmup)
    if warm.failures:
        raise ServerError(f"warm-up failed: {warm.first_error}")
    before = probe.read()
    log(f"{result.server}: {config.workflows} workflows, concurrency {config.concurrency}")
    concurrent = await run_concurrent(
        dataclasses.replace(load, id_prefix=f"{load.id_prefix}-conc"),
        config.workflows,
        config.concurrency,
    )
    log(f"{result.server}: {config.sequential} sequential workflows")
    sequential = await run_sequential(
        dataclasses.replace(load, id_prefix=f"{load.id_prefix}-seq"), config.sequential
    )
    apply_phases(result, concurrent, sequential, probe.read() - before)


@dataclass(frozen=True)
class RunningServer:
    """A started, reachable server under test."""

    name: str
    target: str
    client: Client
    root: psutil.Process
    startup_s: float
    api_key: str | None = None


@contextlib.asynccontextmanager
async def running_server(
    name: str, workdir: Path, log_name: str = "server.log"
) -> AsyncIterator[RunningServer]:
    """Start one server, wait until it answers, and always stop it afterwards."""
    script, build_command = SERVERS[name]
    exe = resolve_executable(script)
    if exe is None:
        raise ServerError(f"`{script}` executable not found next to {sys.executable} or on PATH")
    ports = allocate_ports()
    target = f"{LOOPBACK}:{ports.grpc}"
    api_key = await asyncio.to_thread(create_admin_key, exe, workdir) if name == CADENZA_AUTH else None
    log(f"{name}: starting {exe} on {target}")
    started = time.perf_counter()
    with ServerProcess(name, build_command(exe, ports, workdir), workdir / log_name) as server:
        client = await wait_until_ready(server, target, api_key=api_key)
        startup_s = time.perf_counter() - started
        yield RunningServer(name, target, client, psutil.Process(server.pid), startup_s, api_key)
        log(f"{name}: stopping")


def fresh_workload(client: Client) -> Workload:
    """A task queue and workflow-id prefix unique to this run."""
    run_id = uuid.uuid4().hex[:8]
    return Workload(client=client, task_queue=f"bench-{run_id}", id_prefix=f"bench-{run_id}")


@contextlib.asynccontextmanager
async def running_replicas(name: str, workdir: Path, count: int) -> AsyncIterator[list[RunningServer]]:
    """`count` servers on one database, each with its own ports and log; one is `running_server`."""
    if count == 1:
        async with running_server(name, workdir) as srv:
            yield [srv]
        return
    async with contextlib.AsyncExitStack() as stack:
        yield [
            await stack.enter_async_context(running_server(name, workdir, f"server-{i}.log"))
            for i in range(count)
        ]


@contextlib.asynccontextmanager
async def replica_workers(
    replicas: Sequence[RunningServer], task_queue: str, workdir: Path
) -> AsyncIterator[tuple[psutil.Process, ...]]:
    """One worker process per replica, each polling that replica only."""
    logs = ["worker.log"] if len(replicas) == 1 else [f"worker-{i}.log" for i in range(len(replicas))]
    async with contextlib.AsyncExitStack() as stack:
        procs = [
            await stack.enter_async_context(
                worker_process(srv.target, task_queue, workdir / log, api_key=srv.api_key)
            )
            for srv, log in zip(replicas, logs, strict=True)
        ]
        yield tuple(psutil.Process(proc.pid) for proc in procs)


async def measure_activity(name: str, config: BenchConfig, workdir: Path, result: ServerResult) -> None:
    """The activity workload on freshly started server(s).

    Cadenza runs as `CADENZA_BENCH_REPLICAS` replicas on one PostgreSQL
    database when asked: workflows are started through each in turn, and
    server CPU and RSS are summed over all of them.
    """
    count = cadenza_replicas() if name in (CADENZA, CADENZA_AUTH) else 1
    if count > 1:
        log(f"{name}: {count} replicas on one database")
    async with running_replicas(name, workdir, count) as replicas:
        result.startup_s = max(srv.startup_s for srv in replicas)
        first, *others = replicas
        load = dataclasses.replace(
            fresh_workload(first.client), more_clients=tuple(srv.client for srv in others)
        )
        roots = tuple(srv.root for srv in replicas)
        with PeakRssSampler(*roots) as rss:
            async with replica_workers(replicas, load.task_queue, workdir) as workers:
                probe = CpuProbe(servers=roots, driver=psutil.Process(), workers=workers)
                await run_phases(load, config, probe, result)
        result.peak_rss_mb = rss.peak_bytes / MB


def apply_timer_run(
    result: TimerResult,
    phase: PhaseResult,
    lateness: TimerLateness,
    server_cpu_s: float,
    timers_per_workflow: int,
) -> None:
    """Fill a timers result from the measured phase and the lateness read from its histories."""
    result.workflows_ok = len(phase.latencies_s)
    result.workflows_failed = phase.failures
    result.wall_s = phase.wall_s
    if result.workflows_ok:
        result.cpu_s_per_1000 = server_cpu_s / result.workflows_ok * 1000
    result.apply_lateness(lateness.samples)
    expected = result.workflows_ok * timers_per_workflow
    result.error = phase.first_error
    if result.error is None and (lateness.unfired or result.timers_fired != expected):
        result.error = (
            f"histories hold {result.timers_fired} fired timers, expected {expected}"
            f" ({lateness.unfired} started but never fired)"
        )


async def measure_timers(name: str, config: BenchConfig, workdir: Path, result: TimerResult) -> None:
    """The timers workload on one freshly started server.

    Warm-up workflows (one short timer each, run together) are unmeasured.
    Server CPU covers only the measured workflows; histories are fetched
    afterwards so fetching is counted in no figure.
    """
    durations = config.timer_durations
    async with running_server(name, workdir) as srv:
        result.startup_s = srv.startup_s
        load = fresh_workload(srv.client)
        async with worker_process(srv.target, load.task_queue, workdir / "worker.log", api_key=srv.api_key):
            warm_count = min(config.warmup, config.timer_concurrency)
            if warm_count:
                warm_load = dataclasses.replace(load, id_prefix=f"{load.id_prefix}-warm")
                warm, _ = await run_timer_workflows(warm_load, warm_count, warm_count, [min(durations)])
                if warm.failures:
                    raise ServerError(f"warm-up failed: {warm.first_error}")
            log(
                f"{name}: {config.timer_workflows} timer workflows x {len(durations)} timers,"
                f" concurrency {config.timer_concurrency}"
            )
            before = cpu_seconds(srv.root)
            phase, handles = await run_timer_workflows(
                dataclasses.replace(load, id_prefix=f"{load.id_prefix}-timers"),
                config.timer_workflows,
                config.timer_concurrency,
                durations,
            )
            server_cpu_s = cpu_seconds(srv.root) - before
        log(f"{name}: fetching {len(handles)} histories")
        lateness = await collect_lateness(handles)
    apply_timer_run(result, phase, lateness, server_cpu_s, len(durations))


def apply_call_run(result: CallResult, phase: PhaseResult, cpu: CpuReading, completion: Completion) -> None:
    """Fill a signal/query result from the measured calls, their CPU use and the workflows' final counts."""
    result.apply_latencies(phase.latencies_s, phase.wall_s)
    result.calls_failed = phase.failures
    if result.calls_ok:
        result.cpu_s_per_1000 = cpu.server_s / result.calls_ok * 1000
        result.driver_cpu_s_per_1000 = cpu.driver_s / result.calls_ok * 1000
        result.worker_cpu_s_per_1000 = cpu.worker_s / result.calls_ok * 1000
    result.workflows_ok, result.workflows_failed = completion.ok, completion.failed
    result.error = phase.first_error or completion.first_error


@contextlib.asynccontextmanager
async def counter_workflows(
    name: str, workdir: Path, result: CallResult, count: int
) -> AsyncIterator[tuple[list[CounterHandle], CpuProbe]]:
    """A fresh server and worker with `count` running CounterWorkflows, each past its first task."""
    async with running_server(name, workdir) as srv:
        result.startup_s = srv.startup_s
        load = fresh_workload(srv.client)
        async with worker_process(
            srv.target, load.task_queue, workdir / "worker.log", api_key=srv.api_key
        ) as worker:
            probe = CpuProbe(
                servers=(srv.root,), driver=psutil.Process(), workers=(psutil.Process(worker.pid),)
            )
            log(f"{name}: starting {count} counter workflows")
            yield await start_counters(load, count), probe


def check_warmup(warm: PhaseResult) -> None:
    """A failed warm-up means the server cannot run the workload at all."""
    if warm.failures:
        raise ServerError(f"warm-up failed: {warm.first_error}")


async def measure_signal(name: str, config: BenchConfig, workdir: Path, result: CallResult) -> None:
    """The signal workload on one freshly started server.

    `--warmup` unmeasured signals go first. A signal's RPC returns before the
    worker has processed it, so CPU is measured from the first measured signal
    until every workflow has been finished and has returned its count: that
    includes the workflow tasks the signals caused (plus one `finish` signal
    and one completion per workflow).
    """
    async with counter_workflows(name, workdir, result, config.signal_workflows) as (handles, probe):
        sender = SignalSender(handles)
        if config.warmup:
            check_warmup(await sender.batch(config.warmup, config.signal_concurrency))
        log(f"{name}: {config.sequential_calls} signals one at a time")
        alone_began = probe.read()
        alone = await sender.batch(config.sequential_calls, 1)
        alone_cpu = probe.read() - alone_began
        log(f"{name}: {config.signals} signals, concurrency {config.signal_concurrency}")
        before = probe.read()
        phase = await sender.batch(config.signals, config.signal_concurrency)
        completion = await finish_and_check(handles, sender.expected_results())
        cpu = probe.read() - before
    apply_call_run(result, phase, cpu, completion)
    result.apply_sequential(alone.latencies_s, alone_cpu.server_s)


async def measure_query(name: str, config: BenchConfig, workdir: Path, result: CallResult) -> None:
    """The query workload on one freshly started server (`--warmup` unmeasured queries first)."""
    async with counter_workflows(name, workdir, result, config.query_workflows) as (handles, probe):
        if config.warmup:
            check_warmup(await query_batch(handles, config.warmup, config.query_concurrency))
        log(f"{name}: {config.sequential_calls} queries one at a time")
        alone_began = probe.read()
        alone = await query_batch(handles, config.sequential_calls, 1)
        alone_cpu = probe.read() - alone_began
        log(f"{name}: {config.queries} queries, concurrency {config.query_concurrency}")
        before = probe.read()
        phase = await query_batch(handles, config.queries, config.query_concurrency)
        cpu = probe.read() - before
        completion = await finish_and_check(handles, [start_value(i) for i in range(len(handles))])
    apply_call_run(result, phase, cpu, completion)
    result.apply_sequential(alone.latencies_s, alone_cpu.server_s)


async def measure_list(name: str, config: BenchConfig, workdir: Path, result: ListResult) -> None:
    """The list workload on one freshly started server (no worker: runs stay open or time out)."""
    async with running_server(name, workdir) as srv:
        result.startup_s = srv.startup_s
        prefix = f"list-{uuid.uuid4().hex[:8]}"
        executions = list_executions(name, config)
        log(f"{name}: populating {executions} executions, concurrency {config.list_concurrency}")
        started = time.perf_counter()
        failed = await populate(srv.client, prefix, executions, config.list_concurrency)
        result.populate_s = time.perf_counter() - started
        result.workflows_ok = executions - failed
        result.workflows_failed = failed
        result.starts_per_s = result.workflows_ok / result.populate_s
        log(f"{name}: {result.starts_per_s:.0f} starts/s; waiting until all are visible")
        if failed:
            raise ServerError(f"{failed} starts failed")
        started = time.perf_counter()
        await wait_visible(srv.client, executions, config.list_timeout_s)
        result.visible_wait_s = time.perf_counter() - started
        log(f"{name}: {config.list_calls} calls of each kind")
        await measure_calls(srv.client, result, executions, config.list_calls, config.warmup)


def list_executions(name: str, config: BenchConfig) -> int:
    """How many executions the list workload puts on this server."""
    if name == TEMPORAL and config.list_temporal_executions is not None:
        return config.list_temporal_executions
    return config.list_executions


@contextlib.asynccontextmanager
async def server_with_worker(
    name: str, workdir: Path, max_activities: int | None = None
) -> AsyncIterator[tuple[RunningServer, Workload, CpuProbe]]:
    """A fresh server and one worker process, with the probe for their CPU."""
    async with running_server(name, workdir) as srv:
        load = fresh_workload(srv.client)
        async with worker_process(
            srv.target, load.task_queue, workdir / "worker.log", max_activities, srv.api_key
        ) as worker:
            probe = CpuProbe(
                servers=(srv.root,), driver=psutil.Process(), workers=(psutil.Process(worker.pid),)
            )
            yield srv, load, probe


async def measure_fanout(name: str, config: BenchConfig, workdir: Path, result: SizedResult) -> None:
    """The fanout workload on one freshly started server: every width in turn, smallest first."""
    widest = max(config.fanout_sizes)
    async with server_with_worker(name, workdir, max_activities=widest) as (srv, load, probe):
        result.startup_s = srv.startup_s
        with PeakRssSampler(srv.root) as rss:
            if config.warmup:
                warm_load = dataclasses.replace(load, id_prefix=f"{load.id_prefix}-warm")
                check_warmup(await run_fanouts(warm_load, min(config.fanout_sizes), 1))
            for width in config.fanout_sizes:
                log(f"{name}: {config.fanout_workflows} workflows of {width} parallel activities")
                before = probe.read()
                phase = await run_fanouts(load, width, config.fanout_workflows)
                cpu = probe.read() - before
                apply_fanout(result, width, phase, cpu.server_s, cpu.worker_s)
        result.peak_rss_mb = rss.peak_bytes / MB
    result.compute_growth([key for _, key in FANOUT_GROWTH_ROWS])


async def measure_history(name: str, config: BenchConfig, workdir: Path, result: HistoryResult) -> None:
    """The history workload on one freshly started server: one workflow grown to many events."""
    async with server_with_worker(name, workdir, max_activities=config.history_width) as (srv, load, probe):
        result.startup_s = srv.startup_s
        with PeakRssSampler(srv.root) as rss:
            if config.warmup:
                warm_load = dataclasses.replace(load, id_prefix=f"{load.id_prefix}-warm")
                check_warmup(await run_fanouts(warm_load, config.history_width, 1))
            log(
                f"{name}: one workflow to {config.history_events} events, {config.history_width} activities a round"
            )
            before = probe.read()
            began = time.perf_counter()
            handle = await srv.client.start_workflow(
                HistoryWorkflow.run,
                args=[config.history_events, config.history_width],
                id=f"{load.id_prefix}-history",
                task_queue=load.task_queue,
            )
            await handle.result()
            result.wall_s = time.perf_counter() - began
            cpu = probe.read() - before
            result.workflows_ok = 1
            history = await handle.fetch_history()
            result.apply_history(history.events)
            log(f"{name}: {result.events} events; {config.history_fetches} full history reads")
            fetch_before = probe.read()
            fetches, result.fetch_pages = await time_fetches(
                srv.client, handle.id, config.history_fetches, result.events
            )
            fetch_cpu = probe.read() - fetch_before
        result.peak_rss_mb = rss.peak_bytes / MB
    result.events_per_s = result.events / result.wall_s
    result.cpu_ms_per_event = cpu.server_s * 1000 / result.events
    result.worker_cpu_ms_per_event = cpu.worker_s * 1000 / result.events
    result.fetch_p50_ms = percentile(fetches, 50) * 1000
    result.fetch_cpu_ms = fetch_cpu.server_s * 1000 / len(fetches)


def scale_sizes(name: str, config: BenchConfig) -> tuple[int, ...]:
    """How many executions the scale workload stores on this server before each measurement."""
    sizes = config.scale_sizes
    if name == TEMPORAL and config.scale_temporal_sizes is not None:
        sizes = config.scale_temporal_sizes
    return tuple(sorted({*sizes, MILLION})) if config.scale_million else sizes


async def measure_scale(name: str, config: BenchConfig, workdir: Path, result: SizedResult) -> None:
    """The scale workload: for each size, a fresh server whose store holds that many closed runs."""
    for size in scale_sizes(name, config):
        sized_dir = workdir / str(size)
        sized_dir.mkdir()
        await measure_scale_size(name, config, sized_dir, result, size)
    result.peak_rss_mb = max(result.get(size, "peak_rss_mb") for size in result.sizes())
    result.compute_growth([key for _, key in SCALE_GROWTH_ROWS])


async def measure_scale_size(
    name: str, config: BenchConfig, workdir: Path, result: SizedResult, size: int
) -> None:
    """Populate one fresh server with `size` runs that all time out, then run EchoWorkflows on it."""
    async with running_server(name, workdir) as srv:
        result.startup_s = srv.startup_s
        log(f"{name}: storing {size} executions, concurrency {config.list_concurrency}")
        began = time.perf_counter()
        prefix = f"scale-{uuid.uuid4().hex[:8]}"
        failed = await populate(srv.client, prefix, size, config.list_concurrency, ALL_TIME_OUT)
        if failed:
            raise ServerError(f"{failed} of {size} starts failed")
        result.put(size, "starts_per_s", size / (time.perf_counter() - began))
        await wait_visible(srv.client, size, config.scale_timeout_s, ALL_TIME_OUT)
        result.put(size, "idle_rss_mb", tree_rss_bytes(srv.root) / MB)
        load = fresh_workload(srv.client)
        async with worker_process(
            srv.target, load.task_queue, workdir / "worker.log", api_key=srv.api_key
        ) as worker:
            probe = CpuProbe(
                servers=(srv.root,), driver=psutil.Process(), workers=(psutil.Process(worker.pid),)
            )
            with PeakRssSampler(srv.root) as rss:
                warm = await run_sequential(
                    dataclasses.replace(load, id_prefix=f"{load.id_prefix}-warm"), config.warmup
                )
                check_warmup(warm)
                log(f"{name}: {size} stored; {config.scale_workflows} + {config.scale_sequential} workflows")
                before = probe.read()
                concurrent = await run_concurrent(
                    dataclasses.replace(load, id_prefix=f"{load.id_prefix}-conc"),
                    config.scale_workflows,
                    config.scale_concurrency,
                )
                sequential = await run_sequential(
                    dataclasses.replace(load, id_prefix=f"{load.id_prefix}-seq"), config.scale_sequential
                )
                cpu = probe.read() - before
            result.put(size, "peak_rss_mb", rss.peak_bytes / MB)
        apply_scale(result, size, concurrent, sequential, cpu.server_s)


class Outcome(Protocol):
    """The fields every per-server result shares."""

    server: str
    ok: bool
    error: str | None
    workflows_failed: int


async def guard(
    result: Outcome, timeout_s: float, measure: Callable[[], Awaitable[None]], what: str = ""
) -> None:
    """Run one measurement, turning any failure into an error in its result.

    A broken server must not stop the other from being measured.
    """
    try:
        async with asyncio.timeout(timeout_s):
            await measure()
    except TimeoutError:
        result.error = f"timed out after {timeout_s:.0f}s"
    except Exception as err:
        result.error = f"{type(err).__name__}: {err}"
    result.ok = result.error is None and result.workflows_failed == 0
    if result.error:
        log(f"{result.server}{what}: FAILED: {result.error}")


async def bench_server(name: str, config: BenchConfig, workdir: Path) -> ServerResult:
    """Benchmark one server with the activity workload."""
    result = ServerResult(server=name)
    await guard(result, config.server_timeout_s, lambda: measure_activity(name, config, workdir, result))
    return result


async def bench_timers(name: str, config: BenchConfig, workdir: Path) -> TimerResult:
    """Benchmark one server with the timers workload."""
    result = TimerResult(server=name)
    await guard(
        result,
        config.server_timeout_s,
        lambda: measure_timers(name, config, workdir, result),
        what=" (timers)",
    )
    return result


async def bench_calls(name: str, config: BenchConfig, workdir: Path, workload: str) -> CallResult:
    """Benchmark one server with the signal or the query workload."""
    result = CallResult(server=name)
    measure = measure_signal if workload == SIGNAL else measure_query
    await guard(
        result,
        config.server_timeout_s,
        lambda: measure(name, config, workdir, result),
        what=f" ({workload})",
    )
    return result


async def bench_list(name: str, config: BenchConfig, workdir: Path) -> ListResult:
    """Benchmark one server with the list workload."""
    result = ListResult(server=name)
    await guard(
        result, config.list_timeout_s, lambda: measure_list(name, config, workdir, result), what=" (list)"
    )
    return result


async def bench_fanout(name: str, config: BenchConfig, workdir: Path) -> SizedResult:
    """Benchmark one server with the fanout workload."""
    result = SizedResult(server=name)
    await guard(
        result, config.long_timeout_s, lambda: measure_fanout(name, config, workdir, result), what=" (fanout)"
    )
    return result


async def bench_history(name: str, config: BenchConfig, workdir: Path) -> HistoryResult:
    """Benchmark one server with the history workload."""
    result = HistoryResult(server=name)
    await guard(
        result,
        config.long_timeout_s,
        lambda: measure_history(name, config, workdir, result),
        what=" (history)",
    )
    return result


async def bench_scale(name: str, config: BenchConfig, workdir: Path) -> SizedResult:
    """Benchmark one server with the scale workload (every size)."""
    result = SizedResult(server=name)
    await guard(
        result, config.scale_timeout_s, lambda: measure_scale(name, config, workdir, result), what=" (scale)"
    )
    return result


def selected_servers(only: Sequence[str] | None) -> list[str]:
    """Servers to run, in a fixed order."""
    return list(only) if only else list(DEFAULT_SERVERS)


@dataclass
class RunResults:
    """Per-server results of each workload that was run."""

    activity: list[ServerResult] = field(default_factory=list)
    timers: list[TimerResult] = field(default_factory=list)
    signal: list[CallResult] = field(default_factory=list)
    query: list[CallResult] = field(default_factory=list)
    listing: list[ListResult] = field(default_factory=list)
    fanout: list[SizedResult] = field(default_factory=list)
    history: list[HistoryResult] = field(default_factory=list)
    scale: list[SizedResult] = field(default_factory=list)

    def calls(self) -> tuple[tuple[str, list[CallResult]], ...]:
        """The signal and query results, each with its workload name."""
        return ((SIGNAL, self.signal), (QUERY, self.query))

    def sized(self) -> tuple[tuple[str, list[SizedResult], tuple[Metric, ...]], ...]:
        """The fanout and scale results, each with its workload name and metrics."""
        return ((FANOUT, self.fanout, FANOUT_METRICS), (SCALE, self.scale, SCALE_METRICS))

    def all_ok(self) -> bool:
        """True only if every selected server fully succeeded on every selected workload."""
        every: list[Outcome] = [*self.activity, *self.timers, *self.signal, *self.query, *self.listing]
        every += [*self.fanout, *self.history, *self.scale]
        return all(r.ok for r in every)


async def run_all(config: BenchConfig) -> RunResults:
    """Benchmark each selected workload on each selected server in turn; SIGTERM cancels cleanly."""
    task = asyncio.current_task()
    if task is not None:
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    results = RunResults()
    with work_directory(config.keep_tmp) as root:
        for workload in config.workloads:
            for name in selected_servers(config.only):
                workdir = root / workload / name
                workdir.mkdir(parents=True)
                if workload == ACTIVITY:
                    results.activity.append(await bench_server(name, config, workdir))
                elif workload == TIMERS:
                    results.timers.append(await bench_timers(name, config, workdir))
                elif workload == SIGNAL:
                    results.signal.append(await bench_calls(name, config, workdir, SIGNAL))
                elif workload == LIST:
                    results.listing.append(await bench_list(name, config, workdir))
                elif workload == FANOUT:
                    results.fanout.append(await bench_fanout(name, config, workdir))
                elif workload == HISTORY:
                    results.history.append(await bench_history(name, config, workdir))
                elif workload == SCALE:
                    results.scale.append(await bench_scale(name, config, workdir))
                else:
                    results.query.append(await bench_calls(name, config, workdir, QUERY))
    return results


R = TypeVar("R", ServerResult, TimerResult, CallResult, ListResult, SizedResult, HistoryResult)


def _cadenza_and_temporal(results: Sequence[R]) -> tuple[R, R] | None:
    """The two results to compare, or None unless both servers were run."""
    by_name = {r.server: r for r in results}
    if CADENZA in by_name and TEMPORAL in by_name:
        return by_name[CADENZA], by_name[TEMPORAL]
    return None


def ratios_for(results: Sequence[ServerResult]) -> list[Ratio]:
    """Cadenza-vs-Temporal activity ratios, or none unless both servers were run."""
    pair = _cadenza_and_temporal(results)
    return compute_ratios(*pair) if pair else []


def timer_ratios_for(results: Sequence[TimerResult]) -> list[Ratio]:
    """Cadenza-vs-Temporal timer ratios, or none unless both servers were run."""
    pair = _cadenza_and_temporal(results)
    return compute_timer_ratios(*pair) if pair else []


def call_ratios_for(results: Sequence[CallResult]) -> list[Ratio]:
    """Cadenza-vs-Temporal signal or query ratios, or none unless both servers were run."""
    pair = _cadenza_and_temporal(results)
    return compute_call_ratios(*pair) if pair else []


def list_ratios_for(results: Sequence[ListResult]) -> list[Ratio]:
    """Cadenza-vs-Temporal list ratios, or none unless both servers were run."""
    pair = _cadenza_and_temporal(results)
    return compute_list_ratios(*pair) if pair else []


def sized_ratios_for(results: Sequence[SizedResult], metrics: Sequence[Metric]) -> list[Ratio]:
    """Cadenza-vs-Temporal ratios per size, or none unless both servers were run."""
    pair = _cadenza_and_temporal(results)
    return compute_sized_ratios(*pair, metrics) if pair else []


def history_ratios_for(results: Sequence[HistoryResult]) -> list[Ratio]:
    """Cadenza-vs-Temporal history ratios, or none unless both servers were run."""
    pair = _cadenza_and_temporal(results)
    return compute_history_ratios(*pair) if pair else []


def _ratios_json(ratios: Sequence[Ratio]) -> dict[str, Any]:
    return {r.key: {"value": json_number(r.value), "meaning": r.label} for r in ratios}


def results_document(config: BenchConfig, results: RunResults) -> dict[str, Any]:
    """Everything worth keeping from a run, as a JSON-ready dict.

    "servers" and "ratios" hold the activity workload (empty if it was not
    run); the timers, signal and query workloads, when run, are under
    "timers", "signal" and "query", each with its own "servers" and "ratios".
    """
    config_dict = {k: str(v) if isinstance(v, Path) else v for k, v in dataclasses.asdict(config).items()}
    document: dict[str, Any] = {
        "config": config_dict,
        "environment": {
            "python": platform.python_version(),
            "temporalio": temporalio.__version__,
            "cpus": psutil.cpu_count(),
            "platform": platform.platform(),
        },
        "servers": {r.server: r.to_json() for r in results.activity},
        "ratios": _ratios_json(ratios_for(results.activity)),
    }
    if auth_ratios := auth_ratios_for(results.activity):
        document["auth"] = {"ratios": _ratios_json(auth_ratios)}
    if TIMERS in config.workloads:
        document["timers"] = {
            "servers": {r.server: r.to_json() for r in results.timers},
            "ratios": _ratios_json(timer_ratios_for(results.timers)),
        }
    for workload, calls in results.calls():
        if workload in config.workloads:
            document[workload] = {
                "servers": {r.server: r.to_json() for r in calls},
                "ratios": _ratios_json(call_ratios_for(calls)),
            }
    if LIST in config.workloads:
        document[LIST] = {
            "servers": {r.server: r.to_json() for r in results.listing},
            "ratios": _ratios_json(list_ratios_for(results.listing)),
        }
    if HISTORY in config.workloads:
        document[HISTORY] = {
            "servers": {r.server: r.to_json() for r in results.history},
            "ratios": _ratios_json(history_ratios_for(results.history)),
        }
    for workload, sized, metrics in results.sized():
        if workload in config.workloads:
            document[workload] = {
                "servers": {r.server: r.to_json() for r in sized},
                "ratios": _ratios_json(sized_ratios_for(sized, metrics)),
            }
    return document


def list_heading(config: BenchConfig) -> str:
    """One line saying what the list table measured."""
    return (
        f"list workload: executions as in the first row (half ListA, a fifth timed out);"
        f" {config.list_calls} sequential calls each; filter = {FILTER_TEXT}"
    )


def growth_heading(config: BenchConfig, workload: str) -> str:
    """One line saying what the fanout, history or scale table measured."""
    if workload == FANOUT:
        return (
            f"fanout workload: {config.fanout_workflows} workflows per size, one at a time, each running"
            f" N activities at once; ratios per size"
        )
    if workload == HISTORY:
        return (
            f"history workload: one workflow grown to {config.history_events} events in rounds of"
            f" {config.history_width} parallel activities; first/last = first/last tenth of them"
        )
    return (
        f"scale workload: per size a fresh server storing that many timed-out runs, then"
        f" {config.scale_workflows} workflows (concurrency {config.scale_concurrency})"
        f" + {config.scale_sequential} one at a time"
    )


def timers_heading(config: BenchConfig) -> str:
    """One line saying what the timers table measured."""
    sleeps = ", ".join(f"{d:g}" for d in config.timer_durations)
    return (
        f"timers workload: {config.timer_workflows} workflows, each sleeping {sleeps} s in turn,"
        f" concurrency {config.timer_concurrency}; lateness = fired - (started + duration)"
    )


def calls_heading(config: BenchConfig, workload: str) -> str:
    """One line saying what the signal or query table measured."""
    if workload == SIGNAL:
        return (
            f"signal workload: {config.signals} signals over {config.signal_workflows} workflows,"
            f" concurrency {config.signal_concurrency}; latency = handle.signal() round trip"
        )
    return (
        f"query workload: {config.queries} queries over {config.query_workflows} workflows,"
        f" concurrency {config.query_concurrency}; latency = handle.query() round trip via the worker"
    )


def report(config: BenchConfig, results: RunResults) -> str:
    """The tables printed on stdout, one per workload run."""
    parts = []
    if ACTIVITY in config.workloads:
        lines = [format_table(results.activity, ratios_for(results.activity))]
        lines += [f"{r.server}: error: {r.error}" for r in results.activity if r.error]
        parts.append("\n".join(lines))
        if auth_table := auth_report(results.activity):
            parts.append(auth_table)
    if TIMERS in config.workloads:
        lines = [timers_heading(config), format_timer_table(results.timers, timer_ratios_for(results.timers))]
        lines += [f"{r.server}: timers error: {r.error}" for r in results.timers if r.error]
        parts.append("\n".join(lines))
    for workload, calls in results.calls():
        if workload in config.workloads:
            lines = [
                calls_heading(config, workload),
                format_call_table(workload, calls, call_ratios_for(calls)),
            ]
            lines += [f"{r.server}: {workload} error: {r.error}" for r in calls if r.error]
            parts.append("\n".join(lines))
    if LIST in config.workloads:
        lines = [list_heading(config), format_list_table(results.listing, list_ratios_for(results.listing))]
        lines += [f"{r.server}: list error: {r.error}" for r in results.listing if r.error]
        parts.append("\n".join(lines))
    if FANOUT in config.workloads:
        table = format_sized_table(
            results.fanout,
            sized_ratios_for(results.fanout, FANOUT_METRICS),
            FANOUT_METRICS,
            FANOUT_GROWTH_ROWS,
        )
        parts.append(with_errors(growth_heading(config, FANOUT), table, FANOUT, results.fanout))
    if HISTORY in config.workloads:
        table = format_history_table(results.history, history_ratios_for(results.history))
        parts.append(with_errors(growth_heading(config, HISTORY), table, HISTORY, results.history))
    if SCALE in config.workloads:
        table = format_sized_table(
            results.scale, sized_ratios_for(results.scale, SCALE_METRICS), SCALE_METRICS, SCALE_GROWTH_ROWS
        )
        parts.append(with_errors(growth_heading(config, SCALE), table, SCALE, results.scale))
    return "\n\n".join(parts)


def with_errors(heading: str, table: str, workload: str, results: Sequence[Outcome]) -> str:
    """A workload's heading, table and one line per server that failed."""
    lines = [heading, table] + [f"{r.server}: {workload} error: {r.error}" for r in results if r.error]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; exit status 0 only if every selected server fully succeeded."""
    config = parse_args(argv)
    try:
        results = asyncio.run(run_all(config))
    except asyncio.CancelledError:
        log("terminated; servers stopped")
        return 128 + signal.SIGTERM
    except KeyboardInterrupt:
        log("interrupted; servers stopped")
        return 128 + signal.SIGINT
    print(report(config, results))
    if config.json_path:
        config.json_path.write_text(json.dumps(results_document(config, results), indent=2) + "\n")
        log(f"wrote {config.json_path}")
    return 0 if results.all_ok() else 1


if __name__ == "__main__":
    sys.exit(main())
