"""Starting, probing and stopping the servers under test.

Each server runs in its own session with its output going to a log file (a
pipe nobody reads could fill up and stall the server). Shutdown is always
SIGTERM first, so durable databases are closed cleanly, then SIGKILL after a
timeout so a wedged server can never hang the benchmark.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import psutil
from temporalio.client import Client

LOOPBACK = "127.0.0.1"
STOP_TIMEOUT_S = 15.0
READY_TIMEOUT_S = 60.0
LOG_TAIL_CHARS = 2000
# The environment variable that hands a worker process its API key (kept off the command line).
API_KEY_ENV = "CADENZA_BENCH_API_KEY"


class ServerError(RuntimeError):
    """A server could not be started or died while being benchmarked."""


@dataclass(frozen=True)
class ServerPorts:
    """The loopback ports a server instance binds."""

    grpc: int
    http: int


def free_ports(count: int) -> list[int]:
    """Pick `count` distinct loopback ports nothing listens on, none picked before.

    They are drawn below the kernel's ephemeral range: a port the kernel picks
    for `bind(0)` can go to an outgoing connection's local end before the
    server told to listen on it binds it, and that server then fails to start.
    """
    low = _ephemeral_ports_start()
    ports: list[int] = []
    while len(ports) < count:
        port = random.randrange(LOWEST_PORT, low)
        if port not in _picked and _bindable(port):
            _picked.add(port)
            ports.append(port)
    return ports


LOWEST_PORT = 10_000
_picked: set[int] = set()


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((LOOPBACK, port))
        except OSError:
            return False
    return True


def _ephemeral_ports_start() -> int:
    """The first port of the kernel's range for outgoing connections, if it leaves room below."""
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32_768
    return max(low, LOWEST_PORT + 10_000)


def allocate_ports() -> ServerPorts:
    """Choose fresh gRPC and HTTP ports for one server."""
    grpc, http = free_ports(2)
    return ServerPorts(grpc=grpc, http=http)


def resolve_executable(name: str) -> Path | None:
    """Find a console script, preferring the venv of the running interpreter.

    sys.executable is deliberately not resolved: in a venv it is a symlink
    whose *link* directory is the venv's bin dir, which is what we want.
    """
    candidate = Path(sys.executable).parent / name
    if candidate.is_file():
        return candidate
    found = shutil.which(name)
    return Path(found) if found else None


def cadenza_db(workdir: Path, db: Path | None = None) -> str:
    """Cadenza's database: a durable SQLite file in `workdir` (or `db` when given), or
    `CADENZA_BENCH_DB` when set."""
    return os.environ.get("CADENZA_BENCH_DB") or str(db or workdir / "cadenza.db")


def cadenza_command(exe: Path, ports: ServerPorts, workdir: Path, db: Path | None = None) -> list[str]:
    """Command line for Cadenza with a durable SQLite file in `workdir` (or `db` when given).

    `CADENZA_BENCH_DB=postgresql://...` benchmarks it on that PostgreSQL database instead.
    """
    return [
        str(exe), "server", "start",
        "--ip", LOOPBACK,
        "--port", str(ports.grpc),
        "--http-port", str(ports.http),
        "--db", cadenza_db(workdir, db),
    ]  # fmt: skip


def cadenza_replicas() -> int:
    """How many Cadenza servers share the database: `CADENZA_BENCH_REPLICAS` (1).

    More than one needs `CADENZA_BENCH_DB`: only PostgreSQL is shared between servers.
    """
    text = os.environ.get("CADENZA_BENCH_REPLICAS") or "1"
    if not text.isdigit() or int(text) < 1:
        raise ServerError(f"CADENZA_BENCH_REPLICAS must be a count >= 1, got {text!r}")
    count = int(text)
    if count > 1 and not os.environ.get("CADENZA_BENCH_DB", "").startswith(("postgres://", "postgresql://")):
        raise ServerError("CADENZA_BENCH_REPLICAS > 1 needs CADENZA_BENCH_DB=postgresql://...")
    return count


def temporal_command(exe: Path, ports: ServerPorts, workdir: Path) -> list[str]:
    """Command line for the Temporal dev server with a durable SQLite file."""
    return [
        str(exe), "server", "start-dev",
        "--ip", LOOPBACK,
        "--port", str(ports.grpc),
        "--http-port", str(ports.http),
        "--headless",
        "--db-filename", str(workdir / "temporal.db"),
        "--log-level", "error",
    ]  # fmt: skip


def descendants(pid: int) -> list[psutil.Process]:
    """Live descendants of `pid`, captured before shutdown so orphans can be reaped."""
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def kill_leftovers(procs: list[psutil.Process]) -> None:
    """SIGKILL any process that outlived its parent's shutdown.

    psutil checks each process's identity before signalling, so a pid that
    has since been reused by an unrelated process is never hit.
    """
    for proc in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.kill()


class ServerProcess:
    """A running server; a context manager so it is stopped even on errors."""

    def __init__(self, name: str, argv: list[str], log_path: Path) -> None:
        self.name = name
        self.argv = argv
        self.log_path = log_path
        self._popen: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        """Pid of the root server process."""
        if self._popen is None:
            raise ServerError(f"{self.name} was never started")
        return self._popen.pid

    def start(self) -> None:
        """Launch the server in its own session with output going to `log_path`."""
        with self.log_path.open("wb") as log:
            self._popen = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def exit_code(self) -> int | None:
        """The server's exit status, or None while it is still running."""
        return None if self._popen is None else self._popen.poll()

    def log_tail(self) -> str:
        """Last part of the server log, for error messages."""
        try:
            return self.log_path.read_text(errors="replace")[-LOG_TAIL_CHARS:]
        except OSError:
            return ""

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> None:
        """Stop the server: SIGTERM, then SIGKILL after `timeout_s`."""
        popen = self._popen
        if popen is None or popen.poll() is not None:
            return
        children = descendants(popen.pid)
        popen.terminate()
        try:
            popen.wait(timeout_s)
        except subprocess.TimeoutExpired:
            popen.kill()
            popen.wait()
        kill_leftovers(children)

    def __enter__(self) -> ServerProcess:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


async def connect(target: str, api_key: str | None = None, namespace: str = "default") -> Client:
    """An SDK client, presenting `api_key` when the server requires one.

    The SDK turns TLS on whenever it is given an API key; the benchmark's
    servers listen in plain text on loopback, hence `tls=False`.
    """
    if api_key is None:
        return await Client.connect(target, namespace=namespace)
    return await Client.connect(target, namespace=namespace, api_key=api_key, tls=False)


async def wait_until_ready(
    server: ServerProcess, target: str, timeout_s: float = READY_TIMEOUT_S, api_key: str | None = None
) -> Client:
    """Retry `Client.connect` until it succeeds, the server dies, or time runs out.

    A successful connect is the readiness signal because it is the only thing
    both servers are guaranteed to agree on; log lines differ between them.
    """
    deadline = time.monotonic() + timeout_s
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        code = server.exit_code()
        if code is not None:
            raise ServerError(f"{server.name} exited with {code}:\n{server.log_tail()}")
        try:
            return await asyncio.wait_for(connect(target, api_key), timeout=5.0)
        except Exception as err:  # refused, UNAVAILABLE, half-started: all mean "not yet"
            last_error = err
        await asyncio.sleep(0.2)
    raise ServerError(f"{server.name} not ready after {timeout_s:.0f}s ({last_error}):\n{server.log_tail()}")
