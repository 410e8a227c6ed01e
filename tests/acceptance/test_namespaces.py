"""Namespace lifecycle: retention enforced, deprecation, deletion."""

from __future__ import annotations

import pytest
from google.protobuf.duration_pb2 import Duration
from temporalio.api.enums.v1 import NamespaceState
from temporalio.api.operatorservice.v1 import DeleteNamespaceRequest
from temporalio.api.workflowservice.v1 import (
    DeprecateNamespaceRequest,
    DescribeNamespaceRequest,
    GetClusterInfoRequest,
    RegisterNamespaceRequest,
)
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from tests import postgres, servers
from tests.acceptance import workflows as w
from tests.helpers import eventually


async def test_retention_deletes_closed_executions() -> None:
    async with servers.in_process(retention_sweep_seconds=0.3) as server:
        admin = await Client.connect(server.address)
        await admin.workflow_service.register_namespace(
            RegisterNamespaceRequest(
                namespace="short", workflow_execution_retention_period=Duration(seconds=1)
            )
        )
        client = await Client.connect(server.address, namespace="short")
        closed = await client.start_workflow(w.WaitsForever.run, id="old", task_queue="q")
        await closed.terminate(reason="done")
        running = await client.start_workflow(w.WaitsForever.run, id="alive", task_queue="q")

        async def deleted() -> None:
            try:
                await closed.describe()
            except RPCError as err:
                assert err.status == RPCStatusCode.NOT_FOUND
            else:
                raise AssertionError("the closed execution outlived its retention")

        await eventually(deleted, timeout=10, interval=0.2)  # outlives its retention no longer
        assert (await running.describe()).id == "alive"  # running ones are kept


async def test_deprecate_and_delete_namespace(in_process_client: Client) -> None:
    service = in_process_client.workflow_service
    await service.register_namespace(
        RegisterNamespaceRequest(
            namespace="doomed", workflow_execution_retention_period=Duration(seconds=3600)
        )
    )
    await service.deprecate_namespace(DeprecateNamespaceRequest(namespace="doomed"))
    described = await service.describe_namespace(DescribeNamespaceRequest(namespace="doomed"))
    assert described.namespace_info.state == NamespaceState.NAMESPACE_STATE_DEPRECATED
    deleted = await in_process_client.operator_service.delete_namespace(
        DeleteNamespaceRequest(namespace="doomed")
    )
    assert deleted.deleted_namespace == "doomed"
    with pytest.raises(RPCError) as raised:
        await service.describe_namespace(DescribeNamespaceRequest(namespace="doomed"))
    assert raised.value.status == RPCStatusCode.NOT_FOUND


async def test_cluster_info_names_the_store_in_use(in_process_client: Client) -> None:
    info = await in_process_client.workflow_service.get_cluster_info(GetClusterInfoRequest())
    expected = "postgres12" if postgres.suite_server() else "sqlite"
    assert (info.persistence_store, info.visibility_store) == (expected, expected)
