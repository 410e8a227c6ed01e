"""The list workload: listing the newest runs of a large store with a filter.

1. Populates the server with `executions` workflows through many concurrent
   StartWorkflowExecution calls (no worker: they stay Running). Types
   alternate between `ListA` and `ListB`; every fifth run has a 2 s execution
   timeout, so the server itself times it out and the store holds a mix of
   Running and TimedOut runs.
2. Waits until the server's visibility shows them all (Temporal updates its
   visibility store asynchronously), with every timeout fired.
3. Times, one call at a time after a few unmeasured ones, the RPCs a UI or
   CLI makes: ListWorkflowExecutions of the newest 100 with the filter
   `WorkflowType = 'ListA' AND ExecutionStatus = 'Running'`, the newest 100
   without a filter, and CountWorkflowExecutions with the same filter. Every
   answer is checked.
"""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

from google.protobuf.duration_pb2 import Duration
from temporalio.api.common.v1 import WorkflowType
from temporalio.api.enums.v1 import WorkflowExecutionStatus
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import (
    CountWorkflowExecutionsRequest,
    ListWorkflowExecutionsRequest,
    StartWorkflowExecutionRequest,
)
from temporalio.client import Client

from bench_report import Ratio, compute_ratios, format_table, json_number, percentile

NAMESPACE = "default"
PAGE = 100
TIMEOUT_EVERY = 5
EXECUTION_TIMEOUT = timedelta(seconds=2)
FILTER = "WorkflowType = 'ListA' AND ExecutionStatus = 'Running'"
RUNNING = WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING
VISIBLE_POLL_S = 1.0
START_ATTEMPTS = 5


def workflow_type(index: int) -> str:
    return "ListA" if index % 2 == 0 else "ListB"


def times_out(index: int, every: int = TIMEOUT_EVERY) -> bool:
    """Whether run `index` gets an execution timeout (every `every`-th run; 1: all of them)."""
    return index % every == every - 1


def expected_filtered(executions: int) -> int:
    """How many runs the filter matches once every timeout has fired."""
    return sum(1 for i in range(executions) if workflow_type(i) == "ListA" and not times_out(i))


@dataclass
class ListResult:
    """One server's figures for the list workload; NaN where unavailable."""

    server: str
    ok: bool = False
    error: str | None = None
    startup_s: float = math.nan
    workflows_ok: int = 0  # executions started
    workflows_failed: int = 0
    populate_s: float = math.nan
    starts_per_s: float = math.nan
    visible_wait_s: float = math.nan
    calls: int = 0
    filtered_p50_ms: float = math.nan
    filtered_p99_ms: float = math.nan
    newest_p50_ms: float = math.nan
    newest_p99_ms: float = math.nan
    count_p50_ms: float = math.nan
    count_p99_ms: float = math.nan

    def to_json(self) -> dict[str, Any]:
        return {k: json_number(v) for k, v in asdict(self).items()}


LIST_ROWS: tuple[tuple[str, str, str, str | None], ...] = (
    ("executions started / failed", "", "", None),
    ("startup (s)", "startup_s", "{:.2f}", None),
    ("populate wall time (s)", "populate_s", "{:.1f}", None),
    ("starts / s while populating", "starts_per_s", "{:.0f}", "starts"),
    ("wait until all visible (s)", "visible_wait_s", "{:.1f}", None),
    ("measured calls of each kind", "calls", "{}", None),
    ("filtered newest 100 p50 (ms)", "filtered_p50_ms", "{:.2f}", "filtered_p50"),
    ("filtered newest 100 p99 (ms)", "filtered_p99_ms", "{:.2f}", None),
    ("unfiltered newest 100 p50 (ms)", "newest_p50_ms", "{:.2f}", "newest_p50"),
    ("unfiltered newest 100 p99 (ms)", "newest_p99_ms", "{:.2f}", None),
    ("filtered count p50 (ms)", "count_p50_ms", "{:.2f}", "count_p50"),
    ("filtered count p99 (ms)", "count_p99_ms", "{:.2f}", None),
)
# Start rate as cadenza/temporal, latencies as temporal/cadenza: > 1 means Cadenza is faster.
LIST_RATIO_SPECS: tuple[tuple[str, str, bool], ...] = (
    ("starts", "starts_per_s", True),
    ("filtered_p50", "filtered_p50_ms", False),
    ("newest_p50", "newest_p50_ms", False),
    ("count_p50", "count_p50_ms", False),
)


def compute_list_ratios(cadenza: ListResult, temporal: ListResult) -> list[Ratio]:
    return compute_ratios(cadenza, temporal, LIST_RATIO_SPECS)


def format_list_table(results: Sequence[ListResult], ratios: Sequence[Ratio]) -> str:
    return format_table(results, ratios, LIST_ROWS)


async def populate(
    client: Client, prefix: str, executions: int, concurrency: int, timeout_every: int = TIMEOUT_EVERY
) -> int:
    """Start `executions` workflows, at most `concurrency` in flight; returns how many failed.

    Every `timeout_every`-th run gets a short execution timeout, so the server closes it.
    """
    queue = f"{prefix}-q"
    next_index = 0
    failed = 0

    async def starter() -> None:
        nonlocal next_index, failed
        while next_index < executions:
            index = next_index
            next_index += 1
            request = StartWorkflowExecutionRequest(
                namespace=NAMESPACE,
                workflow_id=f"{prefix}-{index}",
                request_id=str(uuid.uuid4()),
                workflow_type=WorkflowType(name=workflow_type(index)),
                task_queue=TaskQueue(name=queue),
            )
            if times_out(index, timeout_every):
                request.workflow_execution_timeout.CopyFrom(
                    Duration(seconds=int(EXECUTION_TIMEOUT.total_seconds()))
                )
            if not await start_with_retries(client, request):
                failed += 1

    await asyncio.gather(*(starter() for _ in range(concurrency)))
    return failed


async def start_with_retries(client: Client, request: StartWorkflowExecutionRequest) -> bool:
    """Start one workflow; a busy server may time a call out, so retry (the request ID
    makes a repeated start of the same workflow harmless)."""
    for attempt in range(START_ATTEMPTS):
        try:
            await client.workflow_service.start_workflow_execution(request)
            return True
        except Exception:
            await asyncio.sleep(0.5 * (attempt + 1))
    return False


async def count(client: Client, query: str) -> int:
    response = await client.workflow_service.count_workflow_executions(
        CountWorkflowExecutionsRequest(namespace=NAMESPACE, query=query)
    )
    return int(response.count)


async def wait_visible(
    client: Client, executions: int, timeout_s: float, timeout_every: int = TIMEOUT_EVERY
) -> None:
    """Until visibility shows every run and every timeout has fired."""
    deadline = time.monotonic() + timeout_s
    running = executions - sum(1 for i in range(executions) if times_out(i, timeout_every))
    while True:
        total = await count(client, "")
        open_now = await count(client, "ExecutionStatus = 'Running'")
        if total == executions and open_now == running:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"visibility shows {total} runs, {open_now} open; expected {executions}, {running} open"
            )
        await asyncio.sleep(VISIBLE_POLL_S)


async def check_filtered(client: Client) -> None:
    page = await list_page(client, FILTER)
    if len(page.executions) != PAGE:
        raise AssertionError(f"filtered listing gave {len(page.executions)} runs, not {PAGE}")
    for info in page.executions:
        if info.type.name != "ListA" or info.status != RUNNING:
            raise AssertionError(f"filtered listing gave {info.type.name} {info.status}")
    starts = [info.start_time.ToNanoseconds() for info in page.executions]
    if starts != sorted(starts, reverse=True):
        raise AssertionError("filtered listing is not newest first")


async def list_page(client: Client, query: str) -> Any:
    return await client.workflow_service.list_workflow_executions(
        ListWorkflowExecutionsRequest(namespace=NAMESPACE, page_size=PAGE, query=query)
    )


async def timed(call: Callable[[], Awaitable[Any]], calls: int, warmup: int) -> list[float]:
    """Latencies in seconds of `calls` sequential calls after `warmup` unmeasured ones."""
    for _ in range(warmup):
        await call()
    latencies = []
    for _ in range(calls):
        started = time.perf_counter()
        await call()
        latencies.append(time.perf_counter() - started)
    return latencies


async def measure_calls(client: Client, result: ListResult, executions: int, calls: int, warmup: int) -> None:
    await check_filtered(client)
    matched = await count(client, FILTER)
    if matched != expected_filtered(executions):
        raise AssertionError(f"filter counts {matched}, expected {expected_filtered(executions)}")
    filtered = await timed(lambda: list_page(client, FILTER), calls, warmup)
    newest = await timed(lambda: list_page(client, ""), calls, warmup)
    counted = await timed(lambda: count(client, FILTER), calls, warmup)
    result.calls = calls
    result.filtered_p50_ms = percentile(filtered, 50) * 1000
    result.filtered_p99_ms = percentile(filtered, 99) * 1000
    result.newest_p50_ms = percentile(newest, 50) * 1000
    result.newest_p99_ms = percentile(newest, 99) * 1000
    result.count_p50_ms = percentile(counted, 50) * 1000
    result.count_p99_ms = percentile(counted, 99) * 1000
