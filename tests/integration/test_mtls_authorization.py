"""mTLS with --auth: the client certificate is the caller, and its mapped roles decide. Each
role's certificate calls exactly the RPC families its role covers; a worker-role certificate
runs a worker and nothing else; a certificate mapped to reader lists but does not start, over
gRPC and over HTTPS alike; one no rule maps is known by name and may do nothing."""

from __future__ import annotations

import ssl
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode, TLSConfig
from temporalio.worker import Worker

from cadenza.auth.principal import Role
from tests.acceptance.workflows_auth import Greeting, greet
from tests.auth_matrix import ALLOWED, CLUSTER_ADMIN, wrong_cells
from tests.certificates import CertificateAuthority, Issued
from tests.servers import InProcessServer, in_process

ROLES = """
[[rule]]
cn = "auditor"
roles = { default = ["reader"] }

[[rule]]
dns = "*.writers.example"
name = "writers"
roles = { default = ["writer"] }

[[rule]]
uri = "spiffe://cadenza.test/ops/*"
name = "ops"
cluster_admin = true
""" + "".join(f'\n[[rule]]\ncn = "role-{role}"\nroles = {{ default = ["{role}"] }}\n' for role in Role)
"""Besides the rules above, a certificate named ``role-<role>`` holds that role on ``default``."""


@dataclass(frozen=True)
class Setup:
    ca: CertificateAuthority
    directory: Path
    server: InProcessServer

    def sdk(self, client: Issued) -> TLSConfig:
        return TLSConfig(
            server_root_ca_cert=self.ca.pem,
            client_cert=client.certificate,
            client_private_key=client.private_key,
        )

    def https(self, client: Issued) -> httpx.AsyncClient:
        context = ssl.create_default_context(cadata=self.ca.pem.decode())
        context.load_cert_chain(*client.write(self.directory, f"client-{uuid.uuid4().hex[:8]}"))
        assert self.server.server.addresses is not None
        return httpx.AsyncClient(base_url=f"https://{self.server.server.addresses.http}", verify=context)


@pytest.fixture(scope="module")
async def setup(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Setup]:
    directory = tmp_path_factory.mktemp("mtls-auth")
    ca = CertificateAuthority("auth CA")
    cert, key = ca.server().write(directory, "server")
    (directory / "ca.pem").write_bytes(ca.pem)
    (directory / "roles.toml").write_text(ROLES)
    async with in_process(
        auth=True,
        tls_cert=str(cert),
        tls_key=str(key),
        tls_client_ca=str(directory / "ca.pem"),
        tls_client_roles=str(directory / "roles.toml"),
    ) as server:
        yield Setup(ca, directory, server)


async def start(client: Client) -> str:
    workflow_id = f"wf-{uuid.uuid4().hex[:8]}"
    await client.start_workflow("Anything", id=workflow_id, task_queue="nobody-polls")
    return workflow_id


def certificate_of(setup: Setup, holder: str) -> Issued:
    if holder == CLUSTER_ADMIN:
        return setup.ca.client(None, uri=("spiffe://cadenza.test/ops/root",))
    return setup.ca.client(f"role-{holder}")


async def test_each_roles_certificate_may_call_exactly_the_families_its_role_covers(setup: Setup) -> None:
    wrong = {}
    for holder, allowed in ALLOWED.items():
        client = await Client.connect(setup.server.address, tls=setup.sdk(certificate_of(setup, holder)))
        cells = await wrong_cells(client, allowed, "default")
        if cells:
            wrong[holder] = cells
    assert wrong == {}


async def test_a_worker_certificate_runs_a_worker_for_a_writer_and_can_do_nothing_else(
    setup: Setup, task_queue: str
) -> None:
    worker_client = await Client.connect(setup.server.address, tls=setup.sdk(certificate_of(setup, "worker")))
    writer = await Client.connect(setup.server.address, tls=setup.sdk(certificate_of(setup, "writer")))
    async with Worker(worker_client, task_queue=task_queue, workflows=[Greeting], activities=[greet]):
        result = await writer.execute_workflow(
            Greeting.run, "ada", id=f"greet-{uuid.uuid4().hex[:8]}", task_queue=task_queue
        )
    assert result == "hello ada"
    with pytest.raises(RPCError) as started:
        await start(worker_client)
    assert started.value.status is RPCStatusCode.PERMISSION_DENIED


async def test_a_writer_certificate_starts_and_a_reader_certificate_lists_but_does_not_start(
    setup: Setup,
) -> None:
    writer = await Client.connect(
        setup.server.address, tls=setup.sdk(setup.ca.client(None, dns=("a.writers.example",)))
    )
    started = await start(writer)
    reader = await Client.connect(setup.server.address, tls=setup.sdk(setup.ca.client("auditor")))
    listed = [execution.id async for execution in reader.list_workflows()]
    assert started in listed
    with pytest.raises(RPCError) as refused:
        await start(reader)
    assert refused.value.status == RPCStatusCode.PERMISSION_DENIED


async def test_a_certificate_no_rule_maps_may_do_nothing(setup: Setup) -> None:
    client = await Client.connect(setup.server.address, tls=setup.sdk(setup.ca.client("stranger")))
    with pytest.raises(RPCError) as refused:
        await client.count_workflows()
    assert refused.value.status == RPCStatusCode.PERMISSION_DENIED


async def test_over_https_a_reader_certificate_lists_but_does_not_start(setup: Setup) -> None:
    async with setup.https(setup.ca.client("auditor")) as http:
        listed = await http.get("/api/v1/namespaces/default/workflows")
        assert listed.status_code == 200, listed.text
        started = await http.post(
            f"/api/v1/namespaces/default/workflows/wf-{uuid.uuid4().hex[:8]}",
            json={"workflowType": {"name": "Anything"}, "taskQueue": {"name": "nobody-polls"}},
        )
    assert started.status_code == 403, started.text
