"""JWTs in Temporal's claim format, through the official SDK (``api_key=token`` sends
``authorization: Bearer token``) and the HTTP API, against a server with ``--auth`` whose keys
come from a JWKS served in the test: each permission lets its holder do what it says and no more."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import httpx
import pytest
from google.protobuf.duration_pb2 import Duration
from temporalio.api.workflowservice.v1 import (
    DescribeNamespaceRequest,
    ListNamespacesRequest,
    RegisterNamespaceRequest,
)
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker

from tests.acceptance.workflows import OneActivity, shout
from tests.auth_matrix import ALLOWED, FAMILIES, wrong_cells
from tests.jwt_issuer import AUDIENCE, ISSUER, Issuer, claims, rsa_key, sign
from tests.servers import InProcessServer, in_process

NAMESPACE = "default"


@pytest.fixture(scope="module")
def issuer() -> Iterator[Issuer]:
    with Issuer(rsa_key("k1")).serving() as serving:
        yield serving


@pytest.fixture
async def server(issuer: Issuer) -> AsyncIterator[InProcessServer]:
    async with in_process(
        auth=True, jwt_jwks_url=issuer.url, jwt_issuer=ISSUER, jwt_audience=AUDIENCE
    ) as running:
        yield running


async def connect(server: InProcessServer, token: str, namespace: str = NAMESPACE) -> Client:
    # api_key alone would turn TLS on; this server speaks plain gRPC.
    return await Client.connect(server.address, namespace=namespace, api_key=token, tls=False)


PERMISSION_FAMILIES: dict[str, set[str]] = {
    f"{NAMESPACE}:read": ALLOWED["reader"],
    f"{NAMESPACE}:worker": ALLOWED["worker"],
    f"{NAMESPACE}:write": ALLOWED["reader"] | ALLOWED["worker"] | ALLOWED["operator"],
    f"{NAMESPACE}:admin": ALLOWED["admin"],
    "temporal-system:read": ALLOWED["reader"],
    "temporal-system:admin": set(FAMILIES),
    "elsewhere:admin": set(),
}
"""What each of Temporal's permissions lets a token call on ``default``: ``write`` as Temporal
grants it (all of WorkflowService but the namespace's administration), ``worker`` the worker role."""


async def start_one(client: Client, task_queue: str) -> None:
    await client.start_workflow(
        OneActivity.run, "JWT", id=f"wf-{uuid.uuid4().hex[:12]}", task_queue=task_queue
    )


async def test_each_permission_may_call_exactly_the_families_its_roles_cover(
    server: InProcessServer, issuer: Issuer
) -> None:
    wrong = {}
    for permission, allowed in PERMISSION_FAMILIES.items():
        client = await connect(server, issuer.token(f"holder-of-{permission}", [permission]))
        cells = await wrong_cells(client, allowed, NAMESPACE)
        if cells:
            wrong[permission] = cells
    assert wrong == {}


async def test_a_read_token_lists_workflows_and_may_not_start_one(
    server: InProcessServer, issuer: Issuer, task_queue: str
) -> None:
    reader = await connect(server, issuer.token("reader", [f"{NAMESPACE}:read"]))
    assert [execution async for execution in reader.list_workflows()] == []
    with pytest.raises(RPCError) as refused:
        await start_one(reader, task_queue)
    assert refused.value.status == RPCStatusCode.PERMISSION_DENIED


async def test_a_write_token_runs_a_worker_and_starts_workflows(
    server: InProcessServer, issuer: Issuer, task_queue: str
) -> None:
    writer = await connect(server, issuer.token("app", [f"{NAMESPACE}:write"]))
    async with Worker(writer, task_queue=task_queue, workflows=[OneActivity], activities=[shout]):
        result = await writer.execute_workflow(
            OneActivity.run,
            "JWT",
            id=f"wf-{uuid.uuid4().hex[:12]}",
            task_queue=task_queue,
            execution_timeout=timedelta(seconds=30),
        )
    assert result == "Hello, JWT!"


async def test_a_worker_token_runs_a_worker_and_may_not_start_workflows(
    server: InProcessServer, issuer: Issuer, task_queue: str
) -> None:
    """``ns:worker`` grants nothing in Temporal's default authorizer; here it is the worker role."""
    worker_client = await connect(server, issuer.token("worker-process", [f"{NAMESPACE}:worker"]))
    starter = await connect(server, issuer.token("app", [f"{NAMESPACE}:write"]))
    with pytest.raises(RPCError) as refused:
        await start_one(worker_client, task_queue)
    assert refused.value.status == RPCStatusCode.PERMISSION_DENIED
    async with Worker(worker_client, task_queue=task_queue, workflows=[OneActivity], activities=[shout]):
        result = await starter.execute_workflow(
            OneActivity.run,
            "worker",
            id=f"wf-{uuid.uuid4().hex[:12]}",
            task_queue=task_queue,
            execution_timeout=timedelta(seconds=30),
        )
    assert result == "Hello, worker!"


async def test_the_namespace_of_a_permission_is_matched_without_regard_to_case(
    server: InProcessServer, issuer: Issuer
) -> None:
    reader = await connect(server, issuer.token("reader", [f"{NAMESPACE.upper()}:READ"]))
    assert [execution async for execution in reader.list_workflows()] == []


async def test_a_token_for_another_namespace_may_do_nothing_here(
    server: InProcessServer, issuer: Issuer, task_queue: str
) -> None:
    stranger = await connect(server, issuer.token("stranger", ["accounts:admin"]))
    with pytest.raises(RPCError) as refused:
        await start_one(stranger, task_queue)
    assert refused.value.status == RPCStatusCode.PERMISSION_DENIED


async def test_temporal_system_admin_registers_a_namespace_and_a_namespace_admin_may_not(
    server: InProcessServer, issuer: Issuer
) -> None:
    name = f"jwt-{uuid.uuid4().hex[:8]}"
    request = RegisterNamespaceRequest(
        namespace=name, workflow_execution_retention_period=Duration(seconds=86400)
    )
    namespace_admin = await connect(server, issuer.token("ns-admin", [f"{NAMESPACE}:admin"]))
    with pytest.raises(RPCError) as refused:
        await namespace_admin.workflow_service.register_namespace(request)
    assert refused.value.status == RPCStatusCode.PERMISSION_DENIED

    cluster_admin = await connect(server, issuer.token("root", ["temporal-system:admin"]))
    await cluster_admin.workflow_service.register_namespace(request)
    described = await cluster_admin.workflow_service.describe_namespace(
        DescribeNamespaceRequest(namespace=name)
    )
    assert described.namespace_info.name == name

    listed = await cluster_admin.workflow_service.list_namespaces(ListNamespacesRequest())
    assert {NAMESPACE, name} <= {entry.namespace_info.name for entry in listed.namespaces}
    reader = await connect(server, issuer.token("reader", [f"{NAMESPACE}:read"]))
    listed = await reader.workflow_service.list_namespaces(ListNamespacesRequest())
    assert [entry.namespace_info.name for entry in listed.namespaces] == [NAMESPACE]


async def test_jwt_keys_without_auth_are_reported_as_checking_nothing(
    issuer: Issuer, caplog: pytest.LogCaptureFixture
) -> None:
    async with in_process(jwt_jwks_url=issuer.url):
        pass
    assert "JWT keys are configured but auth is off, so no call is checked: add --auth" in caplog.text


async def test_a_bad_token_is_unauthenticated_with_its_reason(
    server: InProcessServer, issuer: Issuer
) -> None:
    """Even the calls anyone may make: a token presented is a claim to be someone, and checked."""
    expired = sign(issuer.keys[0], claims(exp=1_000_000_000, iat=999_999_000))
    forged = sign(rsa_key("k1"), claims("mallory", ["temporal-system:admin"]))
    for token, reason in (
        (expired, "the token has expired"),
        (forged, "the token's signature does not verify"),
    ):
        with pytest.raises(RuntimeError, match=f'Unauthenticated, message: "{reason}"'):
            await connect(server, token)


async def test_the_http_api_takes_the_same_token(server: InProcessServer, issuer: Issuer) -> None:
    http = server.server.addresses
    assert http is not None
    url = f"http://{http.http}/api/v1/namespaces/{NAMESPACE}/workflows"
    token = issuer.token("reader", [f"{NAMESPACE}:read"])
    forged = sign(rsa_key("k1"), claims("reader", [f"{NAMESPACE}:admin"]))
    async with httpx.AsyncClient() as session:
        allowed = await session.get(url, headers={"Authorization": f"Bearer {token}"})
        refused = await session.get(url, headers={"Authorization": f"Bearer {forged}"})
    assert allowed.status_code == 200, allowed.text
    assert refused.status_code == 401, refused.text
    assert refused.json()["message"] == "the token's signature does not verify"
