"""Nexus operations between namespaces: a caller workflow in one, its handler worker in another,
answered at once or by a workflow the handler starts; timed out, canceled, and carried through
a server killed while an operation runs, with the result delivered once."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from google.protobuf.duration_pb2 import Duration
from temporalio.api.enums.v1 import EventType
from temporalio.api.nexus.v1 import EndpointSpec, EndpointTarget
from temporalio.api.operatorservice.v1 import CreateNexusEndpointRequest
from temporalio.api.workflowservice.v1 import RegisterNamespaceRequest
from temporalio.client import Client, WorkflowFailureError, WorkflowHistory
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker

from tests import servers
from tests.acceptance import workflows_nexus as wn
from tests.helpers import eventually


async def handler_namespace(client: Client) -> str:
    name = f"handlers-{uuid.uuid4().hex[:8]}"
    retention = Duration(seconds=86400)
    await client.workflow_service.register_namespace(
        RegisterNamespaceRequest(namespace=name, workflow_execution_retention_period=retention)
    )
    return name


async def endpoint_for(client: Client, namespace: str, task_queue: str) -> str:
    name = f"ep-{task_queue}"
    target = EndpointTarget(worker=EndpointTarget.Worker(namespace=namespace, task_queue=task_queue))
    spec = EndpointSpec(name=name, target=target)

    async def created() -> bool:
        try:
            await client.operator_service.create_nexus_endpoint(CreateNexusEndpointRequest(spec=spec))
        except RPCError as error:  # the real server learns of a new namespace a moment later
            if error.status != RPCStatusCode.FAILED_PRECONDITION:
                raise
            return False
        return True

    await eventually(created)
    return name


@asynccontextmanager
async def caller_and_handler(client: Client) -> AsyncIterator[tuple[str, str, Client]]:
    """Workers for the callers (namespace ``default``) and the handler (a namespace of its own);
    yields the endpoint's name, the callers' task queue and a client of the handler namespace."""
    namespace = await handler_namespace(client)
    handler_client = await Client.connect(client.service_client.config.target_host, namespace=namespace)
    queue = f"nexus-{uuid.uuid4().hex[:8]}"
    endpoint = await endpoint_for(client, namespace, queue)
    async with (
        Worker(
            handler_client,
            task_queue=queue,
            workflows=wn.HANDLER_WORKFLOWS,
            nexus_service_handlers=[wn.GreetingHandler()],
        ),
        Worker(client, task_queue=f"callers-{queue}", workflows=wn.CALLERS),
    ):
        yield endpoint, f"callers-{queue}", handler_client


async def release(handler_client: Client, workflow_id: str) -> None:
    """Let the handler's workflow finish, once the operation has started it."""
    handle = handler_client.get_workflow_handle(workflow_id)

    async def signaled() -> bool:
        try:
            await handle.signal(wn.GreetWhenReleased.release)
        except RPCError:
            return False
        return True

    await eventually(signaled)


def of_type(history: WorkflowHistory, event_type: int) -> list[object]:
    return [e for e in history.events if e.event_type == event_type]


async def test_a_synchronous_operation_answers_across_namespaces(client: Client) -> None:
    async with caller_and_handler(client) as (endpoint, callers, _):
        handle = await client.start_workflow(
            wn.CallGreeting.run, args=[endpoint, "hello", "ada"], id=str(uuid.uuid4()), task_queue=callers
        )
        assert await handle.result() == "hello, ada"
        history = await handle.fetch_history()
        assert len(of_type(history, EventType.EVENT_TYPE_NEXUS_OPERATION_SCHEDULED)) == 1
        assert len(of_type(history, EventType.EVENT_TYPE_NEXUS_OPERATION_COMPLETED)) == 1
        assert not of_type(history, EventType.EVENT_TYPE_NEXUS_OPERATION_STARTED)


async def test_a_workflow_backed_operation_links_caller_and_handler(client: Client) -> None:
    async with caller_and_handler(client) as (endpoint, callers, handler_client):
        name = f"grace-{uuid.uuid4().hex[:8]}"
        handle = await client.start_workflow(
            wn.CallGreeting.run,
            args=[endpoint, "hello_later", name],
            id=str(uuid.uuid4()),
            task_queue=callers,
        )
        handler = handler_client.get_workflow_handle(name)
        await release(handler_client, name)
        assert await handle.result() == f"hello later, {name}"

        caller_history = await handle.fetch_history()
        (started,) = of_type(caller_history, EventType.EVENT_TYPE_NEXUS_OPERATION_STARTED)
        (link,) = started.links  # type: ignore[attr-defined]
        assert (link.workflow_event.namespace, link.workflow_event.workflow_id) == (
            handler_client.namespace,
            name,
        )
        assert link.workflow_event.event_ref.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED
        handler_start = (await handler.fetch_history()).events[0]
        (callback,) = handler_start.workflow_execution_started_event_attributes.completion_callbacks
        (back,) = callback.links
        assert back.workflow_event.workflow_id == handle.id
        assert back.workflow_event.event_ref.event_type == EventType.EVENT_TYPE_NEXUS_OPERATION_SCHEDULED
        assert len(of_type(caller_history, EventType.EVENT_TYPE_NEXUS_OPERATION_COMPLETED)) == 1


async def test_a_handler_workflow_that_continues_as_new_completes_the_operation(client: Client) -> None:
    async with caller_and_handler(client) as (endpoint, callers, _):
        name = f"twice-{uuid.uuid4().hex[:8]}"
        handle = await client.start_workflow(
            wn.CallGreeting.run,
            args=[endpoint, "hello_in_two_runs", name],
            id=str(uuid.uuid4()),
            task_queue=callers,
        )
        assert await handle.result() == f"hello again, {name}!"


async def test_a_workflow_signal_with_starts_through_the_system_endpoint(client: Client) -> None:
    async with caller_and_handler(client) as (_, callers, _):
        mailbox = f"mailbox-{uuid.uuid4().hex[:8]}"
        poster = await client.start_workflow(
            wn.PostThroughTheSystem.run, mailbox, id=str(uuid.uuid4()), task_queue=callers
        )
        assert await poster.result() == mailbox
        assert await client.get_workflow_handle(mailbox).result() == ["ada", "hello", "close"]
        history = await poster.fetch_history()
        assert len(of_type(history, EventType.EVENT_TYPE_NEXUS_OPERATION_COMPLETED)) == 2


async def test_an_operation_past_its_schedule_to_close_timeout_times_out(client: Client) -> None:
    async with caller_and_handler(client) as (endpoint, callers, _):
        handle = await client.start_workflow(
            wn.CallGreeting.run, args=[endpoint, "stall", "x"], id=str(uuid.uuid4()), task_queue=callers
        )
        with pytest.raises(WorkflowFailureError) as failure:
            await handle.result()
        assert "timed out" in str(failure.value.cause.__cause__)
        history = await handle.fetch_history()
        assert len(of_type(history, EventType.EVENT_TYPE_NEXUS_OPERATION_TIMED_OUT)) == 1


async def test_a_canceled_workflow_backed_operation_cancels_its_workflow(client: Client) -> None:
    async with caller_and_handler(client) as (endpoint, callers, handler_client):
        name = f"cancel-{uuid.uuid4().hex[:8]}"
        handle = await client.start_workflow(
            wn.CancelGreeting.run, args=[endpoint, name], id=str(uuid.uuid4()), task_queue=callers
        )
        assert await handle.result() == "NexusOperationError: CancelledError"
        history = await handle.fetch_history()
        assert len(of_type(history, EventType.EVENT_TYPE_NEXUS_OPERATION_CANCEL_REQUESTED)) == 1
        assert len(of_type(history, EventType.EVENT_TYPE_NEXUS_OPERATION_CANCEL_REQUEST_COMPLETED)) == 1
        assert len(of_type(history, EventType.EVENT_TYPE_NEXUS_OPERATION_CANCELED)) == 1
        description = await handler_client.get_workflow_handle(name).describe()
        assert description.status is not None and description.status.name == "CANCELED"


@pytest.mark.crash
async def test_a_server_killed_during_an_operation_delivers_its_result_once(tmp_path: Path) -> None:
    async with servers.running(tmp_path / "nexus.db", tmp_path / "server.log") as server:
        client = await Client.connect(server.address)
        async with caller_and_handler(client) as (endpoint, callers, handler_client):
            name = f"crash-{uuid.uuid4().hex[:8]}"
            handle = await client.start_workflow(
                wn.CallGreeting.run,
                args=[endpoint, "hello_later", name],
                id=name + "-caller",
                task_queue=callers,
            )

            async def started() -> bool:
                history = await handle.fetch_history()
                return bool(of_type(history, EventType.EVENT_TYPE_NEXUS_OPERATION_STARTED))

            await eventually(started)
            server.kill()
            server.start()  # the same port and database
            await server.wait_ready()
            await release(handler_client, name)
            assert await handle.result() == f"hello later, {name}"
            history = await handle.fetch_history()
            assert len(of_type(history, EventType.EVENT_TYPE_NEXUS_OPERATION_COMPLETED)) == 1
            assert len(of_type(history, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED)) == 1


@pytest.mark.crash
async def test_a_server_killed_while_a_handler_starts_its_workflow_starts_it_once(tmp_path: Path) -> None:
    async with servers.running(tmp_path / "nexus.db", tmp_path / "server.log") as server:
        client = await Client.connect(server.address)
        async with caller_and_handler(client) as (endpoint, callers, handler_client):
            name = f"midway-{uuid.uuid4().hex[:8]}"
            handle = await client.start_workflow(
                wn.CallGreeting.run,
                args=[endpoint, "hello_later_slowly", name],
                id=name + "-caller",
                task_queue=callers,
            )

            async def scheduled() -> bool:
                history = await handle.fetch_history()
                return bool(of_type(history, EventType.EVENT_TYPE_NEXUS_OPERATION_SCHEDULED))

            await eventually(scheduled)
            server.kill()  # the handler is between taking the request and starting its workflow
            server.start()
            await server.wait_ready()
            await release(handler_client, name)
            assert await handle.result() == f"hello later, {name}"
            history = await handle.fetch_history()
            assert len(of_type(history, EventType.EVENT_TYPE_NEXUS_OPERATION_STARTED)) == 1
            assert len(of_type(history, EventType.EVENT_TYPE_NEXUS_OPERATION_COMPLETED)) == 1
            runs = [w async for w in handler_client.list_workflows(f"WorkflowId = '{name}'")]
            assert len(runs) == 1  # the request sent again started nothing new
