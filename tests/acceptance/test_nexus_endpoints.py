"""Nexus endpoints through OperatorService: created, read, updated on their version, listed and
deleted, refused with the real server's codes and messages, and driven by the `temporal` CLI."""

from __future__ import annotations

import subprocess
import uuid

import pytest
from temporalio.api.nexus.v1 import EndpointSpec, EndpointTarget
from temporalio.api.operatorservice.v1 import (
    CreateNexusEndpointRequest,
    DeleteNexusEndpointRequest,
    GetNexusEndpointRequest,
    ListNexusEndpointsRequest,
    UpdateNexusEndpointRequest,
)
from temporalio.client import Client
from temporalio.service import RPCError

from tests import servers
from tests.servers import ServerProcess

MISSING = "00000000-0000-0000-0000-000000000000"


def worker_spec(name: str, namespace: str = "default", task_queue: str = "tq") -> EndpointSpec:
    target = EndpointTarget(worker=EndpointTarget.Worker(namespace=namespace, task_queue=task_queue))
    return EndpointSpec(name=name, target=target)


async def refusal(call: object) -> tuple[int, str]:
    with pytest.raises(RPCError) as caught:
        await call  # type: ignore[misc]
    return int(caught.value.status), caught.value.message


async def refusals(client: Client) -> list[tuple[int, str]]:
    """The answers to bad requests, with the names made the same on every server."""
    op = client.operator_service
    name = f"ep-{uuid.uuid4().hex[:8]}"
    created = await op.create_nexus_endpoint(CreateNexusEndpointRequest(spec=worker_spec(name)))
    endpoint_id = created.endpoint.id
    answers = [
        await refusal(op.create_nexus_endpoint(CreateNexusEndpointRequest(spec=worker_spec(name)))),
        await refusal(op.create_nexus_endpoint(CreateNexusEndpointRequest(spec=worker_spec("bad name")))),
        await refusal(op.create_nexus_endpoint(CreateNexusEndpointRequest(spec=worker_spec("")))),
        await refusal(op.create_nexus_endpoint(CreateNexusEndpointRequest(spec=worker_spec("a" * 201)))),
        await refusal(op.create_nexus_endpoint(CreateNexusEndpointRequest(spec=EndpointSpec(name="no-t")))),
        await refusal(op.create_nexus_endpoint(CreateNexusEndpointRequest(spec=worker_spec("n", "nope")))),
        await refusal(
            op.create_nexus_endpoint(CreateNexusEndpointRequest(spec=worker_spec("q-1", task_queue="")))
        ),
        await refusal(op.get_nexus_endpoint(GetNexusEndpointRequest(id=MISSING))),
        await refusal(op.get_nexus_endpoint(GetNexusEndpointRequest(id=""))),
        await refusal(op.get_nexus_endpoint(GetNexusEndpointRequest(id="garbage"))),
        await refusal(
            op.update_nexus_endpoint(
                UpdateNexusEndpointRequest(id=endpoint_id, version=7, spec=worker_spec(name))
            )
        ),
        await refusal(
            op.update_nexus_endpoint(
                UpdateNexusEndpointRequest(id=MISSING, version=1, spec=worker_spec(name))
            )
        ),
        await refusal(op.delete_nexus_endpoint(DeleteNexusEndpointRequest(id=MISSING, version=1))),
    ]
    await op.delete_nexus_endpoint(DeleteNexusEndpointRequest(id=endpoint_id, version=1))
    return [(code, message.replace(name, "NAME")) for code, message in answers]


async def test_an_endpoint_lives_through_its_versions(client: Client) -> None:
    op = client.operator_service
    name = f"ep-{uuid.uuid4().hex[:8]}"
    created = (await op.create_nexus_endpoint(CreateNexusEndpointRequest(spec=worker_spec(name)))).endpoint
    assert created.version == 1 and created.HasField("created_time")
    assert created.url_prefix == f"/nexus/endpoints/{created.id}/services"
    got = (await op.get_nexus_endpoint(GetNexusEndpointRequest(id=created.id))).endpoint
    assert got == created

    moved = worker_spec(f"{name}-moved", task_queue="elsewhere")
    update = UpdateNexusEndpointRequest(id=created.id, version=1, spec=moved)
    updated = (await op.update_nexus_endpoint(update)).endpoint
    assert (updated.version, updated.spec) == (2, moved)
    assert updated.HasField("last_modified_time")
    by_name = await op.list_nexus_endpoints(ListNexusEndpointsRequest(name=moved.name))
    assert [e.id for e in by_name.endpoints] == [created.id]
    assert not (await op.list_nexus_endpoints(ListNexusEndpointsRequest(name=name))).endpoints

    await op.delete_nexus_endpoint(DeleteNexusEndpointRequest(id=created.id, version=2))
    code, _ = await refusal(op.get_nexus_endpoint(GetNexusEndpointRequest(id=created.id)))
    assert code == 5  # NOT_FOUND


async def test_listing_pages_through_every_endpoint(in_process_client: Client) -> None:
    op = in_process_client.operator_service
    names = {f"page-{i}" for i in range(5)}
    for name in names:
        await op.create_nexus_endpoint(CreateNexusEndpointRequest(spec=worker_spec(name)))
    seen: list[str] = []
    token = b""
    while True:
        page = await op.list_nexus_endpoints(ListNexusEndpointsRequest(page_size=2, next_page_token=token))
        seen += [e.spec.name for e in page.endpoints]
        token = page.next_page_token
        if not token:
            break
    assert sorted(seen) == sorted(names)


@pytest.mark.differential
async def test_bad_requests_are_refused_as_on_the_real_server(
    client: Client, temporal_client: Client
) -> None:
    assert await refusals(client) == await refusals(temporal_client)


@pytest.mark.skipif(servers.temporal_binary() is None, reason="temporal CLI not installed")
def test_the_cli_creates_updates_and_deletes_an_endpoint(cadenza_server: ServerProcess) -> None:
    name = f"cli-{uuid.uuid4().hex[:8]}"

    def cli(*args: str) -> str:
        binary = servers.temporal_binary()
        assert binary is not None
        done = subprocess.run(
            [binary, "--address", cadenza_server.address, "operator", "nexus", "endpoint", *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    cli("create", "--name", name, "--target-namespace", "default", "--target-task-queue", "tq")
    cli("update", "--name", name, "--target-task-queue", "tq2", "--description", "the second")
    shown = cli("get", "--name", name)
    assert "tq2" in shown and "the second" in shown
    assert name in cli("list")
    cli("delete", "--name", name)
    assert name not in cli("list")


@pytest.mark.differential
async def test_every_fault_of_a_spec_is_named_as_on_the_real_server(
    client: Client, temporal_client: Client
) -> None:
    def target(namespace: str, task_queue: str) -> EndpointTarget:
        return EndpointTarget(worker=EndpointTarget.Worker(namespace=namespace, task_queue=task_queue))

    specs = [
        EndpointSpec(name="n"),
        EndpointSpec(name="n", target=target("nope", "tq")),
        EndpointSpec(name="n", target=target("default", "")),
        EndpointSpec(name="", target=target("nope", "")),
        EndpointSpec(name="ok-1", target=target("", "tq")),
    ]

    async def answers(on: Client) -> list[tuple[int, str]]:
        op = on.operator_service
        return [await refusal(op.create_nexus_endpoint(CreateNexusEndpointRequest(spec=s))) for s in specs]

    assert await answers(client) == await answers(temporal_client)


@pytest.mark.differential
async def test_listing_answers_bad_pages_and_names_as_the_real_server(
    client: Client, temporal_client: Client
) -> None:
    async def answers(on: Client) -> list[object]:
        op = on.operator_service
        found = await op.list_nexus_endpoints(ListNexusEndpointsRequest(name="no such name!"))
        negative = await refusal(op.list_nexus_endpoints(ListNexusEndpointsRequest(page_size=-1)))
        return [list(found.endpoints), negative]

    assert await answers(client) == await answers(temporal_client)
