"""The scale workload: what one workflow costs when the store already holds many.

For each size, on a fresh server with an empty database: `size` executions are
put in the store the way the list workload populates it (concurrent
StartWorkflowExecution calls on a task queue no worker polls), each with a 2 s
execution timeout, so the server itself closes every one of them (TimedOut);
the driver waits until visibility shows them all closed. Then a worker starts
and the one-activity `EchoWorkflow` is run as in the activity workload: a
concurrent phase for the server CPU per workflow and a one-at-a-time phase
for latency. The server's RSS is read when the store is populated and idle,
and sampled for its peak while measuring.
"""

from __future__ import annotations

from bench_driver import PhaseResult
from bench_report import percentile
from bench_sized import Metric, SizedResult

ALL_TIME_OUT = 1  # `timeout_every` for bench_list.populate: every run gets the execution timeout
MILLION = 1_000_000

SCALE_METRICS: tuple[Metric, ...] = (
    Metric("starts_per_s", "{size} stored: starts / s while populating", "{:.0f}", True),
    Metric("cpu_ms_per_wf", "{size} stored: server CPU ms / workflow", "{:.2f}", True),
    Metric("throughput_wfps", "{size} stored: concurrent throughput (wf/s)", "{:.1f}", True),
    Metric("sequential_p50_ms", "{size} stored: one at a time p50 (ms)", "{:.1f}", False),
    Metric("idle_rss_mb", "{size} stored: server RSS, populated and idle (MB)", "{:.1f}", True),
    Metric("peak_rss_mb", "{size} stored: server peak RSS while measuring (MB)", "{:.1f}", True),
)
SCALE_GROWTH_ROWS = (
    ("server CPU / workflow, most stored / fewest", "cpu_ms_per_wf"),
    ("one at a time p50, most stored / fewest", "sequential_p50_ms"),
)


def apply_scale(
    result: SizedResult, size: int, concurrent: PhaseResult, sequential: PhaseResult, server_cpu_s: float
) -> None:
    """Record one size's figures from its two measured phases and the server CPU they used."""
    completed = len(concurrent.latencies_s) + len(sequential.latencies_s)
    result.workflows_ok += completed
    result.workflows_failed += concurrent.failures + sequential.failures
    if completed:
        result.put(size, "cpu_ms_per_wf", server_cpu_s * 1000 / completed)
    if concurrent.latencies_s and concurrent.wall_s > 0:
        result.put(size, "throughput_wfps", len(concurrent.latencies_s) / concurrent.wall_s)
    if sequential.latencies_s:
        result.put(size, "sequential_p50_ms", percentile(sequential.latencies_s, 50) * 1000)
    result.error = result.error or concurrent.first_error or sequential.first_error
