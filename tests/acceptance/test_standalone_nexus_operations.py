"""Standalone Nexus operations: a client in one namespace runs an operation on a handler in
another, answered at once or by a workflow the handler starts; described, listed, counted,
terminated and deleted; and carried through a server killed while the operation runs, with its
result delivered once."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.api.workflowservice.v1 import DeleteNexusOperationExecutionRequest
from temporalio.client import Client, NexusOperationFailureError
from temporalio.common import (
    NexusOperationExecutionStatus,
    NexusOperationIDConflictPolicy,
    NexusOperationIDReusePolicy,
)
from temporalio.exceptions import NexusOperationAlreadyStartedError, TerminatedError
from temporalio.service import RPCError, RPCStatusCode

from tests import servers
from tests.acceptance import workflows_nexus as wn
from tests.acceptance.test_nexus_operations import caller_and_handler, release
from tests.helpers import eventually


async def test_a_synchronous_operation_answers_a_client_across_namespaces(client: Client) -> None:
    async with caller_and_handler(client) as (endpoint, _, _):
        nexus_client = client.create_nexus_client(service=wn.Greeting, endpoint=endpoint)
        operation_id = f"sync-{uuid.uuid4().hex[:8]}"
        result = await nexus_client.execute_operation(
            wn.Greeting.hello, "ada", id=operation_id, schedule_to_close_timeout=timedelta(seconds=20)
        )
        assert result == "hello, ada"
        handle = client.get_nexus_operation_handle(operation_id)
        description = await handle.describe()
        assert description.status == NexusOperationExecutionStatus.COMPLETED
        assert description.endpoint == endpoint

        with pytest.raises(NexusOperationAlreadyStartedError):
            await nexus_client.start_operation(
                wn.Greeting.hello,
                "ada",
                id=operation_id,
                id_conflict_policy=NexusOperationIDConflictPolicy.FAIL,
                id_reuse_policy=NexusOperationIDReusePolicy.REJECT_DUPLICATE,
            )


async def test_a_workflow_backed_operation_completes_when_its_workflow_does(client: Client) -> None:
    async with caller_and_handler(client) as (endpoint, _, handler_client):
        nexus_client = client.create_nexus_client(service=wn.Greeting, endpoint=endpoint)
        name = f"later-{uuid.uuid4().hex[:8]}"
        handle = await nexus_client.start_operation(
            wn.Greeting.hello_later, name, id=name, schedule_to_close_timeout=timedelta(seconds=60)
        )

        async def listed() -> bool:
            found = [op.operation_id async for op in client.list_nexus_operations(f'Endpoint = "{endpoint}"')]
            return found == [name]

        await eventually(listed)
        assert (await client.count_nexus_operations(f'Endpoint = "{endpoint}"')).count == 1
        await release(handler_client, name)
        assert await handle.result() == f"hello later, {name}"
        description = await handle.describe()
        assert description.status == NexusOperationExecutionStatus.COMPLETED
        links = [link.workflow_event.workflow_id for link in description.raw_description.links]
        assert links == [name]  # the handler's workflow, once


async def test_a_terminated_operation_fails_and_a_deleted_one_is_gone(client: Client) -> None:
    async with caller_and_handler(client) as (endpoint, _, handler_client):
        nexus_client = client.create_nexus_client(service=wn.Greeting, endpoint=endpoint)
        name = f"ended-{uuid.uuid4().hex[:8]}"
        handle = await nexus_client.start_operation(
            wn.Greeting.hello_later, name, id=name, schedule_to_close_timeout=timedelta(seconds=60)
        )
        await handle.terminate(reason="no longer wanted")
        with pytest.raises(NexusOperationFailureError) as failed:
            await handle.result()
        assert isinstance(failed.value.__cause__, TerminatedError)
        await client.workflow_service.delete_nexus_operation_execution(
            DeleteNexusOperationExecutionRequest(namespace=client.namespace, operation_id=name)
        )
        with pytest.raises(RPCError) as missing:
            await client.get_nexus_operation_handle(name).describe()
        assert missing.value.status == RPCStatusCode.NOT_FOUND
        await release(handler_client, name)  # the workflow's close finds no operation: nothing breaks


@pytest.mark.crash
async def test_a_server_killed_during_a_standalone_operation_delivers_its_result_once(tmp_path: Path) -> None:
    async with servers.running(tmp_path / "nexus.db", tmp_path / "server.log") as server:
        client = await Client.connect(server.address)
        async with caller_and_handler(client) as (endpoint, _, handler_client):
            nexus_client = client.create_nexus_client(service=wn.Greeting, endpoint=endpoint)
            name = f"crash-{uuid.uuid4().hex[:8]}"
            handle = await nexus_client.start_operation(
                wn.Greeting.hello_later, name, id=name, schedule_to_close_timeout=timedelta(seconds=90)
            )

            async def started() -> bool:
                return bool((await handle.describe()).operation_token)

            await eventually(started)
            server.kill()
            server.start()  # the same port and database
            await server.wait_ready()
            await release(handler_client, name)
            assert await client.get_nexus_operation_handle(name).result() == f"hello later, {name}"
            runs = [w async for w in handler_client.list_workflows(f"WorkflowId = '{name}'")]
            assert len(runs) == 1
