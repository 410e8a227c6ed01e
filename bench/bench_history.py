"""The history workload: one workflow that grows to many events.

A `HistoryWorkflow` runs rounds of a few parallel echo activities (no
continue-as-new) until its history holds `target_events` events. Growth with
size is read from the server's own timestamps in the finished history: the
latency of a workflow task (WorkflowTaskScheduled -> WorkflowTaskCompleted)
and of an activity (ActivityTaskScheduled -> ActivityTaskCompleted) among the
first tenth of them and among the last tenth. Then the whole history is
fetched with GetWorkflowExecutionHistory a few times, page by page, and timed.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.workflowservice.v1 import GetWorkflowExecutionHistoryRequest
from temporalio.client import Client

from bench_report import Ratio, compute_ratios, format_table, json_number, percentile

TAIL_SHARE = 0.1  # the "first" and "last" workflow tasks and activities are a tenth each
NAMESPACE = "default"


@dataclass
class HistoryResult:
    """One server's figures for the history workload; NaN where unavailable."""

    server: str
    ok: bool = False
    error: str | None = None
    startup_s: float = math.nan
    workflows_ok: int = 0
    workflows_failed: int = 0
    events: int = 0
    wall_s: float = math.nan
    events_per_s: float = math.nan
    cpu_ms_per_event: float = math.nan
    worker_cpu_ms_per_event: float = math.nan
    task_first_p50_ms: float = math.nan
    task_last_p50_ms: float = math.nan
    task_growth: float = math.nan  # last / first
    activity_first_p50_ms: float = math.nan
    activity_last_p50_ms: float = math.nan
    activity_growth: float = math.nan
    fetch_pages: int = 0
    fetch_p50_ms: float = math.nan
    fetch_cpu_ms: float = math.nan  # server CPU per full fetch
    peak_rss_mb: float = math.nan

    def to_json(self) -> dict[str, Any]:
        """Dict for JSON output, with NaN mapped to null (NaN is not valid JSON)."""
        return {k: json_number(v) for k, v in asdict(self).items()}

    def apply_history(self, events: Sequence[HistoryEvent]) -> None:
        """Fill the event count and the first/last latencies from the finished history."""
        self.events = len(events)
        tasks = spans(
            events, EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
        )
        acts = spans(
            events, EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED
        )
        self.task_first_p50_ms, self.task_last_p50_ms, self.task_growth = first_and_last(tasks)
        self.activity_first_p50_ms, self.activity_last_p50_ms, self.activity_growth = first_and_last(acts)


def _nanoseconds(event: HistoryEvent) -> int:
    return int(event.event_time.ToNanoseconds())


def _scheduled_id(event: HistoryEvent) -> int:
    if event.HasField("workflow_task_completed_event_attributes"):
        return int(event.workflow_task_completed_event_attributes.scheduled_event_id)
    return int(event.activity_task_completed_event_attributes.scheduled_event_id)


def spans(events: Sequence[HistoryEvent], scheduled: int, completed: int) -> list[float]:
    """Seconds from each `scheduled` event to its `completed` event, in history order."""
    times = {e.event_id: _nanoseconds(e) for e in events if e.event_type == scheduled}
    return [
        (_nanoseconds(e) - times[_scheduled_id(e)]) / 1e9
        for e in events
        if e.event_type == completed and _scheduled_id(e) in times
    ]


def first_and_last(latencies_s: Sequence[float]) -> tuple[float, float, float]:
    """p50 (ms) of the first tenth, of the last tenth, and last / first."""
    if not latencies_s:
        return math.nan, math.nan, math.nan
    tail = max(1, int(len(latencies_s) * TAIL_SHARE))
    first = percentile(latencies_s[:tail], 50) * 1000
    last = percentile(latencies_s[-tail:], 50) * 1000
    return first, last, last / first if first > 0 else math.nan


async def fetch_full_history(client: Client, workflow_id: str) -> tuple[int, int]:
    """Read the whole history page by page at the server's page size; (events, pages)."""
    request = GetWorkflowExecutionHistoryRequest(
        namespace=NAMESPACE, execution=WorkflowExecution(workflow_id=workflow_id)
    )
    events = pages = 0
    while True:
        response = await client.workflow_service.get_workflow_execution_history(request)
        events += len(response.history.events)
        pages += 1
        if not response.next_page_token:
            return events, pages
        request.next_page_token = response.next_page_token


async def time_fetches(client: Client, workflow_id: str, count: int, events: int) -> tuple[list[float], int]:
    """Latencies (s) of `count` full fetches, each checked to return all `events`; and pages per fetch."""
    latencies = []
    pages = 0
    for _ in range(count):
        began = time.perf_counter()
        got, pages = await fetch_full_history(client, workflow_id)
        latencies.append(time.perf_counter() - began)
        if got != events:
            raise AssertionError(f"GetWorkflowExecutionHistory gave {got} events, expected {events}")
    return latencies, pages


HISTORY_ROWS: tuple[tuple[str, str, str, str | None], ...] = (
    ("workflows ok / failed", "", "", None),
    ("events in the history", "events", "{}", None),
    ("startup (s)", "startup_s", "{:.2f}", None),
    ("wall time (s)", "wall_s", "{:.1f}", None),
    ("events / s", "events_per_s", "{:.0f}", "events_per_s"),
    ("server CPU ms / event", "cpu_ms_per_event", "{:.3f}", "cpu_per_event"),
    ("worker CPU ms / event", "worker_cpu_ms_per_event", "{:.3f}", None),
    ("workflow task p50, first tenth (ms)", "task_first_p50_ms", "{:.1f}", "task_first_p50"),
    ("workflow task p50, last tenth (ms)", "task_last_p50_ms", "{:.1f}", "task_last_p50"),
    ("workflow task p50, last / first", "task_growth", "{:.2f}", None),
    ("activity p50, first tenth (ms)", "activity_first_p50_ms", "{:.1f}", "activity_first_p50"),
    ("activity p50, last tenth (ms)", "activity_last_p50_ms", "{:.1f}", "activity_last_p50"),
    ("activity p50, last / first", "activity_growth", "{:.2f}", None),
    ("full history fetch: pages", "fetch_pages", "{}", None),
    ("full history fetch p50 (ms)", "fetch_p50_ms", "{:.1f}", "fetch_p50"),
    ("server CPU ms / full fetch", "fetch_cpu_ms", "{:.1f}", "fetch_cpu"),
    ("server peak RSS (MB)", "peak_rss_mb", "{:.1f}", None),
)
# Rates cadenza/temporal, latencies temporal/cadenza (> 1: Cadenza is faster), CPU cadenza/temporal.
HISTORY_RATIO_SPECS: tuple[tuple[str, str, bool], ...] = (
    ("events_per_s", "events_per_s", True),
    ("cpu_per_event", "cpu_ms_per_event", True),
    ("task_first_p50", "task_first_p50_ms", False),
    ("task_last_p50", "task_last_p50_ms", False),
    ("activity_first_p50", "activity_first_p50_ms", False),
    ("activity_last_p50", "activity_last_p50_ms", False),
    ("fetch_p50", "fetch_p50_ms", False),
    ("fetch_cpu", "fetch_cpu_ms", True),
)


def compute_history_ratios(cadenza: HistoryResult, temporal: HistoryResult) -> list[Ratio]:
    """Cadenza-vs-Temporal ratios for the history workload."""
    return compute_ratios(cadenza, temporal, HISTORY_RATIO_SPECS)


def format_history_table(results: Sequence[HistoryResult], ratios: Sequence[Ratio]) -> str:
    """The history workload's table."""
    return format_table(results, ratios, HISTORY_ROWS)
