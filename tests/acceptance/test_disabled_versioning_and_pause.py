"""The deprecated build-ID versioning APIs and workflow pause are refused as the real
Temporal 1.32 server refuses them by default, through the official SDK's client; the
differential test shows the same codes, messages and error details on both servers."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from temporalio.api.workflowservice.v1 import (
    GetWorkerBuildIdCompatibilityRequest,
    GetWorkerTaskReachabilityRequest,
    GetWorkerVersioningRulesRequest,
    PauseWorkflowExecutionRequest,
    UnpauseWorkflowExecutionRequest,
    UpdateWorkerBuildIdCompatibilityRequest,
    UpdateWorkerVersioningRulesRequest,
)
from temporalio.client import BuildIdOpAddNewDefault, Client
from temporalio.service import RPCError, RPCStatusCode

from tests import servers

SETS_DISABLED = "Worker versioning v0.1 (Version Set-based, deprecated) is disabled on this namespace."
RULES_DISABLED = "Worker versioning v0.2 (Rules-based, deprecated) is disabled on this namespace."

Call = Callable[[Client, str, str], Awaitable[Any]]
"""One request, given the client, a namespace and a workflow ID."""

CALLS: dict[str, Call] = {
    "update build IDs": lambda c, ns, wf: c.workflow_service.update_worker_build_id_compatibility(
        UpdateWorkerBuildIdCompatibilityRequest(
            namespace=ns, task_queue=wf, add_new_build_id_in_new_default_set="1"
        )
    ),
    "get build IDs": lambda c, ns, wf: c.workflow_service.get_worker_build_id_compatibility(
        GetWorkerBuildIdCompatibilityRequest(namespace=ns, task_queue=wf)
    ),
    "reachability": lambda c, ns, wf: c.workflow_service.get_worker_task_reachability(
        GetWorkerTaskReachabilityRequest(namespace=ns, build_ids=["1"])
    ),
    "update rules": lambda c, ns, wf: c.workflow_service.update_worker_versioning_rules(
        UpdateWorkerVersioningRulesRequest(namespace=ns, task_queue=wf)
    ),
    "get rules": lambda c, ns, wf: c.workflow_service.get_worker_versioning_rules(
        GetWorkerVersioningRulesRequest(namespace=ns, task_queue=wf)
    ),
    "pause": lambda c, ns, wf: c.workflow_service.pause_workflow_execution(
        PauseWorkflowExecutionRequest(namespace=ns, workflow_id=wf, reason="r", request_id=str(uuid.uuid4()))
    ),
    "unpause": lambda c, ns, wf: c.workflow_service.unpause_workflow_execution(
        UnpauseWorkflowExecutionRequest(
            namespace=ns, workflow_id=wf, reason="r", request_id=str(uuid.uuid4())
        )
    ),
}


async def refusal(call: Awaitable[Any]) -> tuple[RPCStatusCode, str, list[str]]:
    """The status, message and detail types a refused call answered."""
    with pytest.raises(RPCError) as refused:
        await call
    status = refused.value.grpc_status
    return (
        refused.value.status,
        refused.value.message,
        [d.type_url.rsplit(".", 1)[-1] for d in status.details],
    )


async def observe(client: Client) -> dict[str, Any]:
    """Every call against a running workflow, a missing one, a closed one, and bad input."""
    workflow_id = f"wf-{uuid.uuid4().hex[:12]}"
    handle = await client.start_workflow("NeverPolled", id=workflow_id, task_queue=f"tq-{workflow_id}")
    seen: dict[str, Any] = {}
    for name, call in CALLS.items():
        seen[name] = await refusal(call(client, "default", workflow_id))
        seen[f"{name}, unknown namespace"] = await refusal(call(client, "no-such-namespace", workflow_id))
        seen[f"{name}, no namespace"] = await refusal(call(client, "", workflow_id))
        seen[f"{name}, missing workflow"] = await refusal(call(client, "default", f"missing-{workflow_id}"))
    seen["unpause, no workflow ID"] = await refusal(call_unpause(client, workflow_id=""))
    seen["unpause, bad run ID"] = await refusal(call_unpause(client, workflow_id=workflow_id, run_id="x"))
    seen["unpause, long reason"] = await refusal(
        call_unpause(client, workflow_id=workflow_id, reason="r" * 1001)
    )
    seen["unpause, long identity"] = await refusal(
        call_unpause(client, workflow_id=workflow_id, identity="i" * 1001)
    )
    await handle.terminate()
    seen["unpause, closed"] = await refusal(call_unpause(client, workflow_id=workflow_id))
    seen["pause, closed"] = await refusal(CALLS["pause"](client, "default", workflow_id))
    return _without_ids(seen, workflow_id)


def call_unpause(client: Client, **fields: str) -> Awaitable[Any]:
    return client.workflow_service.unpause_workflow_execution(
        UnpauseWorkflowExecutionRequest(namespace="default", **fields)
    )


def _without_ids(seen: dict[str, Any], workflow_id: str) -> dict[str, Any]:
    return {k: (code, message.replace(workflow_id, "<id>"), d) for k, (code, message, d) in seen.items()}


async def test_deprecated_versioning_is_refused_as_disabled(client: Client, task_queue: str) -> None:
    with pytest.raises(RPCError) as refused:
        await client.update_worker_build_id_compatibility(task_queue, BuildIdOpAddNewDefault("1.0"))
    # The status the SDK's own tests take to mean "worker versioning is disabled here".
    assert refused.value.status == RPCStatusCode.PERMISSION_DENIED
    assert refused.value.message == SETS_DISABLED
    with pytest.raises(RPCError) as refused:
        await client.get_worker_task_reachability(build_ids=["1.0"])
    assert (refused.value.status, refused.value.message) == (RPCStatusCode.PERMISSION_DENIED, RULES_DISABLED)


async def test_pause_is_disabled_and_a_running_workflow_is_not_paused(client: Client) -> None:
    seen = await observe(client)
    assert seen["pause"] == (
        RPCStatusCode.UNIMPLEMENTED,
        "workflow pause is not enabled for namespace: default",
        [],
    )
    assert seen["unpause"] == (RPCStatusCode.FAILED_PRECONDITION, "workflow is not paused.", [])
    assert seen["unpause, closed"] == (
        RPCStatusCode.NOT_FOUND,
        "workflow execution already completed",
        ["NotFoundFailure"],
    )
    assert seen["get rules, unknown namespace"] == (
        RPCStatusCode.NOT_FOUND,
        "Namespace no-such-namespace is not found.",
        ["NamespaceNotFoundFailure"],
    )
    assert seen["get build IDs"] == (
        RPCStatusCode.PERMISSION_DENIED,
        SETS_DISABLED,
        ["PermissionDeniedFailure"],
    )


@pytest.mark.differential
@pytest.mark.skipif(servers.temporal_binary() is None, reason="temporal CLI not installed")
async def test_refusals_match_real_temporal(client: Client, temporal_client: Client) -> None:
    assert await observe(client) == await observe(temporal_client)
