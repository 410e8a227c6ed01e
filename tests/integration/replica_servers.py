"""Cadenza replicas as real server processes sharing one database, for the replica tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from tests import servers


@asynccontextmanager
async def replicas(
    url: str, tmp_path: Path, count: int, extra_args: tuple[str, ...] = ()
) -> AsyncIterator[list[servers.ServerProcess]]:
    """``count`` replicas on the database ``url``, started together and ready; each logs to
    ``tmp_path``. All are stopped when the block ends (the block may stop some itself)."""
    started = [
        servers.cadenza_at(url, tmp_path / f"replica-{i}.log", extra_args=extra_args) for i in range(count)
    ]
    try:
        for server in started:
            server.start()
        for server in started:
            await server.wait_ready()
        yield started
    finally:
        for server in started:
            server.stop()


def http_address(replica: servers.ServerProcess) -> str:
    """The base URL of the replica's HTTP port."""
    return f"http://127.0.0.1:{replica.argv[replica.argv.index('--http-port') + 1]}"
