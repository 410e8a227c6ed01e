"""The histories of Nexus operations on Cadenza and on the real Temporal dev server, event for
event: the caller's and the handler workflow's, with the links between them."""

from __future__ import annotations

import uuid

import pytest
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowFailureError

from tests.acceptance.test_nexus_operations import caller_and_handler, release

pytestmark = pytest.mark.differential


def shape(event: HistoryEvent) -> tuple[object, ...]:
    """What must match: the event's type, which attributes it has, and where its links point."""
    attributes = next(
        (value for field, value in event.ListFields() if field.name.endswith("_attributes")), None
    )
    present = sorted(field.name for field, _ in attributes.ListFields()) if attributes is not None else []
    links = [
        (link.workflow_event.event_ref.event_id, link.workflow_event.event_ref.event_type)
        for link in event.links
    ]
    return (event.event_type, tuple(present), tuple(links))


async def histories(client: Client, operation: str) -> tuple[list[tuple[object, ...]], ...]:
    async with caller_and_handler(client) as (endpoint, callers, handler_client):
        name = f"diff-{uuid.uuid4().hex[:8]}"
        workflow, args = (
            ("CancelGreeting", [endpoint, name])
            if operation == "cancel"
            else ("CallGreeting", [endpoint, operation, name])
        )
        handle = await client.start_workflow(workflow, args=args, id=name + "-caller", task_queue=callers)
        if operation == "hello_later":
            await release(handler_client, name)
        try:
            await handle.result()
        except WorkflowFailureError:
            assert operation == "stall"  # it times out
        caller = [shape(e) for e in (await handle.fetch_history()).events]
        if operation not in ("hello_later", "cancel"):
            return (caller,)
        handler = [shape(e) for e in (await handler_client.get_workflow_handle(name).fetch_history()).events]
        return caller, handler


@pytest.mark.parametrize("operation", ["hello", "hello_later", "cancel", "stall"])
async def test_nexus_histories_match_the_real_server(
    client: Client, temporal_client: Client, operation: str
) -> None:
    assert await histories(client, operation) == await histories(temporal_client, operation)
