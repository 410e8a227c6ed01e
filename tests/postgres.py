"""PostgreSQL for tests: the server the environment names, or a private cluster started here.

- ``CADENZA_TEST_DB=postgresql://user@host:port/db`` runs the whole suite on
  PostgreSQL: every test server and every store test gets a fresh database on
  that server (the user needs CREATEDB).
- ``CADENZA_TEST_POSTGRES=postgresql://...`` gives the store contract tests a
  PostgreSQL server while test servers stay on SQLite.
- With neither, the contract tests start a throwaway cluster from the installed
  PostgreSQL binaries (``initdb``, ``pg_ctl``), or skip PostgreSQL if there are none.
"""

from __future__ import annotations

import asyncio
import glob
import hashlib
import os
import pwd
import shutil
import subprocess
import tempfile
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from tests.helpers import free_port

WHOLE_SUITE_VAR = "CADENZA_TEST_DB"
CONTRACT_VAR = "CADENZA_TEST_POSTGRES"


def suite_server() -> str | None:
    """The PostgreSQL server the whole suite runs on, if the environment asks for one."""
    url = os.environ.get(WHOLE_SUITE_VAR, "")
    return url if url.startswith(("postgres://", "postgresql://")) else None


def configured_server() -> str | None:
    """A PostgreSQL server named by the environment, for the contract tests."""
    return suite_server() or os.environ.get(CONTRACT_VAR) or None


def with_database(server_url: str, name: str) -> str:
    """``server_url`` pointing at database ``name`` instead."""
    parts = urlsplit(server_url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


async def create_database(server_url: str, name: str | None = None) -> str:
    """Create database ``name`` (a fresh random one by default) unless it exists; return its URL."""
    name = name or f"cadenza_test_{uuid.uuid4().hex[:16]}"
    conn = await asyncpg.connect(server_url)
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return with_database(server_url, name)


async def drop_database(server_url: str, database_url: str) -> None:
    """Drop the database ``database_url`` names on ``server_url``, cutting whoever is still on it."""
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(
            f'DROP DATABASE IF EXISTS "{urlsplit(database_url).path.lstrip("/")}" WITH (FORCE)'
        )
    finally:
        await conn.close()


def database_for_path(server_url: str, path: Path) -> str:
    """The database standing in for SQLite file ``path``: the same path always maps to the same one,
    so a test that restarts its server on the same file finds its data again."""
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:20]
    result: list[str] = []
    # Callable from inside a running event loop (async tests), so run on a thread of its own.
    worker = threading.Thread(
        target=lambda: result.append(asyncio.run(create_database(server_url, f"cadenza_test_{digest}")))
    )
    worker.start()
    worker.join()
    if not result:
        raise RuntimeError(f"could not create a test database on {server_url}")
    return result[0]


@contextmanager
def any_server() -> Iterator[str | None]:
    """The configured server's URL, else a private cluster's while the block runs;
    None when there is neither (PostgreSQL is not installed)."""
    configured = configured_server()
    if configured:
        yield configured
        return
    bin_dir = binaries()
    if bin_dir is None:
        yield None
        return
    cluster = Cluster(bin_dir)
    cluster.start()
    try:
        yield cluster.url
    finally:
        cluster.stop()


def binaries() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl``, if PostgreSQL is installed."""
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    return Path(candidates[0]).parent if candidates else None


class Cluster:
    """A private PostgreSQL cluster in a temporary folder on a free loopback port.

    PostgreSQL refuses to run as root, so under root it runs as the ``postgres``
    system user, which the Debian packages create.
    """

    def __init__(self, bin_dir: Path, *, crash_safe: bool = False) -> None:
        self._bin = bin_dir
        self._crash_safe = crash_safe
        """Keep every acknowledged commit through a crash of PostgreSQL (not of the machine)."""
        self._dir = Path(tempfile.mkdtemp(prefix="cadenza-pg-"))
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self._dir, owner.pw_uid, owner.pw_gid)
        data = self._dir / "data"
        self._run("initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        self._pg_ctl("start")

    def restart(self, mode: str = "fast") -> None:
        """Stop the cluster (cutting every connection) and start it again; ``mode="immediate"``
        stops it as a crash does, so it recovers from its WAL at start (a ``crash_safe``
        cluster keeps every commit it acknowledged)."""
        self._pg_ctl("restart", "-m", mode)

    def pause(self) -> None:
        """Stop the cluster, cutting every connection, keeping its data for ``resume``."""
        self._run("pg_ctl", "-D", str(self._dir / "data"), "-m", "fast", "-w", "stop")

    def resume(self) -> None:
        """Start a paused cluster again, on the same port."""
        self._pg_ctl("start")

    def _pg_ctl(self, action: str, *flags: str) -> None:
        data, log = str(self._dir / "data"), str(self._dir / "log")
        self._run("pg_ctl", "-D", data, "-l", log, "-o", self._options(), *flags, "-w", action)

    def _options(self) -> str:
        # fsync off: a test cluster needs no durability against power loss, and it keeps the
        # shared machine quick (a clean restart still keeps every commit). Asynchronous commit
        # loses the last commits when PostgreSQL itself crashes, so a crash-safe cluster waits.
        synchronous_commit = "on" if self._crash_safe else "off"
        return (
            f"-p {self.port} -k {self._dir} -c listen_addresses=127.0.0.1 -c fsync=off "
            f"-c synchronous_commit={synchronous_commit} -c full_page_writes=off -c max_connections=500"
        )

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self._dir / "data"), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self._dir, ignore_errors=True)

    def _run(self, program: str, *args: str) -> None:
        argv = [str(self._bin / program), *args]
        if os.geteuid() == 0:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        subprocess.run(argv, check=True, capture_output=True, cwd=self._dir)
