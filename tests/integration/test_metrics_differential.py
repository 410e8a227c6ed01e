"""The same workload on Cadenza and on the real Temporal dev server: the metrics both have
carry the same names, label keys and outcome counts."""

from __future__ import annotations

import asyncio
import urllib.request
import uuid
from pathlib import Path

import pytest
from temporalio.client import Client

from tests import servers
from tests.helpers import eventually, free_port
from tests.integration.test_metrics import COMPLETED, run_workload, scrape
from tests.scrape import Sample, Scrape

pytestmark = [
    pytest.mark.differential,
    pytest.mark.skipif(servers.temporal_binary() is None, reason="temporal CLI not installed"),
]

OUTCOMES = (
    "workflow_success", "workflow_failed", "workflow_terminate", "workflow_cancel",
    "activity_success", "activity_fail", "activity_timeout",
)  # fmt: skip
"""Counted per workflow type (and activity type): the same workload gives the same counts."""
COMPARED = (
    *OUTCOMES, "service_requests", "service_error_with_type", "service_latency", "service_pending_requests",
    "persistence_requests", "persistence_latency", "history_size", "history_count", "state_transition_count",
    "poll_success", "poll_success_sync", "poll_timeouts", "task_dispatch_latency",
    "approximate_backlog_count", "approximate_backlog_age_seconds",
)  # fmt: skip
"""Families both servers expose after the workload, whose label keys must agree."""


def temporal_dev(workdir: Path, metrics_port: int) -> servers.ServerProcess:
    binary = servers.temporal_binary()
    assert binary is not None
    port = free_port()
    argv = [
        binary, "server", "start-dev", "--ip", "127.0.0.1", "--port", str(port), "--http-port",
        str(free_port()), "--metrics-port", str(metrics_port), "--headless", "--db-filename",
        str(workdir / "temporal.db"), "--log-level", "error",
    ]  # fmt: skip
    return servers.ServerProcess(argv, port, workdir / "temporal.log")


async def temporal_page(workdir: Path, task_queue: str) -> Scrape:
    metrics_port = free_port()
    server = temporal_dev(workdir, metrics_port)
    server.start()
    try:
        await server.wait_ready()
        await run_workload(await Client.connect(server.address), task_queue)
        url = f"http://127.0.0.1:{metrics_port}/metrics"

        async def reported() -> Scrape:
            # Temporal's reporter publishes what it counted at intervals, not at once.
            body = await asyncio.to_thread(lambda: urllib.request.urlopen(url, timeout=10).read())
            page = Scrape(body, bare_counters=True)
            assert page.value("workflow_success") >= COMPLETED + 1 and page.value("workflow_cancel") == 1
            return page

        return await eventually(reported)
    finally:
        server.stop()


def family_samples(page: Scrape, family: str) -> list[Sample]:
    names = {family, f"{family}_bucket", f"{family}_count", f"{family}_sum"}
    return [s for s in page.samples if s.name in names]


def label_keys(page: Scrape, family: str) -> set[str]:
    return {key for s in family_samples(page, family) for key in s.labels} - {"le"}


def outcomes(page: Scrape, family: str, task_queue: str) -> dict[tuple[str, str], float]:
    counts: dict[tuple[str, str], float] = {}
    for s in page.matching(family, namespace="default", taskqueue=task_queue):
        key = (s.labels["workflowType"], s.labels.get("activityType", ""))
        counts[key] = counts.get(key, 0) + s.value
    return counts


async def test_cadenza_writes_the_metrics_temporal_writes(tmp_path: Path) -> None:
    task_queue = f"tq-{uuid.uuid4().hex[:8]}"
    temporal = await temporal_page(tmp_path, task_queue)
    async with servers.in_process(db=tmp_path / "cadenza.db") as server:
        await run_workload(await Client.connect(server.address), task_queue)
        cadenza = scrape(server)

    label = task_queue.replace("-", "_")  # both write a label value so
    for family in OUTCOMES:
        assert outcomes(cadenza, family, label) == outcomes(temporal, family, label), family
    for family in COMPARED:
        assert family in temporal.types, family
        assert label_keys(cadenza, family) == label_keys(temporal, family), family
        assert {s.name for s in family_samples(cadenza, family)} == {
            s.name for s in family_samples(temporal, family)
        }, family
