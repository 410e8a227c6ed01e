"""The fanout workload: workflows that run N activities in parallel.

Each `FanoutWorkflow` schedules `width` echo activities in one workflow task
(`asyncio.gather`) and completes when all have returned, so the server holds
`width` pending activities of one execution at once. Workflows of one width
run one after another; every width is measured on the same server, smallest
first, and the server CPU per activity at the largest width is compared with
that at the smallest (flat cost per event: a growth near 1).
"""

from __future__ import annotations

import time

from bench_defs import FanoutWorkflow
from bench_driver import PhaseResult, Workload
from bench_report import percentile
from bench_sized import Metric, SizedResult

FANOUT_METRICS: tuple[Metric, ...] = (
    Metric("activities_per_s", "N={size}: activities / s", "{:.1f}", True),
    Metric("cpu_ms_per_activity", "N={size}: server CPU ms / activity", "{:.2f}", True),
    Metric("p50_ms", "N={size}: workflow latency p50 (ms)", "{:.0f}", False),
    Metric("worker_cpu_ms_per_activity", "N={size}: worker CPU ms / activity", "{:.2f}"),
)
FANOUT_GROWTH_ROWS = (("server CPU / activity, largest N / smallest", "cpu_ms_per_activity"),)


async def run_fanouts(load: Workload, width: int, count: int) -> PhaseResult:
    """Run `count` FanoutWorkflows of `width` activities one after another, timing each."""
    phase = PhaseResult()
    began = time.perf_counter()
    for index in range(count):
        started = time.perf_counter()
        try:
            handle = await load.client.start_workflow(
                FanoutWorkflow.run,
                width,
                id=f"{load.id_prefix}-{width}-{index}",
                task_queue=load.task_queue,
            )
            completed = await handle.result()
            if completed != width:
                raise ValueError(f"{handle.id} completed {completed} activities, expected {width}")
        except Exception as err:
            phase.record_failure(err)
        else:
            phase.latencies_s.append(time.perf_counter() - started)
    phase.wall_s = time.perf_counter() - began
    return phase


def apply_fanout(
    result: SizedResult, width: int, phase: PhaseResult, server_cpu_s: float, worker_cpu_s: float
) -> None:
    """Record one width's figures from its workflows and the CPU they used."""
    result.workflows_ok += len(phase.latencies_s)
    result.workflows_failed += phase.failures
    activities = width * len(phase.latencies_s)
    if activities and phase.wall_s > 0:
        result.put(width, "activities_per_s", activities / phase.wall_s)
        result.put(width, "cpu_ms_per_activity", server_cpu_s * 1000 / activities)
        result.put(width, "worker_cpu_ms_per_activity", worker_cpu_s * 1000 / activities)
        result.put(width, "p50_ms", percentile(phase.latencies_s, 50) * 1000)
    result.error = result.error or phase.first_error
