"""Shared fixtures: one live Cadenza server process for the session, a fresh in-process server
for one test, and SDK clients on them (tests/servers.py says which to use when)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from temporalio.client import Client

from tests.servers import InProcessServer, ServerProcess, cadenza, in_process, temporal_dev_client


@pytest.fixture(scope="session")
def cadenza_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    workdir = tmp_path_factory.mktemp("cadenza")
    server = cadenza(workdir / "cadenza.db", workdir / "server.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
async def client(cadenza_server: ServerProcess) -> AsyncIterator[Client]:
    await cadenza_server.wait_ready()
    yield await Client.connect(cadenza_server.address)


@pytest.fixture
async def in_process_server() -> AsyncIterator[InProcessServer]:
    """A Cadenza server of this test's own, in this process, starting empty."""
    async with in_process() as server:
        yield server


@pytest.fixture
async def in_process_client(in_process_server: InProcessServer) -> Client:
    return await Client.connect(in_process_server.address)


@pytest.fixture(scope="session")
async def temporal_client(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Client]:
    """A client of the real Temporal dev server, for the differential tests; one for the session."""
    async with temporal_dev_client(tmp_path_factory.mktemp("temporal")) as temporal_client:
        yield temporal_client


@pytest.fixture
def task_queue() -> str:
    return f"tq-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def workflow_id() -> str:
    return f"wf-{uuid.uuid4().hex[:12]}"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Cheap tests first: unit, then integration, then acceptance."""
    order = {"unit": 0, "integration": 1, "acceptance": 2}
    items.sort(
        key=lambda item: next(
            (rank for name, rank in order.items() if f"/{name}/" in str(Path(str(item.fspath)))), 3
        )
    )
