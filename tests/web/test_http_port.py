"""The HTTP port itself: bound with the server, health and readiness, one clear line when taken."""

from __future__ import annotations

import asyncio
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from cadenza.config import ServerConfig
from cadenza.server import Server
from tests import postgres
from tests.helpers import eventually, free_port
from tests.servers import InProcessServer, cadenza_at, in_process


async def test_health_and_readiness(http: httpx.AsyncClient) -> None:
    healthz = await http.get("/healthz")
    assert (healthz.status_code, healthz.json()) == (200, {"status": "ok"})
    readyz = await http.get("/readyz")
    assert (readyz.status_code, readyz.json()) == (200, {"status": "ready"})


async def test_port_zero_is_served_on_the_port_bound(web_server: InProcessServer) -> None:
    assert web_server.server.config.http_port == 0
    addresses = web_server.server.addresses
    assert addresses is not None
    host, port = addresses.http.rsplit(":", 1)
    assert host == "127.0.0.1" and int(port) > 0
    async with httpx.AsyncClient() as client:
        assert (await client.get(f"http://{addresses.http}/healthz")).status_code == 200


async def test_a_taken_port_fails_the_start_before_storage_opens(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        db = tmp_path / "never.db"
        with pytest.raises(OSError, match=f"cannot listen for HTTP on 127.0.0.1:{port}"):
            async with in_process(db=db, http_port=port):
                pass
        assert not db.exists()


async def test_the_server_process_says_where_http_is_and_refuses_a_taken_port(tmp_path: Path) -> None:
    http_port = free_port()
    server = cadenza_at(
        str(tmp_path / "c.db"), tmp_path / "server.log", extra_args=("--http-port", str(http_port))
    )
    server.start()
    try:
        await server.wait_ready()
        assert f"and HTTP on 127.0.0.1:{http_port}" in server.log_text()
        async with httpx.AsyncClient() as client:
            assert (await client.get(f"http://127.0.0.1:{http_port}/readyz")).status_code == 200
        second = await asyncio.create_subprocess_exec(
            sys.executable,
            *(
                "-m",
                "cadenza",
                "server",
                "start",
                "--port",
                "0",
                "--http-port",
                str(http_port),
                "--db",
                ":memory:",
            ),
            stderr=asyncio.subprocess.PIPE,
        )
        _, stderr = await asyncio.wait_for(second.communicate(), 60)
    finally:
        server.stop()
    assert second.returncode == 1
    assert stderr.decode().strip().splitlines() == [
        f"cadenza: cannot listen for HTTP on 127.0.0.1:{http_port}: Address already in use"
    ]


@pytest.fixture(scope="module")
def cluster() -> Iterator[postgres.Cluster]:
    bin_dir = postgres.binaries()
    if bin_dir is None:
        pytest.skip("PostgreSQL is not installed")
    pg = postgres.Cluster(bin_dir)
    pg.start()
    yield pg
    pg.stop()


async def test_readyz_follows_storage(cluster: postgres.Cluster) -> None:
    server = Server(ServerConfig(ip="127.0.0.1", port=0, http_port=0, db=cluster.url))
    addresses = await server.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://{addresses.http}", timeout=30) as http:
            assert (await http.get("/readyz")).status_code == 200
            await asyncio.to_thread(cluster.pause)

            async def not_ready() -> None:
                answer = await http.get("/readyz")
                assert answer.status_code == 503
                assert answer.json()["status"] == "not ready"
                assert "storage" in answer.json()["reason"]
                assert (await http.get("/healthz")).status_code == 200

            await eventually(not_ready)
            await asyncio.to_thread(cluster.resume)

            async def ready() -> None:
                assert (await http.get("/readyz")).status_code == 200

            await eventually(ready, timeout=30)
    finally:
        await server.stop()


async def test_calls_in_flight_when_the_server_stops_are_answered_unavailable() -> None:
    async with in_process(http_port=0) as running:
        addresses = running.server.addresses
        assert addresses is not None
        async with httpx.AsyncClient(base_url=f"http://{addresses.http}", timeout=60) as http:
            start = {"workflowType": {"name": "Idle"}, "taskQueue": {"name": "nobody"}}
            assert (
                await http.post("/api/v1/namespaces/default/workflows/idle", json=start)
            ).status_code == 200
            close_event = {
                "waitNewEvent": "true",
                "historyEventFilterType": "HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT",
            }
            waiting = asyncio.ensure_future(
                http.get("/api/v1/namespaces/default/workflows/idle/history", params=close_event)
            )
            api = running.server._http_api
            assert api is not None
            await eventually(lambda: api.calls_in_flight == 1)  # it waits for the run to close
            assert not waiting.done()
            await running.server.stop()
            answer = await waiting
    assert (answer.status_code, answer.json()) == (503, {"code": 14, "message": "the server is stopping"})
