"""One Cadenza server in this process for the HTTP tests of a module, an httpx client on its HTTP
port, and an SDK worker on its gRPC port running the messages workflows; for the differential
tests, a Cadenza server and the real Temporal dev server side by side."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from temporalio.client import Client
from temporalio.worker import Worker

from tests import servers
from tests.acceptance import workflows_messages as wm
from tests.helpers import Registered, eventually, worker_for
from tests.servers import InProcessServer, in_process


@pytest.fixture(scope="module")
async def web_server() -> AsyncIterator[InProcessServer]:
    async with in_process(http_port=0) as server:
        yield server


@pytest.fixture(scope="module")
async def http(web_server: InProcessServer) -> AsyncIterator[httpx.AsyncClient]:
    assert web_server.server.addresses is not None
    async with httpx.AsyncClient(base_url=f"http://{web_server.server.addresses.http}", timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
async def sdk_client(web_server: InProcessServer) -> Client:
    return await Client.connect(web_server.address)


@pytest.fixture
async def mailbox_worker(sdk_client: Client, task_queue: str) -> AsyncIterator[Worker]:
    async with worker_for(sdk_client, task_queue, Registered(wm.WORKFLOWS)) as running:
        yield running


@dataclass(frozen=True)
class HttpPair:
    """Cadenza and the real Temporal dev server: an HTTP client and the gRPC address of each."""

    ours: httpx.AsyncClient
    real: httpx.AsyncClient
    ours_grpc: str
    real_grpc: str


@pytest.fixture(scope="session")
async def http_pair(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[HttpPair]:
    workdir = tmp_path_factory.mktemp("temporal-http")
    temporal = servers.temporal(workdir / "temporal.db", workdir / "temporal.log")
    temporal_http = f"http://127.0.0.1:{temporal.argv[temporal.argv.index('--http-port') + 1]}"
    temporal.start()
    try:
        await temporal.wait_ready()
        async with in_process(http_port=0) as cadenza:
            assert cadenza.server.addresses is not None
            async with (
                httpx.AsyncClient(base_url=f"http://{cadenza.server.addresses.http}", timeout=30) as ours,
                httpx.AsyncClient(base_url=temporal_http, timeout=30) as real,
            ):
                await eventually(lambda: _serving(real))
                yield HttpPair(ours, real, cadenza.address, temporal.address)
    finally:
        temporal.stop()


async def _serving(client: httpx.AsyncClient) -> bool:
    try:
        return (await client.get("/api/v1/system-info")).status_code == 200
    except httpx.TransportError:
        return False
