"""TLS and mTLS on both ports with certificates made here: the official SDK runs a workflow over
mTLS, plain, certificate-less and wrong-CA clients are refused, the HTTP API and /healthz answer
over HTTPS, the client certificate reaches the call as its credentials, and a renewed
certificate is served to new connections without a restart."""

from __future__ import annotations

import asyncio
import contextlib
import os
import ssl
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.client import Client
from temporalio.service import TLSConfig

from cadenza.api.credentials import credentials_of
from cadenza.api.server import Handler
from cadenza.auth.authenticators import Credentials, authenticate
from cadenza.auth.principal import Principal, PrincipalKind, Role
from cadenza.config import ServerConfig
from cadenza.server import Server
from tests.acceptance.workflows import ALL_ACTIVITIES, OneActivity
from tests.certificates import CertificateAuthority, Issued, common_name_of
from tests.helpers import Registered, eventually, free_port, worker_for
from tests.servers import ServerProcess


@dataclass(frozen=True)
class Pki:
    """The files a test server and its clients use."""

    directory: Path
    ca: CertificateAuthority
    server_cert: Path
    server_key: Path
    client_ca: Path
    roles: Path
    alice: Issued
    """A client certificate from the server's client CA, mapped to a reader of ``default``."""
    stranger: Issued
    """A client certificate from a CA the server does not know."""


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    directory = tmp_path_factory.mktemp("pki")
    ca = CertificateAuthority("Cadenza test CA")
    server_cert, server_key = ca.server("first").write(directory, "server")
    client_ca = directory / "client-ca.pem"
    client_ca.write_bytes(ca.pem)
    roles = directory / "roles.toml"
    roles.write_text('[[rule]]\ncn = "alice"\nname = "alice@example"\nroles = { default = ["reader"] }\n')
    return Pki(
        directory,
        ca,
        server_cert,
        server_key,
        client_ca,
        roles,
        ca.client("alice"),
        CertificateAuthority("Someone else's CA").client("alice"),
    )


class RecordingServer(Server):
    """The real server with one more RPC wrapper, recording who each call was proven to be, as
    the authorization wrapper asks."""

    def __init__(self, config: ServerConfig) -> None:
        super().__init__(config)
        self.seen: list[tuple[Credentials, Principal | None]] = []

    def _rpc_wrappers(self) -> list[Any]:
        return [*super()._rpc_wrappers(), self._record]

    def _record(self, _service: str, _method: str, handler: Handler) -> Handler:
        async def recorded(request: Any, context: Any) -> Any:
            credentials = credentials_of(context)
            self.seen.append((credentials, await authenticate(self._authenticators(), credentials)))
            return await handler(request, context)

        return recorded


@contextlib.asynccontextmanager
async def tls_server(pki: Pki, mutual: bool = True) -> AsyncIterator[RecordingServer]:
    config = ServerConfig(
        ip="127.0.0.1",
        port=0,
        http_port=0,
        db=":memory:",
        tls_cert=str(pki.server_cert),
        tls_key=str(pki.server_key),
        tls_client_ca=str(pki.client_ca) if mutual else "",
        tls_client_roles=str(pki.roles) if mutual else "",
    )
    server = RecordingServer(config)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture(scope="module")
async def mtls(pki: Pki) -> AsyncIterator[RecordingServer]:
    async with tls_server(pki) as server:
        yield server


def addresses(server: Server) -> tuple[str, str]:
    assert server.addresses is not None
    return server.addresses.grpc, f"https://{server.addresses.http}"


def sdk_tls(pki: Pki, client: Issued | None) -> TLSConfig:
    return TLSConfig(
        server_root_ca_cert=pki.ca.pem,
        client_cert=None if client is None else client.certificate,
        client_private_key=None if client is None else client.private_key,
    )


async def test_the_sdk_runs_a_workflow_over_mtls(pki: Pki, mtls: RecordingServer) -> None:
    client = await Client.connect(addresses(mtls)[0], tls=sdk_tls(pki, pki.alice))
    task_queue = f"tq-{uuid.uuid4().hex[:8]}"
    async with worker_for(client, task_queue, Registered([OneActivity], ALL_ACTIVITIES)):
        result = await client.execute_workflow(
            OneActivity.run, "mTLS", id=f"wf-{uuid.uuid4().hex[:8]}", task_queue=task_queue
        )
    assert result == "Hello, mTLS!"


async def test_the_client_certificate_reaches_the_call_and_names_the_principal(
    pki: Pki, mtls: RecordingServer
) -> None:
    mtls.seen.clear()
    client = await Client.connect(addresses(mtls)[0], tls=sdk_tls(pki, pki.alice))
    await client.count_workflows()
    credentials, principal = mtls.seen[-1]
    assert credentials.client_certificate is not None
    assert common_name_of(credentials.client_certificate) == "alice"
    assert principal is not None
    assert (principal.kind, principal.name) == (PrincipalKind.CERTIFICATE, "alice@example")
    assert principal.roles_on("default") == {Role.READER}


async def test_a_plain_client_is_refused(mtls: RecordingServer) -> None:
    with pytest.raises(RuntimeError):
        await Client.connect(addresses(mtls)[0])


async def test_a_client_without_a_certificate_is_refused_under_mtls(pki: Pki, mtls: RecordingServer) -> None:
    with pytest.raises(RuntimeError):
        await Client.connect(addresses(mtls)[0], tls=sdk_tls(pki, None))


async def test_a_certificate_from_another_ca_is_refused(pki: Pki, mtls: RecordingServer) -> None:
    with pytest.raises(RuntimeError):
        await Client.connect(addresses(mtls)[0], tls=sdk_tls(pki, pki.stranger))


async def test_tls_without_client_certificates_serves_any_client_that_trusts_it(pki: Pki) -> None:
    async with tls_server(pki, mutual=False) as server:
        client = await Client.connect(addresses(server)[0], tls=sdk_tls(pki, None))
        await client.count_workflows()
        credentials, principal = server.seen[-1]
        assert (credentials.client_certificate, principal) == (None, None)
        with pytest.raises(RuntimeError):
            await Client.connect(addresses(server)[0])


def https_context(pki: Pki, client: Issued | None) -> ssl.SSLContext:
    context = ssl.create_default_context(cadata=pki.ca.pem.decode())
    if client is not None:
        cert, key = client.write(pki.directory, f"client-{uuid.uuid4().hex[:8]}")
        context.load_cert_chain(cert, key)
    return context


async def test_the_http_api_and_health_answer_over_https_with_the_certificate(
    pki: Pki, mtls: RecordingServer
) -> None:
    mtls.seen.clear()
    async with httpx.AsyncClient(base_url=addresses(mtls)[1], verify=https_context(pki, pki.alice)) as http:
        assert (await http.get("/healthz")).status_code == 200
        answer = await http.get("/api/v1/namespaces/default")
    assert answer.status_code == 200, answer.text
    assert answer.json()["namespaceInfo"]["name"] == "default"
    credentials, principal = mtls.seen[-1]
    assert credentials.client_certificate is not None
    assert common_name_of(credentials.client_certificate) == "alice"
    assert principal is not None and principal.name == "alice@example"


async def test_the_ui_calls_carry_the_browsers_certificate(pki: Pki, mtls: RecordingServer) -> None:
    mtls.seen.clear()
    async with httpx.AsyncClient(base_url=addresses(mtls)[1], verify=https_context(pki, pki.alice)) as http:
        page = await http.get("/namespaces", headers={"accept": "text/html"})
    assert page.status_code == 200, page.text
    assert mtls.seen, "the page made no calls"
    for credentials, principal in mtls.seen:
        assert credentials.client_certificate is not None
        assert principal is not None and principal.name == "alice@example"


@pytest.mark.parametrize("who", ["no certificate", "another CA"])
async def test_https_refuses_clients_without_a_good_certificate(
    pki: Pki, mtls: RecordingServer, who: str
) -> None:
    client = None if who == "no certificate" else pki.stranger
    async with httpx.AsyncClient(base_url=addresses(mtls)[1], verify=https_context(pki, client)) as http:
        with pytest.raises(httpx.TransportError):
            await http.get("/healthz")


async def test_plain_http_is_refused_on_the_https_port(mtls: RecordingServer) -> None:
    plain = addresses(mtls)[1].replace("https://", "http://")
    async with httpx.AsyncClient(base_url=plain) as http:
        with pytest.raises(httpx.TransportError):
            await http.get("/healthz")


async def served_common_name(address: str, context: ssl.SSLContext) -> str:
    """The CN of the certificate a new TLS connection to ``address`` is served."""
    host, port = address.rsplit(":", 1)
    _reader, writer = await asyncio.open_connection(host, int(port), ssl=context)
    try:
        der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
        return common_name_of(ssl.DER_cert_to_PEM_cert(der).encode())
    finally:
        writer.close()
        with contextlib.suppress(ssl.SSLError, ConnectionError):
            await writer.wait_closed()


def replace_file(path: Path, content: bytes) -> None:
    """Write ``content`` beside ``path`` and rename it over, as certificate renewal tools do."""
    staged = path.with_suffix(".new")
    staged.write_bytes(content)
    os.replace(staged, path)


@contextlib.contextmanager
def fresh_pki(pki: Pki, tmp_path: Path) -> Iterator[Pki]:
    """A copy of ``pki`` whose server files this test may rewrite."""
    cert, key = pki.ca.server("first").write(tmp_path, "server")
    yield Pki(tmp_path, pki.ca, cert, key, pki.client_ca, pki.roles, pki.alice, pki.stranger)


async def test_a_renewed_certificate_is_served_to_new_connections(pki: Pki, tmp_path: Path) -> None:
    with fresh_pki(pki, tmp_path) as own:
        async with tls_server(own) as server:
            grpc_address, http_url = addresses(server)
            http_address = http_url.removeprefix("https://")
            context = https_context(own, own.alice)
            client = await Client.connect(grpc_address, tls=sdk_tls(own, own.alice))
            assert await served_common_name(http_address, context) == "first"
            assert await served_common_name(grpc_address, context) == "first"

            renewed = own.ca.server("second")
            replace_file(own.server_cert, renewed.certificate)
            # Half-written: the key is still the old one, so the old certificate goes on.
            assert await served_common_name(http_address, context) == "first"
            assert await served_common_name(grpc_address, context) == "first"
            replace_file(own.server_key, renewed.private_key)

            assert await served_common_name(http_address, context) == "second"
            assert await served_common_name(grpc_address, context) == "second"
            await client.count_workflows()  # a connection made before goes on
            renewed_client = await Client.connect(grpc_address, tls=sdk_tls(own, own.alice))
            await renewed_client.count_workflows()
            async with httpx.AsyncClient(base_url=http_url, verify=context) as http:
                assert (await http.get("/healthz")).status_code == 200


async def run_cadenza(*args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cadenza",
        "server",
        "start",
        "--db",
        ":memory:",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, output.decode()


async def test_the_command_refuses_unusable_tls_files_in_one_line(pki: Pki, tmp_path: Path) -> None:
    missing = tmp_path / "missing.key"
    code, output = await run_cadenza("--tls-cert", str(pki.server_cert), "--tls-key", str(missing))
    assert (code, output) == (1, f"cadenza: --tls-key {missing}: cannot read: No such file or directory\n")
    code, output = await run_cadenza("--tls-client-ca", str(pki.client_ca))
    assert code == 2 and "--tls-client-ca needs --tls-cert and --tls-key" in output


async def test_the_command_serves_https_and_grpc_with_tls_from_its_variables(
    pki: Pki, tmp_path: Path
) -> None:
    port, http_port = free_port(), free_port()
    env = {
        "CADENZA_TLS_CERT": str(pki.server_cert),
        "CADENZA_TLS_KEY": str(pki.server_key),
        "CADENZA_TLS_CLIENT_CA": str(pki.client_ca),
    }
    argv = [sys.executable, "-m", "cadenza", "server", "start", "--db", ":memory:"]
    server = ServerProcess(
        [*argv, "--port", str(port), "--http-port", str(http_port)], port, tmp_path / "log", env
    )
    server.start()
    try:
        async with httpx.AsyncClient(verify=https_context(pki, pki.alice)) as http:

            async def healthy() -> bool:
                with contextlib.suppress(httpx.TransportError):
                    return (await http.get(f"https://127.0.0.1:{http_port}/healthz")).status_code == 200
                assert server.returncode is None, server.log_text()
                return False

            await eventually(healthy)
        client = await Client.connect(server.address, tls=sdk_tls(pki, pki.alice))
        await client.count_workflows()
    finally:
        server.stop()
