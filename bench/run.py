"""Benchmark Cadenza against the real Temporal dev server with one SDK workload.

Usage:
    python bench/run.py [--workflows N] [--concurrency C] [--sequential M]
                        [--only cadenza|temporal] [--json PATH]

Servers are benchmarked one at a time (never both running at once) so they
do not compete for CPU, each on fresh loopback ports with a durable SQLite
file in a temporary directory. See bench/README.md for what is measured.
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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import temporalio

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_driver import PhaseResult, Workload, run_concurrent, run_sequential, worker_process
from bench_procstats import PeakRssSampler, cpu_seconds, own_cpu_seconds
from bench_report import (
    CADENZA,
    MB,
    TEMPORAL,
    Ratio,
    ServerResult,
    compute_ratios,
    format_table,
    json_number,
    percentile,
)
from bench_servers import (
    LOOPBACK,
    ServerError,
    ServerPorts,
    ServerProcess,
    allocate_ports,
    cadenza_command,
    resolve_executable,
    temporal_command,
    wait_until_ready,
)

CommandBuilder = Callable[[Path, ServerPorts, Path], list[str]]

# Server name -> (console script name, command-line builder), in run order.
SERVERS: dict[str, tuple[str, CommandBuilder]] = {
    CADENZA: ("cadenza", cadenza_command),
    TEMPORAL: ("temporal", temporal_command),
}


@dataclass(frozen=True)
class BenchConfig:
    """Validated command-line options."""

    workflows: int
    concurrency: int
    sequential: int
    warmup: int
    only: str | None
    json_path: Path | None
    server_timeout_s: float
    keep_tmp: bool


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


def parse_args(argv: list[str] | None = None) -> BenchConfig:
    """Parse and validate the command line."""
    parser = argparse.ArgumentParser(description="Cadenza vs Temporal dev server benchmark.")
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
    parser.add_argument("--only", choices=list(SERVERS), help="benchmark just one server")
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

    Client-side (driver + worker) CPU is recorded alongside the server's so
    a reader can tell when the harness, not the server, is the bottleneck.
    """

    server: psutil.Process
    driver: psutil.Process
    worker: psutil.Process

    def read(self) -> CpuReading:
        """CPU seconds consumed so far by each party."""
        return CpuReading(
            server_s=cpu_seconds(self.server),
            driver_s=own_cpu_seconds(self.driver),
            worker_s=cpu_seconds(self.worker),
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


async def measure_server(name: str, config: BenchConfig, workdir: Path, result: ServerResult) -> None:
    """Start one server, run the workload against it, and always stop it."""
    script, build_command = SERVERS[name]
    exe = resolve_executable(script)
    if exe is None:
        raise ServerError(f"`{script}` executable not found next to {sys.executable} or on PATH")
    ports = allocate_ports()
    target = f"{LOOPBACK}:{ports.grpc}"
    log(f"{name}: starting {exe} on {target}")
    started = time.perf_counter()
    with ServerProcess(name, build_command(exe, ports, workdir), workdir / "server.log") as server:
        client = await wait_until_ready(server, target)
        result.startup_s = time.perf_counter() - started
        run_id = uuid.uuid4().hex[:8]
        load = Workload(client=client, task_queue=f"bench-{run_id}", id_prefix=f"bench-{run_id}")
        root = psutil.Process(server.pid)
        with PeakRssSampler(root) as rss:
            async with worker_process(target, load.task_queue, workdir / "worker.log") as worker:
                probe = CpuProbe(server=root, driver=psutil.Process(), worker=psutil.Process(worker.pid))
                await run_phases(load, config, probe, result)
        result.peak_rss_mb = rss.peak_bytes / MB
        log(f"{name}: stopping")


async def bench_server(name: str, config: BenchConfig, workdir: Path) -> ServerResult:
    """Benchmark one server, turning any failure into an error in its result.

    A broken server must not stop the other from being measured.
    """
    result = ServerResult(server=name)
    try:
        async with asyncio.timeout(config.server_timeout_s):
            await measure_server(name, config, workdir, result)
    except TimeoutError:
        result.error = f"timed out after {config.server_timeout_s:.0f}s"
    except Exception as err:
        result.error = f"{type(err).__name__}: {err}"
    result.ok = result.error is None and result.workflows_failed == 0
    if result.error:
        log(f"{name}: FAILED: {result.error}")
    return result


def selected_servers(only: str | None) -> list[str]:
    """Servers to run, in a fixed order."""
    return [only] if only else list(SERVERS)


async def run_all(config: BenchConfig) -> list[ServerResult]:
    """Benchmark each selected server in turn; SIGTERM cancels cleanly."""
    task = asyncio.current_task()
    if task is not None:
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    results: list[ServerResult] = []
    with work_directory(config.keep_tmp) as root:
        for name in selected_servers(config.only):
            workdir = root / name
            workdir.mkdir()
            results.append(await bench_server(name, config, workdir))
    return results


def ratios_for(results: list[ServerResult]) -> list[Ratio]:
    """Cadenza-vs-Temporal ratios, or none unless both servers were run."""
    by_name = {r.server: r for r in results}
    if CADENZA in by_name and TEMPORAL in by_name:
        return compute_ratios(by_name[CADENZA], by_name[TEMPORAL])
    return []


def results_document(config: BenchConfig, results: list[ServerResult]) -> dict[str, Any]:
    """Everything worth keeping from a run, as a JSON-ready dict."""
    ratios = ratios_for(results)
    config_dict = {k: str(v) if isinstance(v, Path) else v for k, v in dataclasses.asdict(config).items()}
    return {
        "config": config_dict,
        "environment": {
            "python": platform.python_version(),
            "temporalio": temporalio.__version__,
            "cpus": psutil.cpu_count(),
            "platform": platform.platform(),
        },
        "servers": {r.server: r.to_json() for r in results},
        "ratios": {r.key: {"value": json_number(r.value), "meaning": r.label} for r in ratios},
    }


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
    print(format_table(results, ratios_for(results)))
    for r in results:
        if r.error:
            print(f"{r.server}: error: {r.error}")
    if config.json_path:
        config.json_path.write_text(json.dumps(results_document(config, results), indent=2) + "\n")
        log(f"wrote {config.json_path}")
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
