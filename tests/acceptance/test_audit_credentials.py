"""The audit log and the caller on the history with real credentials, on a server with
``--auth`` (which turns the audit log on): JWTs from a JWKS served in the test, and API keys."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from cadenza.auth.api_keys import issue_key, new_key
from cadenza.auth.principal import Role
from cadenza.persistence.audit_records import AuditFilter, AuditRecord
from tests.acceptance import workflows_messages as wm
from tests.helpers import eventually
from tests.jwt_issuer import AUDIENCE, ISSUER, Issuer, rsa_key
from tests.servers import InProcessServer, in_process

ROUTE = "/api/v1/cadenza/audit"


@pytest.fixture(scope="module")
def issuer() -> Iterator[Issuer]:
    with Issuer(rsa_key("k1")).serving() as serving:
        yield serving


@pytest.fixture
async def server(issuer: Issuer) -> AsyncIterator[InProcessServer]:
    async with in_process(
        http_port=0, auth=True, jwt_jwks_url=issuer.url, jwt_issuer=ISSUER, jwt_audience=AUDIENCE
    ) as running:
        yield running


async def connect(server: InProcessServer, token: str) -> Client:
    return await Client.connect(server.address, api_key=token, tls=False, identity="cli-of-" + token[-6:])


async def rows(server: InProcessServer, count: int) -> list[AuditRecord]:
    async def written() -> list[AuditRecord]:
        found = list(reversed(await server.server.audit.log.list(AuditFilter(limit=1000))))
        assert len(found) >= count
        return found

    return await eventually(written)


async def test_callers_proven_by_tokens_are_on_the_history_and_in_the_log(
    server: InProcessServer, issuer: Issuer, task_queue: str
) -> None:
    assert server.server.config.audit_on  # on with auth, unless turned off
    app = await connect(server, issuer.token("app", ["default:write"]))
    reader = await connect(server, issuer.token("reader", ["default:read"]))
    ops = await connect(server, issuer.token("ops", ["default:admin"]))
    stranger = await Client.connect(server.address)  # GetSystemInfo is open to anyone

    handle = await app.start_workflow(wm.Mailbox.run, id=f"jwt-{uuid.uuid4().hex[:8]}", task_queue=task_queue)
    await handle.signal(wm.Mailbox.deliver, "hi")
    with pytest.raises(RPCError) as refused:
        await reader.get_workflow_handle(handle.id).terminate()
    assert refused.value.status == RPCStatusCode.PERMISSION_DENIED
    with pytest.raises(RPCError) as unknown:
        await stranger.get_workflow_handle(handle.id).describe(
            rpc_metadata={"authorization": "Bearer not-a-token"}
        )
    assert unknown.value.status == RPCStatusCode.UNAUTHENTICATED
    await ops.get_workflow_handle(handle.id).terminate("by ops")

    events = {e.event_type: e async for e in ops.get_workflow_handle(handle.id).fetch_history_events()}
    started = events[EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED]
    assert (started.principal.type, started.principal.name) == ("jwt", "app")
    assert started.workflow_execution_started_event_attributes.identity == app.identity
    signaled = events[EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED]
    assert (signaled.principal.type, signaled.principal.name) == ("jwt", "app")
    terminated = events[EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED]
    assert (terminated.principal.type, terminated.principal.name) == ("jwt", "ops")

    recorded = await rows(server, 5)
    assert [(r.method, r.principal_kind, r.principal_name, r.outcome) for r in recorded] == [
        ("StartWorkflowExecution", "jwt", "app", "ok"),
        ("SignalWorkflowExecution", "jwt", "app", "ok"),
        ("TerminateWorkflowExecution", "jwt", "reader", "PERMISSION_DENIED"),
        # No credentials that prove anyone: the caller is unknown.
        ("DescribeWorkflowExecution", "anonymous", "anonymous", "UNAUTHENTICATED"),
        ("TerminateWorkflowExecution", "jwt", "ops", "ok"),
    ]
    assert all(r.workflow_id == handle.id for r in recorded)


async def test_reading_the_log_over_http_takes_a_cluster_admin(
    server: InProcessServer, issuer: Issuer
) -> None:
    assert server.server.addresses is not None
    async with httpx.AsyncClient(base_url=f"http://{server.server.addresses.http}", timeout=30) as http:
        anyone = await http.get(ROUTE)
        assert anyone.status_code == 401
        admin_of_default = issuer.token("ns-admin", ["default:admin"])
        refused = await http.get(ROUTE, headers={"Authorization": f"Bearer {admin_of_default}"})
        assert refused.status_code == 403
        root = issuer.token("root", ["temporal-system:admin"])
        listed = await http.get(ROUTE, headers={"Authorization": f"Bearer {root}"})
        assert listed.status_code == 200
        # The refusals above are in it, as every refused call is.
        outcomes = [(r["method"], r["principal"]["name"], r["outcome"]) for r in listed.json()["records"]]
        assert outcomes == [
            ("ListAuditRecords", "ns-admin", "PERMISSION_DENIED"),
            ("ListAuditRecords", "anonymous", "UNAUTHENTICATED"),
        ]


async def test_callers_proven_by_api_keys_are_on_the_history_and_in_the_log(task_queue: str) -> None:
    async with in_process(auth=True) as server:
        store = server.server._store
        writer_key = await issue_key(store, new_key("default", Role.WRITER, time.time(), name="app"))
        operator_key = await issue_key(store, new_key("default", Role.OPERATOR, time.time(), name="ops"))
        writer = await Client.connect(server.address, api_key=writer_key, tls=False)
        operator = await Client.connect(server.address, api_key=operator_key, tls=False)
        handle = await writer.start_workflow(
            wm.Mailbox.run, id=f"key-{uuid.uuid4().hex[:8]}", task_queue=task_queue
        )
        with pytest.raises(RPCError) as refused:
            await writer.get_workflow_handle(handle.id).terminate()
        assert refused.value.status == RPCStatusCode.PERMISSION_DENIED
        await operator.get_workflow_handle(handle.id).terminate()
        recorded = await rows(server, 3)
        events = [e async for e in operator.get_workflow_handle(handle.id).fetch_history_events()]
    writer_id, operator_id = (key.split("_")[1] for key in (writer_key, operator_key))
    assert (events[0].principal.type, events[0].principal.name) == ("api-key", writer_id)
    assert (events[-1].principal.type, events[-1].principal.name) == ("api-key", operator_id)
    assert [(r.method, r.principal_kind, r.principal_name, r.outcome) for r in recorded] == [
        ("StartWorkflowExecution", "api-key", writer_id, "ok"),
        ("TerminateWorkflowExecution", "api-key", writer_id, "PERMISSION_DENIED"),
        ("TerminateWorkflowExecution", "api-key", operator_id, "ok"),
    ]
