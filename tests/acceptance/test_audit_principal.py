"""The caller on the history and in the audit log, with a wrapper standing in for
authorization: it proves every caller as one principal, unsets it when the call ends (as the
authorization wrapper does), and refuses some calls before their handler runs."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowFailureError
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker

from cadenza.api.server import Handler, RpcWrapper
from cadenza.auth.principal import Principal, PrincipalKind, current_principal
from cadenza.config import ServerConfig
from cadenza.persistence.audit_records import AuditFilter, AuditRecord
from cadenza.server import Server
from tests.acceptance import workflows_messages as wm
from tests.helpers import Registered, eventually, worker_for

ALICE = Principal(PrincipalKind.API_KEY, "alice")
IDENTITY = "alice-laptop"
DENY_HEADER = "x-test-deny"


def stand_in_authorization(service: str, method: str, handler: Handler) -> Handler:
    async def authorized(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        if any(key == DENY_HEADER for key, _ in context.invocation_metadata() or ()):
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "Request unauthenticated")
        if method == "TerminateWorkflowExecution":
            await context.abort(grpc.StatusCode.PERMISSION_DENIED, "Request unauthorized")
        token = current_principal.set(ALICE)
        try:
            return await handler(request, context)
        finally:
            current_principal.reset(token)

    return authorized


class ServerWithCallers(Server):
    def _rpc_wrappers(self) -> list[RpcWrapper]:
        metrics, audit, *inner = super()._rpc_wrappers()
        return [metrics, audit, stand_in_authorization, *inner]


@pytest.fixture
async def server() -> AsyncIterator[ServerWithCallers]:
    started = ServerWithCallers(ServerConfig(ip="127.0.0.1", port=0, http_port=0, db=":memory:", audit=True))
    await started.start()
    try:
        yield started
    finally:
        await started.stop()


@pytest.fixture
async def client(server: ServerWithCallers) -> Client:
    assert server.addresses is not None
    return await Client.connect(server.addresses.grpc, identity=IDENTITY)


@pytest.fixture
async def worker(client: Client, task_queue: str) -> AsyncIterator[Worker]:
    async with worker_for(client, task_queue, Registered(wm.WORKFLOWS)) as running:
        yield running


async def rows(server: Server, count: int) -> list[AuditRecord]:
    """The ``count`` rows, oldest first, once written: a refused call's row is written as its
    caller hears the refusal (gRPC answers an abort at once)."""

    async def written() -> list[AuditRecord]:
        found = list(reversed(await server.audit.log.list(AuditFilter(limit=1000))))
        assert len(found) >= count
        return found

    return await eventually(written)


async def test_events_a_caller_causes_carry_its_principal_and_identity_stays(
    server: ServerWithCallers, client: Client, worker: Worker, task_queue: str
) -> None:
    handle = await client.start_workflow(
        wm.Mailbox.run, id=f"p-{uuid.uuid4().hex[:8]}", task_queue=task_queue
    )
    await handle.signal(wm.Mailbox.deliver, "one")
    await handle.cancel()
    with pytest.raises(WorkflowFailureError):
        await handle.result()  # cancelled: the request, perhaps buffered meanwhile, is in history
    events = [event async for event in handle.fetch_history_events()]
    by_type = {event.event_type: event for event in events}
    for kind in (
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,  # the worker's call: its caller, too
    ):
        principal = by_type[kind].principal
        assert (principal.type, principal.name) == ("api-key", "alice"), kind
    started = by_type[EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED]
    assert started.workflow_execution_started_event_attributes.identity == IDENTITY
    signaled = by_type[EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED]
    assert signaled.workflow_execution_signaled_event_attributes.identity == IDENTITY

    with pytest.raises(WorkflowAlreadyStartedError):  # failed: recorded on its own, once authorization ended
        await client.start_workflow(
            wm.Mailbox.run,
            id=handle.id,
            task_queue=task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
    recorded = await rows(server, 4)
    assert [(r.method, r.outcome) for r in recorded] == [
        ("StartWorkflowExecution", "ok"),
        ("SignalWorkflowExecution", "ok"),
        ("RequestCancelWorkflowExecution", "ok"),
        ("StartWorkflowExecution", "ALREADY_EXISTS"),
    ]
    assert {(r.principal_kind, r.principal_name) for r in recorded} == {("api-key", "alice")}


async def test_refused_calls_of_every_kind_are_recorded_and_change_nothing(
    server: ServerWithCallers, client: Client, task_queue: str
) -> None:
    handle = await client.start_workflow(
        wm.Mailbox.run, id=f"d-{uuid.uuid4().hex[:8]}", task_queue=task_queue
    )
    with pytest.raises(RPCError) as refused:
        await handle.terminate("no")
    assert refused.value.status == RPCStatusCode.PERMISSION_DENIED
    with pytest.raises(RPCError) as unknown:
        await handle.describe(rpc_metadata={DENY_HEADER: "1"})
    assert unknown.value.status == RPCStatusCode.UNAUTHENTICATED
    described = await handle.describe()  # a read let through: not recorded
    assert described.status is not None and described.status.name == "RUNNING"

    recorded = await rows(server, 3)
    assert [(r.method, r.workflow_id, r.outcome, r.reason) for r in recorded] == [
        ("StartWorkflowExecution", handle.id, "ok", ""),
        ("TerminateWorkflowExecution", handle.id, "PERMISSION_DENIED", "Request unauthorized"),
        ("DescribeWorkflowExecution", handle.id, "UNAUTHENTICATED", "Request unauthenticated"),
    ]
    # Refused before authorization proved anyone: the caller is recorded as anonymous.
    assert (recorded[2].principal_kind, recorded[2].principal_name) == ("anonymous", "anonymous")
