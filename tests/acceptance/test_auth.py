"""Auth through the official SDK: each role against each family of RPCs, a worker-role key
running a real worker, keys that expired or were revoked, and a server with auth off."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from google.protobuf.duration_pb2 import Duration
from temporalio.api.workflowservice.v1 import (
    DescribeNamespaceRequest,
    ListNamespacesRequest,
    RegisterNamespaceRequest,
    UpdateNamespaceRequest,
)
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker

from cadenza.auth.api_keys import issue_key, new_key
from cadenza.auth.principal import Role
from cadenza.persistence.store import Store
from tests.acceptance.workflows_auth import Greeting, greet
from tests.auth_matrix import ALLOWED, CLUSTER_ADMIN, NAMESPACE_FAMILIES, refused, wrong_cells
from tests.helpers import eventually
from tests.servers import InProcessServer, in_process

NAMESPACE = "default"
OTHER = "elsewhere"


@dataclass
class Authed:
    server: InProcessServer
    keys: dict[str, str]

    @property
    def store(self) -> Store:
        return self.server.server._store

    async def client(self, holder: str, namespace: str = NAMESPACE) -> Client:
        return await Client.connect(
            self.server.address, namespace=namespace, api_key=self.keys[holder], tls=False
        )


async def key_for(store: Store, role: Role | str, namespace: str = NAMESPACE, **options: object) -> str:
    made = (
        new_key("*", Role.ADMIN, time.time(), cluster_admin=True)
        if role == CLUSTER_ADMIN
        else new_key(namespace, Role(role), time.time(), **options)  # type: ignore[arg-type]
    )
    return await issue_key(store, made)


@pytest.fixture(scope="module")
async def authed() -> AsyncIterator[Authed]:
    async with in_process(auth=True) as server:
        store = server.server._store
        keys = {str(role): await key_for(store, role) for role in [*Role, CLUSTER_ADMIN]}
        authed = Authed(server, keys)
        admin = await authed.client(CLUSTER_ADMIN)
        await admin.workflow_service.register_namespace(
            RegisterNamespaceRequest(
                namespace=OTHER, workflow_execution_retention_period=Duration(seconds=86400)
            )
        )
        yield authed


@pytest.mark.parametrize("holder", list(ALLOWED))
async def test_each_role_may_call_exactly_the_families_its_permissions_cover(
    authed: Authed, holder: str
) -> None:
    client = await authed.client(holder)
    assert await wrong_cells(client, ALLOWED[holder], NAMESPACE) == []


@pytest.mark.parametrize("holder", list(ALLOWED))
async def test_a_namespace_role_grants_nothing_on_another_namespace(authed: Authed, holder: str) -> None:
    client = await authed.client(holder, namespace=OTHER)
    for family in NAMESPACE_FAMILIES:
        assert (await refused(client, family, OTHER) is None) == (holder == CLUSTER_ADMIN), (holder, family)


async def test_list_namespaces_shows_only_those_the_caller_may_read(authed: Authed) -> None:
    async def names(holder: str) -> list[str]:
        client = await authed.client(holder)
        listed = await client.workflow_service.list_namespaces(ListNamespacesRequest())
        return sorted(entry.namespace_info.name for entry in listed.namespaces)

    assert await names("reader") == [NAMESPACE]
    assert await names(CLUSTER_ADMIN) == [NAMESPACE, OTHER]


async def test_a_worker_key_runs_a_worker_for_a_writer_key_and_can_do_nothing_else(authed: Authed) -> None:
    worker_client, writer = await authed.client("worker"), await authed.client("writer")
    task_queue = f"auth-{uuid.uuid4().hex[:8]}"
    async with Worker(worker_client, task_queue=task_queue, workflows=[Greeting], activities=[greet]):
        results = [
            await writer.execute_workflow(
                Greeting.run, name, id=f"greet-{name}-{task_queue}", task_queue=task_queue
            )
            for name in ("ada", "grace")
        ]
    assert results == ["hello ada", "hello grace"]
    described = await worker_client.workflow_service.describe_namespace(
        DescribeNamespaceRequest(namespace=NAMESPACE)
    )
    assert described.namespace_info.name == NAMESPACE
    with pytest.raises(RPCError) as started:
        await worker_client.start_workflow("Greeting", "eve", id="by-worker", task_queue=task_queue)
    assert started.value.status is RPCStatusCode.PERMISSION_DENIED
    with pytest.raises(RPCError) as listed:
        await worker_client.count_workflows()
    assert listed.value.status is RPCStatusCode.PERMISSION_DENIED


async def test_no_key_or_a_wrong_one_is_unauthenticated(authed: Authed) -> None:
    anonymous = await Client.connect(authed.server.address)  # GetSystemInfo is open, as on Temporal
    with pytest.raises(RPCError) as counted:
        await anonymous.count_workflows()
    assert counted.value.status is RPCStatusCode.UNAUTHENTICATED
    wrong = authed.keys["reader"][:-4] + "AAAA"
    with pytest.raises(RuntimeError, match=r"Unauthenticated.*API key not valid"):
        await Client.connect(authed.server.address, api_key=wrong, tls=False)


async def test_an_expired_key_is_refused(authed: Authed) -> None:
    expired = await key_for(authed.store, Role.READER, expires_at=time.time() - 1)
    with pytest.raises(RuntimeError, match=r"Unauthenticated.*expired"):
        await Client.connect(authed.server.address, api_key=expired, tls=False)


async def test_a_revoked_key_is_refused_within_the_cache_time(authed: Authed) -> None:
    key = await key_for(authed.store, Role.READER)
    client = await Client.connect(authed.server.address, api_key=key, tls=False)
    await client.count_workflows()
    assert await authed.store.revoke_api_key(key.split("_")[1], time.time())

    async def refused_now() -> None:
        try:
            await client.count_workflows()
        except RPCError as error:
            assert (error.status, "revoked" in error.message) == (RPCStatusCode.UNAUTHENTICATED, True)
        else:
            raise AssertionError("the revoked key still works")

    await eventually(refused_now, timeout=15)


async def test_a_key_records_when_it_was_last_used(authed: Authed) -> None:
    key = await key_for(authed.store, Role.READER)
    client = await Client.connect(authed.server.address, api_key=key, tls=False)
    await client.count_workflows()

    async def used() -> bool:
        stored = await authed.store.get_api_key(key.split("_")[1])
        return stored is not None and stored.last_used_at is not None

    await eventually(used)


async def test_with_auth_off_every_call_is_served_as_before() -> None:
    async with in_process() as server:
        for started, api_key in enumerate((None, "cdz_0000000000000000_not-a-key")):
            client = await Client.connect(server.address, api_key=api_key, tls=False)
            await client.workflow_service.update_namespace(UpdateNamespaceRequest(namespace=NAMESPACE))
            assert (await client.count_workflows()).count == started
            handle = await client.start_workflow("Anything", id=f"off-{started}", task_queue="q")
            await handle.terminate()
