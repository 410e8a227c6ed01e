"""Rate limits per principal, and limits changed at run time through the dynamic-config file,
on a real server called by the SDK's service client with its retries off."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import ResourceExhaustedCause, ResourceExhaustedScope
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest
from temporalio.client import Client
from temporalio.service import RPCStatusCode

from cadenza.api.server import Handler, RpcWrapper
from cadenza.auth.principal import Principal, PrincipalKind, current_principal
from cadenza.cli.main import main
from cadenza.config import ServerConfig, dynamic_quotas
from cadenza.quotas.settings import SettingsError
from cadenza.server import Server
from tests import servers
from tests.helpers import eventually
from tests.integration.test_rate_limits import LIMITED, describe, refusal, register

PRINCIPAL_HEADER = "x-test-principal"


def principal_from_header(_service: str, _method: str, handler: Handler) -> Handler:
    """Stands in for authentication: the caller is whoever the header names."""

    async def named(request: Any, context: Any) -> Any:
        name = dict(context.invocation_metadata() or ()).get(PRINCIPAL_HEADER)
        if name is None:
            return await handler(request, context)
        token = current_principal.set(Principal(PrincipalKind.API_KEY, name))
        try:
            return await handler(request, context)
        finally:
            current_principal.reset(token)

    return named


class NamingServer(Server):
    """The server with the stand-in authentication where the real one goes: before the limits."""

    def _rpc_wrappers(self) -> list[RpcWrapper]:
        *outer, limits = super()._rpc_wrappers()
        return [*outer, principal_from_header, limits]


@contextlib.asynccontextmanager
async def naming_server(settings: dict[str, str]) -> AsyncIterator[str]:
    pairs = [f"{key}={value}" for key, value in settings.items()]
    server = NamingServer(
        ServerConfig(port=0, http_port=0, db=":memory:", quotas=dynamic_quotas(pairs, env={}))
    )
    addresses = await server.start()
    try:
        yield addresses.grpc
    finally:
        await server.stop()


async def as_principal(client: Client, name: str) -> RPCStatusCode:
    """The status of describing a missing workflow in ``default`` as principal ``name``."""
    with_header = await Client.connect(
        client.service_client.config.target_host, rpc_metadata={PRINCIPAL_HEADER: name}
    )
    return await describe(with_header, "default")


async def test_a_principal_over_its_rate_is_refused_while_others_go_on() -> None:
    # One call per 1,000 s for alice: her second call is refused, whatever the machine's speed.
    alice_only = '[{"value":0.001,"constraints":{"principal":"alice"}}]'
    async with naming_server({"cadenza.principalRPS": alice_only}) as address:
        client = await Client.connect(address)
        assert await as_principal(client, "alice") == RPCStatusCode.NOT_FOUND
        alice = await Client.connect(address, rpc_metadata={PRINCIPAL_HEADER: "alice"})
        message, detail = await refusal(
            alice.workflow_service.describe_workflow_execution(
                DescribeWorkflowExecutionRequest(
                    namespace="default", execution=WorkflowExecution(workflow_id="x")
                ),
                retry=False,
            )
        )
        assert message == "principal rate limit exceeded"
        assert detail.cause == ResourceExhaustedCause.RESOURCE_EXHAUSTED_CAUSE_RPS_LIMIT
        assert detail.scope == ResourceExhaustedScope.RESOURCE_EXHAUSTED_SCOPE_NAMESPACE
        for _ in range(5):
            assert await as_principal(client, "bob") == RPCStatusCode.NOT_FOUND
            assert await describe(client, "default") == RPCStatusCode.NOT_FOUND  # anonymous
        assert await as_principal(client, "alice") == RPCStatusCode.RESOURCE_EXHAUSTED


def write(path: Path, text: str) -> None:
    path.write_text(text)


@contextlib.contextmanager
def logged(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    with caplog.at_level(logging.INFO, logger="cadenza.quotas"):
        yield caplog


async def test_a_changed_dynamic_config_file_changes_the_limits_at_run_time(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "dynamic.yaml"
    write(path, "# no limits of its own yet\n")
    async with servers.in_process(dynamic_config_file=str(path), dynamic_config_poll_seconds=0.05) as server:
        client = await Client.connect(server.address)
        await register(client, LIMITED)
        for _ in range(5):
            assert await describe(client, LIMITED) == RPCStatusCode.NOT_FOUND

        write(path, f"frontend.namespaceRPS:\n  - value: 0\n    constraints: {{namespace: {LIMITED}}}\n")
        await eventually(lambda: describe_is(client, LIMITED, RPCStatusCode.RESOURCE_EXHAUSTED))
        assert await describe(client, "default") == RPCStatusCode.NOT_FOUND

        with logged(caplog):
            write(path, "frontend.namespaceRPS: [{value: -3}]\n")
            await eventually(lambda: "not applied" in caplog.text)
        assert await describe(client, LIMITED) == RPCStatusCode.RESOURCE_EXHAUSTED  # the last good file holds

        write(path, "frontend.namespaceRPS:\n  - value: 1000\n")
        await eventually(lambda: describe_is(client, LIMITED, RPCStatusCode.NOT_FOUND))


async def describe_is(client: Client, namespace: str, status: RPCStatusCode) -> bool:
    return await describe(client, namespace) == status


async def test_a_bad_dynamic_config_file_stops_the_server_from_starting(tmp_path: Path) -> None:
    path = tmp_path / "dynamic.yaml"
    write(path, "frontend.namespaceCount: [{value: 1.5}]\n")
    with pytest.raises(SettingsError, match=r"frontend.namespaceCount: 1.5 is not a whole number"):
        async with servers.in_process(dynamic_config_file=str(path)):
            pass


def test_the_command_line_refuses_a_bad_file_or_value_before_starting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "dynamic.yaml"
    write(path, "frontend.namespaceRPS: 100\n")
    assert main(["server", "start", "--db", ":memory:", "--dynamic-config-file", str(path)]) == 2
    assert "frontend.namespaceRPS: expected a list of {value, constraints}" in capsys.readouterr().err
    assert (
        main(["server", "start", "--db", ":memory:", "--dynamic-config-value", "frontend.namespaceRPS=x"])
        == 2
    )
    assert "frontend.namespaceRPS: 'x' is neither a number nor a JSON list" in capsys.readouterr().err
