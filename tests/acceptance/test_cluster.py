"""Cluster-level RPCs the SDK and CLI call: cluster info and task-queue partitions."""

from __future__ import annotations

import pytest
from temporalio.api.enums.v1 import TaskQueueKind
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import (
    GetClusterInfoRequest,
    GetSystemInfoRequest,
    ListTaskQueuePartitionsRequest,
)
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from tests import postgres
from tests.servers import ServerProcess


async def test_cluster_info_names_the_cluster_and_the_clients_it_serves(client: Client) -> None:
    info = await client.workflow_service.get_cluster_info(GetClusterInfoRequest())
    assert info.cluster_name == "active" and info.history_shard_count == 1
    assert info.supported_clients["temporal-cli"] == "<2.0.0"
    # Temporal's names for its visibility stores: the suite runs on either backend.
    assert info.visibility_store == ("postgres12" if postgres.suite_server() else "sqlite")
    system = await client.workflow_service.get_system_info(GetSystemInfoRequest())
    assert system.capabilities.count_group_by_execution_status


async def test_each_task_queue_is_one_partition_on_this_server(
    client: Client,
    cadenza_server: ServerProcess,
    task_queue: str,
) -> None:
    partitions = await client.workflow_service.list_task_queue_partitions(
        ListTaskQueuePartitionsRequest(
            namespace="default",
            task_queue=TaskQueue(name=task_queue, kind=TaskQueueKind.TASK_QUEUE_KIND_NORMAL),
        )
    )
    for listed in (partitions.workflow_task_queue_partitions, partitions.activity_task_queue_partitions):
        assert [(p.key, p.owner_host_name) for p in listed] == [(task_queue, cadenza_server.address)]
    for namespace, name, code in [
        ("default", "", RPCStatusCode.INVALID_ARGUMENT),
        ("no-such-namespace", task_queue, RPCStatusCode.NOT_FOUND),
    ]:
        with pytest.raises(RPCError) as raised:
            await client.workflow_service.list_task_queue_partitions(
                ListTaskQueuePartitionsRequest(namespace=namespace, task_queue=TaskQueue(name=name))
            )
        assert raised.value.status == code
