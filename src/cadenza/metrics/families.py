"""Every metric Cadenza exports, declared once on a server's own registry.

Names and label keys are Temporal's (``common/metrics/metric_defs.go`` and
``tags.go``), as its dev server exposes them, wherever Temporal has the metric,
so its Grafana dashboards and alerts read Cadenza unchanged; what only Cadenza
has is prefixed ``cadenza_``. Temporal's labels that are the same on every series
of a one-process server (``service_name`` by role, ``namespace_state="active"``,
an unversioned worker) are written with Temporal's values. Histogram buckets
are Temporal's defaults (milliseconds, counts, bytes), in the unit each metric
is exported in (latencies in seconds, as Temporal's Prometheus reporter writes
them).
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LATENCY_BUCKETS = (
    0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5,
    1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0,
)  # fmt: skip
"""Temporal's millisecond buckets, 1 ms to 1,000 s, in seconds."""
COUNT_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000)
"""Temporal's dimensionless buckets."""
BYTES_BUCKETS = tuple(float(1024 << i) for i in range(15))
"""Temporal's byte buckets, 1 KiB to 16 MiB."""
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
"""Changes per group commit."""

RPC = ("service_name", "operation", "namespace")
PERSISTENCE = ("service_name", "operation", "namespace")
COMPLETION = ("service_name", "operation", "namespace", "namespace_state", "taskqueue", "workflowType")
ACTIVITY = (
    "service_name", "operation", "namespace", "taskqueue", "workflowType", "activityType", "versioning_behavior",
)  # fmt: skip
RUN_STATS = ("service_name", "operation", "namespace")
TRANSITIONS = ("service_name", "operation", "namespace", "namespace_state")
TASK_QUEUE = (
    "service_name", "operation", "namespace", "namespace_state", "taskqueue", "task_type", "partition",
    "worker_build_id", "worker_deployment_name", "worker_version",
)  # fmt: skip
"""The labels of Temporal's per-queue matching metrics (polls, backlog)."""
BACKLOG_COUNT = (*TASK_QUEUE, "task_priority")
"""``approximate_backlog_count`` is also by priority; every task has Temporal's default, 3."""
DISPATCH = (
    "service_name", "operation", "namespace", "taskqueue", "task_type", "partition", "forwarded", "source",
    "task_priority", "worker_version",
)  # fmt: skip

TEMPORAL_NAMES = frozenset(
    {
        "service_requests", "service_errors", "service_error_with_type", "service_latency",
        "service_errors_resource_exhausted",
        "service_pending_requests", "persistence_requests", "persistence_errors", "persistence_latency",
        "workflow_success", "workflow_failed", "workflow_timeout", "workflow_terminate", "workflow_cancel",
        "workflow_continued_as_new", "activity_success", "activity_fail", "activity_timeout",
        "history_size", "history_count", "state_transition_count", "schedule_action_success",
        "poll_success", "poll_success_sync", "poll_timeouts", "task_dispatch_latency",
        "approximate_backlog_count", "approximate_backlog_age_seconds",
    }
)  # fmt: skip
"""The families that carry Temporal's names, and are written exactly as Temporal writes them."""


@dataclass(frozen=True)
class Families:
    """The metric families of one registry; the README's metric list says what each counts."""

    service_requests: Counter
    service_errors: Counter
    service_error_with_type: Counter
    service_errors_resource_exhausted: Counter
    service_latency: Histogram
    service_pending_requests: Gauge
    persistence_requests: Counter
    persistence_errors: Counter
    persistence_latency: Histogram
    workflow_outcomes: dict[str, Counter]
    """By the run's closing status name: ``completed`` counts ``workflow_success`` and so on."""
    activity_success: Counter
    activity_fail: Counter
    activity_timeout: Counter
    history_size: Histogram
    history_count: Histogram
    state_transition_count: Histogram
    schedule_action_success: Counter
    poll_success: Counter
    poll_success_sync: Counter
    poll_timeouts: Counter
    task_dispatch_latency: Histogram
    timer_lateness: Histogram
    group_commit_size: Histogram
    group_commit_latency: Histogram

    @classmethod
    def on(cls, registry: CollectorRegistry) -> Families:
        def counter(name: str, doc: str, labels: tuple[str, ...]) -> Counter:
            return Counter(name, doc, labels, registry=registry)

        def histogram(name: str, doc: str, labels: tuple[str, ...], buckets: tuple[float, ...]) -> Histogram:
            return Histogram(name, doc, labels, registry=registry, buckets=buckets)

        return cls(
            service_requests=counter("service_requests", "RPCs received.", RPC),
            service_errors=counter("service_errors", "RPCs that failed by the server's fault.", RPC),
            service_error_with_type=counter(
                "service_error_with_type", "RPCs that failed, by error type.", (*RPC, "error_type")
            ),
            service_errors_resource_exhausted=counter(
                "service_errors_resource_exhausted",
                "RPCs refused by a limit, by its cause and scope.",
                (*RPC, "resource_exhausted_cause", "resource_exhausted_scope"),
            ),
            service_latency=histogram("service_latency", "RPC latency in seconds.", RPC, LATENCY_BUCKETS),
            service_pending_requests=Gauge(
                "service_pending_requests", "RPCs in progress.", RPC, registry=registry
            ),
            persistence_requests=counter("persistence_requests", "Store calls.", PERSISTENCE),
            persistence_errors=counter("persistence_errors", "Store calls that failed.", PERSISTENCE),
            persistence_latency=histogram(
                "persistence_latency", "Store call latency in seconds.", PERSISTENCE, LATENCY_BUCKETS
            ),
            workflow_outcomes={
                status: counter(name, f"Workflow runs closed as {status}.", COMPLETION)
                for status, name in (
                    ("completed", "workflow_success"),
                    ("failed", "workflow_failed"),
                    ("timed_out", "workflow_timeout"),
                    ("terminated", "workflow_terminate"),
                    ("canceled", "workflow_cancel"),
                    ("continued_as_new", "workflow_continued_as_new"),
                )
            },
            activity_success=counter("activity_success", "Activities that completed.", ACTIVITY),
            activity_fail=counter("activity_fail", "Activities failed with no retry left.", ACTIVITY),
            activity_timeout=counter(
                "activity_timeout", "Activities timed out with no retry left.", (*ACTIVITY, "timeout_type")
            ),
            history_size=histogram(
                "history_size", "Bytes of history of each closed run.", RUN_STATS, BYTES_BUCKETS
            ),
            history_count=histogram("history_count", "Events in each closed run.", RUN_STATS, COUNT_BUCKETS),
            state_transition_count=histogram(
                "state_transition_count", "State transitions of each closed run.", TRANSITIONS, COUNT_BUCKETS
            ),
            schedule_action_success=counter(
                "schedule_action_success", "Workflows started by schedules.", ("service_name", "namespace")
            ),
            poll_success=counter("poll_success", "Polls answered with a task.", TASK_QUEUE),
            poll_success_sync=counter(
                "poll_success_sync", "Polls answered with a task that came while they waited.", TASK_QUEUE
            ),
            poll_timeouts=counter("poll_timeouts", "Polls that ended with no task.", TASK_QUEUE),
            task_dispatch_latency=histogram(
                "task_dispatch_latency",
                "Seconds from a task entering a queue to a poll taking it.",
                DISPATCH,
                LATENCY_BUCKETS,
            ),
            timer_lateness=histogram(
                "cadenza_timer_lateness_seconds",
                "How long after its time a durable timer began to fire.",
                ("timer_kind",),
                LATENCY_BUCKETS,
            ),
            group_commit_size=histogram(
                "cadenza_group_commit_changes", "Changes sharing one SQLite commit.", (), BATCH_BUCKETS
            ),
            group_commit_latency=histogram(
                "cadenza_group_commit_seconds",
                "Seconds to write and fsync one SQLite group commit.",
                (),
                LATENCY_BUCKETS,
            ),
        )
