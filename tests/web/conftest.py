"""One Cadenza server in this process for the HTTP tests of a module, an httpx client on its HTTP
port, and an SDK worker on its gRPC port running the messages workflows."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from temporalio.client import Client
from temporalio.worker import Worker

from tests.acceptance import workflows_messages as wm
from tests.helpers import Registered, worker_for
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
