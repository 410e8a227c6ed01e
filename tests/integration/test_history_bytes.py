"""Histories sent as stored: the answers assembled from stored event bytes parse to the very
messages that decoding the stored batches and serializing the response gives."""

from __future__ import annotations

from dataclasses import dataclass

from temporalio.api.enums.v1 import HistoryEventFilterType
from temporalio.api.history.v1 import History, HistoryEvent
from temporalio.api.workflowservice.v1 import (
    GetWorkflowExecutionHistoryResponse,
    PollWorkflowTaskQueueResponse,
)
from temporalio.client import Client

from cadenza.history.service import HistoryService
from cadenza.history.service.reads import HistoryReader
from cadenza.history.service.task_responses import workflow_task_response, workflow_task_response_bytes
from cadenza.persistence.records import ExecutionKey
from cadenza.persistence.store import Store
from tests.acceptance import raw_calls
from tests.acceptance import workflows_messages as m
from tests.helpers import Registered, worker_for
from tests.servers import InProcessServer

CLOSE_ONLY = HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT
FAR = 1e12
"""A deadline no read reaches."""


@dataclass
class Behind:
    """What this test reads behind the API: the server's history service, reader and store."""

    history: HistoryService
    reader: HistoryReader
    store: Store

    @classmethod
    def of(cls, server: InProcessServer) -> Behind:
        s = server.server
        return cls(s._history, s._reader, s._store)

    async def key(self, workflow_id: str) -> ExecutionKey:
        namespace = await self.store.get_namespace("default")
        assert namespace is not None
        return await self.history.resolve_run(namespace.id, workflow_id, "")

    async def stored_events(self, key: ExecutionKey) -> list[HistoryEvent]:
        """The history as the store holds it, each batch decoded."""
        batches = await self.store.read_history(key, 1)
        return [e for batch in batches for e in History.FromString(batch.data).events]


def history_response(events: list[HistoryEvent], token: bytes) -> GetWorkflowExecutionHistoryResponse:
    response = GetWorkflowExecutionHistoryResponse(next_page_token=token)
    response.history.events.extend(events)
    return response


async def test_history_pages_are_the_stored_events_page_by_page(
    in_process_server: InProcessServer, in_process_client: Client, workflow_id: str, task_queue: str
) -> None:
    client = in_process_client
    async with worker_for(client, task_queue, Registered([m.Mailbox])):
        handle = await client.start_workflow(
            m.Mailbox.run, id=workflow_id, task_queue=task_queue, memo={"owner": "me", "n": 2}
        )
        for i in range(40):
            await handle.signal(m.Mailbox.deliver, f"message {i}" * (i % 5))
        assert await handle.query(m.Mailbox.count) == 40
        await handle.signal(m.Mailbox.finish)
        await handle.result()
    behind = Behind.of(in_process_server)
    key = await behind.key(workflow_id)
    stored = await behind.stored_events(key)
    assert [e async for e in handle.fetch_history_events()] == stored
    for cold in (False, True):
        if cold:  # loaded again from the store: nothing decoded yet
            behind.history.cache.drop(key)
        pages: list[HistoryEvent] = []
        token = b""
        while True:
            page = await behind.reader.page(
                key, page_size=7, token=token, wait_new_event=False, filter_type=0, deadline=FAR
            )
            sent = page.response_bytes()
            expected = history_response(stored[len(pages) : len(pages) + 7], page.next_page_token)
            assert GetWorkflowExecutionHistoryResponse.FromString(sent) == expected
            assert sent == expected.SerializeToString()
            pages.extend(page.events)
            token = page.next_page_token
            if not token:
                break
        assert pages == stored
        close = await behind.reader.page(
            key, page_size=0, token=b"", wait_new_event=True, filter_type=CLOSE_ONLY, deadline=FAR
        )
        assert GetWorkflowExecutionHistoryResponse.FromString(close.response_bytes()) == history_response(
            [stored[-1]], b""
        )
    behind.history.cache.drop(key)  # a closed run's result needs its last batch alone
    close = await behind.reader.page(
        key, page_size=0, token=b"", wait_new_event=True, filter_type=CLOSE_ONLY, deadline=FAR
    )
    assert close.events == [stored[-1]] and not close.next_page_token
    assert (await behind.history.load(key)).events is None


async def test_a_polled_workflow_task_is_the_stored_events(
    in_process_server: InProcessServer, in_process_client: Client, workflow_id: str, task_queue: str
) -> None:
    client = in_process_client
    await raw_calls.start(client, workflow_id, task_queue)
    for _ in range(5):
        await raw_calls.signal(client, workflow_id)
    first = await raw_calls.poll_workflow_task(client, task_queue)
    await raw_calls.complete_workflow_task(client, first)
    for _ in range(3):  # a sticky worker would get only these, and the task's own
        await raw_calls.signal(client, workflow_id)
    polled = await raw_calls.poll_workflow_task(client, task_queue)
    assert polled.previous_started_event_id > 0
    behind = Behind.of(in_process_server)
    key = await behind.key(workflow_id)
    stored = await behind.stored_events(key)
    assert list(polled.history.events) == stored
    for cold in (False, True):
        if cold:
            behind.history.cache.drop(key)
        entry = await behind.history.load(key)
        for sticky in (False, True):
            sent = await workflow_task_response_bytes(behind.history.cache, entry, sticky=sticky)
            expected = await workflow_task_response(behind.history.cache, entry, sticky=sticky)
            assert PollWorkflowTaskQueueResponse.FromString(sent) == expected
            if not sticky:
                assert expected == polled
            else:
                assert expected.history.events[0].event_id == polled.previous_started_event_id + 1
            assert sent == expected.SerializeToString()
