"""Rate limits per principal, and limits changed at run time through the dynamic-config file,
on a real server called by the SDK's service client with its retries off."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import ResourceExhaustedCause, ResourceExhaustedScope
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest
from temporalio.client import Client
from temporalio.service import RPCStatusCode

from cadenza.auth.authenticators import Authenticator, Credentials
from cadenza.auth.principal import Principal, PrincipalKind, Role
from cadenza.cli.main import main
from cadenza.config import ServerConfig, dynamic_quotas
from cadenza.quotas.settings import SettingsError
from cadenza.server import Server
from tests import servers
from tests.helpers import eventually
from tests.integration.test_rate_limits import LIMITED, describe, refusal, register


class KeysAreNames:
    """Stands in for the API keys: the key is the principal's name, a reader of ``default``."""

    async def authenticate(self, credentials: Credentials) -> Principal | None:
        if credentials.bearer_token is None:
            return None
        return Principal(
            PrincipalKind.API_KEY, credentials.bearer_token, {"default": frozenset({Role.READER})}
        )


class KeyedServer(Server):
    """The server with auth on and the stand-in authenticator."""

    def _authenticators(self) -> list[Authenticator]:
        return [KeysAreNames()]


@contextlib.asynccontextmanager
async def keyed_server(settings: dict[str, str]) -> AsyncIterator[str]:
    pairs = [f"{key}={value}" for key, value in settings.items()]
    config = ServerConfig(port=0, http_port=0, db=":memory:", auth=True, quotas=dynamic_quotas(pairs, env={}))
    server = KeyedServer(config)
    addresses = await server.start()
    try:
        yield addresses.grpc
    finally:
        await server.stop()


async def as_principal(address: str, name: str) -> RPCStatusCode:
    """The status of describing a missing workflow in ``default`` with API key ``name``."""
    return await describe(await Client.connect(address, api_key=name, tls=False), "default")


async def test_a_principal_over_its_rate_is_refused_while_others_go_on() -> None:
    # One call per 1,000 s for alice: her second call is refused, whatever the machine's speed.
    alice_only = '[{"value":0.001,"constraints":{"principal":"alice"}}]'
    async with keyed_server({"cadenza.principalRPS": alice_only}) as address:
        assert await as_principal(address, "alice") == RPCStatusCode.NOT_FOUND
        alice = await Client.connect(address, api_key="alice", tls=False)
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
            assert await as_principal(address, "bob") == RPCStatusCode.NOT_FOUND
        assert await as_principal(address, "alice") == RPCStatusCode.RESOURCE_EXHAUSTED


async def test_without_auth_callers_are_anonymous_and_only_the_namespace_limits_hold() -> None:
    everyone = '[{"value":0.001}]'
    async with servers.in_process(dynamic_config={"cadenza.principalRPS": everyone}) as server:
        client = await Client.connect(server.address)
        for _ in range(5):
            assert await describe(client, "default") == RPCStatusCode.NOT_FOUND


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
