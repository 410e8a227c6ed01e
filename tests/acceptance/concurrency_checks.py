"""What the tests of workflow concurrency limits share: a server with one workflow type limited,
a worker for the limited workflows, a run that holds its one slot, and how many runs ran at once
as the server recorded them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, NamedTuple

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from cadenza.concurrency import WORKFLOW_TYPE
from tests import servers
from tests.acceptance import workflows_concurrency as wc
from tests.acceptance.test_concurrency_limits import namespace_id, set_limit

SlotKey = tuple[str, str, str]
"""A limit's key as the server counts its slots: namespace ID, scope, name."""


@asynccontextmanager
async def worker(client: Client, queue: str) -> AsyncIterator[None]:
    """An SDK worker on ``queue`` running the concurrency workflows, in this process."""
    async with Worker(
        client, task_queue=queue, workflows=wc.WORKFLOWS, workflow_runner=UnsandboxedWorkflowRunner()
    ):
        yield


class LimitedServer(NamedTuple):
    """A server of a test's own with one workflow type limited, a client on it, a fresh task
    queue, and the key the limit's slots are counted by."""

    cadenza: servers.InProcessServer
    client: Client
    queue: str
    key: SlotKey


@asynccontextmanager
async def limited_server(
    queue_prefix: str, workflow_type: str, limit: int, policy: str = "queue"
) -> AsyncIterator[LimitedServer]:
    """A fresh in-process server on which at most ``limit`` runs of ``workflow_type`` run at once,
    the rest waiting (``queue``) or refused (``reject``)."""
    async with servers.in_process() as cadenza:
        client = await Client.connect(cadenza.address)
        await set_limit(cadenza, WORKFLOW_TYPE, workflow_type, limit, policy)
        key = (await namespace_id(client), WORKFLOW_TYPE, workflow_type)
        yield LimitedServer(cadenza, client, f"{queue_prefix}-{uuid.uuid4().hex[:6]}", key)


def no_slot_held(cadenza: servers.InProcessServer, key: SlotKey) -> bool:
    """Whether every slot of the limit is free again (runs give theirs back as they close)."""
    return cadenza.server.concurrency.running(key) == 0


async def start_holder(client: Client, queue: str) -> str:
    """Start a ``Waits`` run that holds its slot until it is finished; its workflow ID."""
    holder = await client.start_workflow(wc.Waits.run, id=f"{queue}-holder", task_queue=queue)
    return holder.id


def peak_overlap(spans: Iterable[tuple[datetime, datetime]]) -> int:
    """The most of these (start, end) spans that overlap at one instant; one ending when another
    starts does not overlap it."""
    edges = [edge for start, end in spans for edge in ((start, 1), (end, -1))]
    running = most = 0
    for _, step in sorted(edges):
        running += step
        most = max(most, running)
    return most


async def most_at_once(client: Client, workflow_ids: Iterable[str]) -> int:
    """The most of these closed workflows that ran at once, from their start and close times as
    the server recorded them."""
    spans = []
    for workflow_id in workflow_ids:
        described = await client.get_workflow_handle(workflow_id).describe()
        assert described.close_time is not None
        spans.append((described.start_time, described.close_time))
    return peak_overlap(spans)


async def most_dispatched_at_once(handles: Iterable[WorkflowHandle[Any, Any]]) -> int:
    """The most of these closed runs that ran at once, each from its first workflow task's
    scheduling to its close, as their histories recorded them."""
    spans = []
    for handle in handles:
        events = [event async for event in handle.fetch_history_events()]
        scheduled = next(e for e in events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED)
        spans.append((scheduled.event_time.ToDatetime(), events[-1].event_time.ToDatetime()))
    return peak_overlap(spans)
