"""The metrics a real server records for a workload the official SDK runs, read back exactly.

Each test runs a server of its own in this process, so every count starts at
zero; the page is parsed with ``prometheus_client``'s parser, as Prometheus
would read it.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from temporalio.api.workflowservice.v1 import ListDeploymentsRequest
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleIntervalSpec,
    ScheduleSpec,
    ScheduleState,
    WorkflowFailureError,
)
from temporalio.service import RPCError
from temporalio.worker import Worker

from cadenza.metrics.guard import temporal_value
from tests import servers
from tests.helpers import eventually
from tests.integration import metrics_workflows as mw
from tests.scrape import Scrape

COMPLETED = 3


def scrape(server: servers.InProcessServer) -> Scrape:
    body, content_type = server.server.metrics.render()
    assert content_type.startswith("text/plain")
    return Scrape(body)


async def scrape_http(server: servers.InProcessServer) -> Scrape:
    """The page as a scraper gets it: GET /metrics on the server's HTTP port."""
    assert server.server.addresses is not None
    async with httpx.AsyncClient(base_url=f"http://{server.server.addresses.http}") as http:
        answer = await http.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    return Scrape(answer.content)


def worker(client: Client, task_queue: str) -> Worker:
    return Worker(client, task_queue=task_queue, workflows=mw.WORKFLOWS, activities=mw.ACTIVITIES)


async def run_workload(client: Client, task_queue: str) -> None:
    """Three workflows complete, one fails, one is terminated, one cancelled; activities succeed,
    fail and time out."""
    async with worker(client, task_queue):
        for i in range(COMPLETED):
            await client.execute_workflow(mw.Greets.run, f"n{i}", id=f"greets-{i}", task_queue=task_queue)
        with pytest.raises(WorkflowFailureError):
            await client.execute_workflow(mw.Fails.run, id="fails", task_queue=task_queue)
        assert await client.execute_workflow(mw.ActivitiesGoWrong.run, id="wrong", task_queue=task_queue) == [
            "ApplicationError",
            "TimeoutError",
        ]
        terminated = await client.start_workflow(mw.Waits.run, id="terminated", task_queue=task_queue)
        cancelled = await client.start_workflow(mw.Waits.run, id="cancelled", task_queue=task_queue)
        await terminated.terminate("enough")
        await cancelled.cancel()
        with pytest.raises(WorkflowFailureError):
            await cancelled.result()


async def test_workflow_and_activity_outcomes_are_counted_exactly(tmp_path: Path) -> None:
    async with servers.in_process(db=tmp_path / "m.db") as server:
        client = await Client.connect(server.address)
        task_queue = f"tq-{uuid.uuid4().hex[:8]}"
        await run_workload(client, task_queue)
        page = await scrape_http(server)

    labels = {"namespace": "default", "taskqueue": temporal_value(task_queue), "service_name": "history"}
    assert page.types["workflow_success"] == "unknown"  # a bare-named counter, as Temporal writes it
    assert page.value("workflow_success", **labels, workflowType="Greets") == COMPLETED
    assert page.value("workflow_success", **labels, workflowType="ActivitiesGoWrong") == 1
    assert page.value("workflow_success") == COMPLETED + 1
    assert page.value("workflow_failed", **labels, workflowType="Fails") == 1
    assert page.value("workflow_terminate", **labels, workflowType="Waits") == 1
    assert page.value("workflow_cancel", **labels, workflowType="Waits") == 1
    assert page.value("workflow_timeout") == 0
    assert page.value("workflow_continued_as_new") == 0
    for name in ("workflow_success", "workflow_failed"):
        assert page.matching(name)[0].labels["operation"] == "CompletionStats"
        assert page.matching(name)[0].labels["namespace_state"] == "active"

    assert page.value("activity_success", **labels, workflowType="Greets", activityType="greet") == COMPLETED
    assert (
        page.value("activity_fail", **labels, activityType="refuse", operation="RespondActivityTaskFailed")
        == 1
    )
    assert page.value("activity_timeout", **labels, activityType="dawdle", timeout_type="StartToClose") == 1
    assert page.value("activity_timeout") == 1

    closed = COMPLETED + 4  # and the failed, terminated, cancelled runs and the one with bad activities
    assert page.value("history_count_count", operation="CompletionStats") == closed
    assert page.value("history_size_count") == closed
    assert page.value("state_transition_count_count", namespace="default") == closed
    assert page.value("history_count_sum") > closed * 3  # every run has at least its start and close


async def test_rpcs_are_counted_by_operation_namespace_and_error(
    in_process_server: servers.InProcessServer,
) -> None:
    client = await Client.connect(in_process_server.address)
    task_queue = f"tq-{uuid.uuid4().hex[:8]}"
    for i in range(2):
        await client.start_workflow(mw.Waits.run, id=f"w{i}", task_queue=task_queue)
    with pytest.raises(RPCError):
        await client.get_workflow_handle("nobody").describe()
    other = await Client.connect(in_process_server.address, namespace="no-such-namespace")
    with pytest.raises(RPCError):
        await other.get_workflow_handle("nobody").describe()
    # grpc sends an aborted call's status before the handler's wrapper has seen the abort.
    page = await eventually(lambda: recorded(in_process_server, "DescribeWorkflowExecution", 2))

    start = {"operation": "StartWorkflowExecution", "namespace": "default", "service_name": "frontend"}
    assert page.value("service_requests", **start) == 2
    assert page.value("service_latency_count", **start) == 2
    assert page.types["service_latency"] == "histogram"
    assert page.matching("service_pending_requests", **start) == []  # only long polls, as on Temporal
    describe = {"operation": "DescribeWorkflowExecution"}
    assert page.value("service_error_with_type", **describe, namespace="default") == 1
    assert page.label_values("service_error_with_type", "error_type") == {
        "serviceerror_NotFound",
        "serviceerror_NamespaceNotFound",
    }
    assert (
        page.value(
            "service_error_with_type",
            **describe,
            namespace="_unknown_",  # as on Temporal: a name no namespace has is not a label
            error_type="serviceerror_NamespaceNotFound",
        )
        == 1
    )
    # A missing workflow is the client's error, not the server's: Temporal leaves it out.
    assert page.value("service_errors") == 0

    with pytest.raises(RPCError):
        await client.workflow_service.list_deployments(ListDeploymentsRequest(namespace="default"))
    page = await eventually(lambda: recorded(in_process_server, "ListDeployments", 1))
    unserved = {"operation": "ListDeployments", "namespace": "default"}
    assert page.value("service_errors", **unserved) == 1  # an RPC Cadenza does not serve is its own
    assert page.value("service_error_with_type", **unserved, error_type="serviceerror_Unimplemented") == 1
    assert page.value("service_errors") == 1
    assert page.value("persistence_requests", operation="Commit") >= 2
    assert page.value("persistence_latency_count", operation="Commit") == page.value(
        "persistence_requests", operation="Commit"
    )
    assert page.value("persistence_errors") == 0


def recorded(server: servers.InProcessServer, operation: str, failures: int) -> Scrape:
    page = scrape(server)
    assert page.value("service_error_with_type", operation=operation) == failures
    return page


async def test_polls_dispatch_and_backlog(in_process_server: servers.InProcessServer) -> None:
    client = await Client.connect(in_process_server.address)
    idle_queue = f"idle-{uuid.uuid4().hex[:8]}"
    await client.start_workflow(mw.Waits.run, id="no-worker-yet", task_queue=idle_queue)
    backlog = {"namespace": "default", "taskqueue": temporal_value(idle_queue), "task_type": "Workflow"}

    page = await eventually(lambda: _with_backlog(in_process_server, backlog))
    assert page.value("approximate_backlog_age_seconds", **backlog) > 0

    busy_queue = f"busy-{uuid.uuid4().hex[:8]}"
    async with worker(client, busy_queue):
        await client.execute_workflow(mw.Greets.run, "x", id="greets", task_queue=busy_queue)
    page = scrape(in_process_server)
    activity = {"namespace": "default", "taskqueue": temporal_value(busy_queue), "task_type": "Activity"}
    workflow = {**activity, "task_type": "Workflow"}
    assert page.value("poll_success", **workflow) >= 1
    assert page.value("task_dispatch_latency_count", **workflow) == page.value("poll_success", **workflow)
    # The worker's sticky queue counts as its normal queue, as on Temporal.
    polled = page.label_values("poll_success", "taskqueue")
    assert polled | page.label_values("poll_timeouts", "taskqueue") == {temporal_value(busy_queue)}
    assert page.label_values("poll_success", "partition") <= {"0", "__sticky__"}
    # The activity went out eagerly with the workflow task's answer, or through a poll.
    assert page.value("poll_success", **activity) <= 1
    assert page.value("approximate_backlog_count", **workflow) == 0
    assert page.value("approximate_backlog_count", **backlog) == 1


def _with_backlog(server: servers.InProcessServer, labels: dict[str, str]) -> Scrape:
    page = scrape(server)
    assert page.value("approximate_backlog_count", **labels) == 1
    return page


async def test_cadenza_own_figures(tmp_path: Path) -> None:
    async with servers.in_process(db=tmp_path / "own.db") as server:
        client = await Client.connect(server.address)
        task_queue = f"tq-{uuid.uuid4().hex[:8]}"
        async with worker(client, task_queue):
            await asyncio.gather(
                *(
                    client.execute_workflow(mw.Greets.run, f"n{i}", id=f"g{i}", task_queue=task_queue)
                    for i in range(5)
                )
            )
            assert await client.execute_workflow(
                mw.ActivitiesGoWrong.run, id="wrong", task_queue=task_queue
            ) == ["ApplicationError", "TimeoutError"]
        page = scrape(server)

    if server.db.endswith(".db"):  # SQLite: its group commits and its WAL
        commits = page.value("cadenza_group_commit_changes_count")
        assert commits >= 1
        assert page.value("cadenza_group_commit_changes_sum") >= commits
        assert page.value("cadenza_group_commit_seconds_count") == commits
        assert page.value("cadenza_sqlite_wal_bytes") > 0
    else:  # PostgreSQL: its pool, and this server's lease as a replica
        assert page.value("cadenza_postgres_pool_max_connections") > 0
        assert page.value("cadenza_postgres_pool_connections", state="in_use") >= 0
        assert page.value("cadenza_replica_lease_held") == 1
        assert page.value("cadenza_replica_lease_age_seconds") < 60
    assert page.value("cadenza_execution_cache_requests_total", result="hit") > 0
    assert page.value("cadenza_execution_cache_size") >= 6
    assert page.value("cadenza_timer_lateness_seconds_count", timer_kind="activity_start_to_close") == 1


async def test_label_values_past_the_limit_fold_into_other(tmp_path: Path) -> None:
    async with servers.in_process(metrics_label_limit=2) as server:
        client = await Client.connect(server.address)
        queues = [f"q{i}-{uuid.uuid4().hex[:6]}" for i in range(4)]
        for queue in queues:
            async with worker(client, queue):
                await client.execute_workflow(mw.Greets.run, queue, id=f"on-{queue}", task_queue=queue)
        page = scrape(server)

    # The first two queues seen keep their names; every later one counts as _other_.
    success = page.label_values("workflow_success", "taskqueue")
    assert len(success) <= 3
    assert "_other_" in success
    assert page.value("workflow_success") == len(queues)
    assert page.value("workflow_success", taskqueue="_other_") >= 2
    assert page.value("cadenza_metric_label_values", label="taskqueue") == 2
    assert page.value("cadenza_metric_label_values_folded_total", label="taskqueue") > 0


async def test_servers_in_one_process_keep_their_own_counts() -> None:
    async with servers.in_process() as first, servers.in_process() as second:
        client = await Client.connect(first.address)
        await client.start_workflow(mw.Waits.run, id="only-on-first", task_queue="tq")
        on_first, on_second = scrape(first), scrape(second)
    start = {"operation": "StartWorkflowExecution"}
    assert on_first.value("service_requests", **start) == 1
    assert on_second.value("service_requests", **start) == 0


async def test_recording_off_renders_nothing_and_the_server_still_serves() -> None:
    async with servers.in_process(metrics=False) as server:
        client = await Client.connect(server.address)
        await client.start_workflow(mw.Waits.run, id="unrecorded", task_queue="tq")
        page = scrape(server)
    assert page.samples == []


async def test_a_schedule_action_counts_once(in_process_server: servers.InProcessServer) -> None:
    client = await Client.connect(in_process_server.address)
    task_queue = f"tq-{uuid.uuid4().hex[:8]}"
    handle = await client.create_schedule(
        f"sched-{uuid.uuid4().hex[:8]}",
        Schedule(
            action=ScheduleActionStartWorkflow(
                "Greets", "scheduled", id="by-schedule", task_queue=task_queue
            ),
            spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(hours=1))]),
            state=ScheduleState(paused=True),
        ),
    )
    await handle.trigger()
    async with worker(client, task_queue):

        def scheduled_run_completed() -> Scrape:
            page = scrape(in_process_server)
            assert page.value("workflow_success", workflowType="Greets") == 1
            return page

        page = await eventually(scheduled_run_completed)
    assert page.value("schedule_action_success", namespace="default") == 1
    # The run the schedule started is an ordinary start too, not a second action.
    assert page.value("service_requests", operation="StartWorkflowExecution") == 0
