"""A JWT sent over mTLS: the token, asked before the certificate, names the caller; its key read
from a PEM file given with --jwt-key-file."""

from __future__ import annotations

import uuid
from pathlib import Path

from temporalio.client import Client
from temporalio.service import TLSConfig

from tests.certificates import CertificateAuthority
from tests.jwt_issuer import Issuer, ec_key
from tests.servers import in_process

ROLES = """
[[rule]]
cn = "auditor"
roles = { default = ["reader"] }
"""


async def test_a_write_token_over_a_reader_certificate_starts_as_the_token_says(tmp_path: Path) -> None:
    ca = CertificateAuthority("jwt CA")
    cert, key = ca.server().write(tmp_path, "server")
    (tmp_path / "ca.pem").write_bytes(ca.pem)
    (tmp_path / "roles.toml").write_text(ROLES)
    issuer = Issuer(ec_key("signing"))
    (tmp_path / "jwt.pem").write_bytes(issuer.keys[0].public_pem())
    reader = ca.client("auditor")
    tls = TLSConfig(
        server_root_ca_cert=ca.pem, client_cert=reader.certificate, client_private_key=reader.private_key
    )
    async with in_process(
        auth=True,
        tls_cert=str(cert),
        tls_key=str(key),
        tls_client_ca=str(tmp_path / "ca.pem"),
        tls_client_roles=str(tmp_path / "roles.toml"),
        jwt_key_file=str(tmp_path / "jwt.pem"),
    ) as server:
        client = await Client.connect(server.address, tls=tls, api_key=issuer.token("app", ["default:write"]))
        workflow_id = f"wf-{uuid.uuid4().hex[:8]}"
        await client.start_workflow("Anything", id=workflow_id, task_queue="nobody-polls")
        listed = [execution.id async for execution in client.list_workflows()]
    assert workflow_id in listed
