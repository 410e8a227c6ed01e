"""The check before the handler, without a server: refusals as the real server words them, and a workflow task's commands held to the rules of the namespaces
they reach."""

from __future__ import annotations

import pytest
from google.rpc import code_pb2
from temporalio.api.command.v1 import Command
from temporalio.api.errordetails.v1 import PermissionDeniedFailure
from temporalio.api.workflowservice.v1 import (
    GetSystemInfoRequest,
    RespondWorkflowTaskCompletedRequest,
)

from cadenza.api.authorization import Authorization, Denied
from cadenza.api.credentials import credentials_of
from cadenza.api.http_calls import HttpCallContext
from cadenza.auth.authenticators import AuthenticationError, Credentials
from cadenza.auth.principal import ANONYMOUS, Principal, PrincipalKind, Role

WORKFLOW = "temporal.api.workflowservice.v1.WorkflowService"


class OneKey:
    """Knows one bearer token (the seam every real authenticator fills)."""

    def __init__(self, token: str, principal: Principal) -> None:
        self._token, self._principal = token, principal

    async def authenticate(self, credentials: Credentials) -> Principal | None:
        if credentials.bearer_token is None or not credentials.bearer_token.startswith("k"):
            return None
        if credentials.bearer_token != self._token:
            raise AuthenticationError("key not valid")
        return self._principal


WORKER = Principal(PrincipalKind.API_KEY, "w", {"orders": frozenset({Role.WORKER})})
AUTHORIZATION = Authorization([OneKey("key", WORKER)])


def bearer(token: str) -> Credentials:
    return credentials_of(HttpCallContext([("authorization", f"Bearer {token}")]))


async def test_open_rpcs_need_no_credentials_but_bad_ones_are_refused() -> None:
    assert (
        await AUTHORIZATION.check(WORKFLOW, "GetSystemInfo", GetSystemInfoRequest(), Credentials())
        is ANONYMOUS
    )
    with pytest.raises(Denied) as refused:
        await AUTHORIZATION.check(WORKFLOW, "GetSystemInfo", GetSystemInfoRequest(), bearer("kbad"))
    assert (refused.value.status.code, refused.value.status.message) == (
        code_pb2.UNAUTHENTICATED,
        "key not valid",
    )
    with pytest.raises(Denied) as unknown:
        await AUTHORIZATION.check(WORKFLOW, "GetSystemInfo", GetSystemInfoRequest(), bearer("other"))
    assert unknown.value.status.code == code_pb2.UNAUTHENTICATED


def task_completed(*targets: str) -> RespondWorkflowTaskCompletedRequest:
    request = RespondWorkflowTaskCompletedRequest(namespace="orders")
    for target in targets:
        command = Command()
        command.start_child_workflow_execution_command_attributes.namespace = target
        request.commands.append(command)
    return request


async def test_commands_on_other_namespaces_need_their_rpcs_rules_there() -> None:
    assert await AUTHORIZATION.check(
        WORKFLOW, "RespondWorkflowTaskCompleted", task_completed("", "orders"), bearer("key")
    )
    with pytest.raises(Denied) as refused:
        await AUTHORIZATION.check(
            WORKFLOW, "RespondWorkflowTaskCompleted", task_completed("billing"), bearer("key")
        )
    status = refused.value.status
    assert (status.code, status.message) == (code_pb2.PERMISSION_DENIED, "Request unauthorized.")
    reason = PermissionDeniedFailure.FromString(status.details[0].value).reason
    assert reason == "StartWorkflowExecution needs the write permission on namespace 'billing'"
    both = Principal(
        PrincipalKind.API_KEY, "w", {"orders": frozenset({Role.WORKER}), "billing": frozenset({Role.WRITER})}
    )
    allowed = Authorization([OneKey("key", both)])
    assert await allowed.check(
        WORKFLOW, "RespondWorkflowTaskCompleted", task_completed("billing"), bearer("key")
    )
