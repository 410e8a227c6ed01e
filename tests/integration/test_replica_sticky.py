"""Sticky task queues across replicas: two replicas on one database, a worker on each.

The workload (the chaos soak's, without faults) sends signals and updates while
activities finish, so changes made by one replica keep dropping the other's cached
copy of a run, and each run's workflow tasks go to the sticky queue of a worker that
may poll either replica. Every task must reach its worker with a history it can
continue from: no workflow task fails.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.worker import Worker

from tests.faults import workload
from tests.faults.drive import drive_mixed, start_mixed
from tests.integration.replica_servers import replicas

pytestmark = [pytest.mark.replicas, pytest.mark.timeout(120)]
QUEUE = "replica-sticky"
LANES = 8
ROUNDS = 8
"""Workflows each lane runs in turn (each continues as new once)."""


@asynccontextmanager
async def workers(clients: list[Client]) -> AsyncIterator[None]:
    """A worker for the workload on each client, so each replica has its own."""
    async with AsyncExitStack() as stack:
        for client in clients:
            await stack.enter_async_context(
                Worker(
                    client,
                    task_queue=QUEUE,
                    workflows=workload.WORKFLOWS,
                    activities=workload.ACTIVITIES,
                    graceful_shutdown_timeout=timedelta(seconds=1),
                )
            )
        yield


async def lane(client: Client, number: int) -> None:
    """Start and drive ``ROUNDS`` workflows one after the other (each checked by drive_mixed)."""
    for round_number in range(ROUNDS):
        workflow_id = f"sticky-{number}-{round_number}-{uuid.uuid4().hex[:6]}"
        await start_mixed(client, workflow_id, QUEUE)
        await drive_mixed(client, workflow_id)


async def failed_workflow_tasks(client: Client) -> tuple[int, list[tuple[str, int, str]]]:
    """How many runs are stored, and (workflow ID, event ID, message) of every WorkflowTaskFailed
    event among them."""
    runs, failed = 0, []
    async for execution in client.list_workflows():
        runs += 1
        handle = client.get_workflow_handle(execution.id, run_id=execution.run_id)
        async for event in handle.fetch_history_events():
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
                message = event.workflow_task_failed_event_attributes.failure.message
                failed.append((execution.id, event.event_id, message))
    return runs, failed


async def test_no_workflow_task_fails_when_updates_and_activity_results_cross_replicas(
    postgres_database: str, tmp_path: Path
) -> None:
    async with replicas(postgres_database, tmp_path, 2) as servers:
        clients = [await Client.connect(server.address) for server in servers]
        async with workers(clients):
            await asyncio.gather(*(lane(clients[n % 2], n) for n in range(LANES)))
        runs, failed = await failed_workflow_tasks(clients[0])
        assert runs >= LANES * ROUNDS
        assert failed == []


async def test_a_task_for_a_sticky_worker_gone_from_the_other_replica_reaches_another_worker(
    postgres_database: str, tmp_path: Path
) -> None:
    async with replicas(postgres_database, tmp_path, 2) as servers:
        first, second = [await Client.connect(server.address) for server in servers]
        workflow_id = f"gone-{uuid.uuid4().hex[:6]}"
        async with Worker(
            first,
            task_queue=QUEUE,
            workflows=workload.WORKFLOWS,
            activities=workload.ACTIVITIES,
            sticky_queue_schedule_to_start_timeout=timedelta(seconds=1),
        ):
            handle = await first.start_workflow(workload.Gate.run, 1, id=workflow_id, task_queue=QUEUE)
            await wait_for_event(handle.id, first, EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)
        # The second replica never saw that worker poll: it sends the signal's task to the
        # sticky queue, and the sticky timeout moves it to the normal queue.
        async with workers([second]):
            await second.get_workflow_handle(workflow_id).signal(workload.Gate.go)
            assert await second.get_workflow_handle(workflow_id).result() == 2
        events = [e.event_type async for e in handle.fetch_history_events()]
        assert EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED not in events
        assert EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT in events  # it waited on the sticky queue


async def wait_for_event(workflow_id: str, client: Client, event_type: EventType.ValueType) -> None:
    """Follow the run's history until an event of ``event_type`` is in it."""
    async for event in client.get_workflow_handle(workflow_id).fetch_history_events(wait_new_event=True):
        if event.event_type == event_type:
            return
