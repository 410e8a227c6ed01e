"""The server under fuzzing: a real Cadenza process, replaced by a fresh one if it stops
answering, each on a database file of its own that is checked once it is stopped."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import grpc

from tests.fuzz.seeds import Seeder, Witnesses, ping
from tests.servers import ServerProcess, cadenza

READY_TIMEOUT = 30.0
MAX_MESSAGE = 64 * 1024 * 1024
"""The client side takes whatever the server sends: its own limits are what is tested."""


class Generation:
    """One server process, its database, its seeded witnesses."""

    def __init__(self, workdir: Path, number: int) -> None:
        self.db = workdir / f"fuzz-{number}.db"
        self.server: ServerProcess = cadenza(self.db, workdir / f"fuzz-{number}.log")
        self.server.start()
        self.channel = grpc.insecure_channel(self.server.address, options=[
            ("grpc.max_send_message_length", MAX_MESSAGE),
            ("grpc.max_receive_message_length", MAX_MESSAGE),
        ])
        deadline = time.monotonic() + READY_TIMEOUT
        while not ping(self.channel, 1.0):
            if self.server.returncode is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start: {self.server.log_text()[-2000:]}")
            time.sleep(0.1)
        self.seeder = Seeder(self.channel)
        self.witnesses: Witnesses = self.seeder.prepare()

    def stop(self, kill: bool = False) -> None:
        self.channel.close()
        if kill:
            self.server.kill()
        else:
            self.server.stop()

    def integrity(self) -> str:
        """SQLite's own check of the stopped server's file ("ok" when sound); "" on PostgreSQL."""
        if not self.db.exists():
            return ""
        connection = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True)
        try:
            return "; ".join(str(row[0]) for row in connection.execute("PRAGMA integrity_check"))
        finally:
            connection.close()


class FuzzTarget:
    """The current generation, and the stopped ones whose files are still to be checked."""

    def __init__(self, workdir: Path) -> None:
        self._workdir = workdir
        self.stopped: list[Generation] = []
        self.current = Generation(workdir, 0)

    @property
    def channel(self) -> grpc.Channel:
        return self.current.channel

    def restart(self) -> None:
        """Replace a server that stopped answering: SIGKILL, since a stalled event loop does
        not heed SIGTERM, and a fresh database, since the work that stalled it may be stored."""
        self.current.stop(kill=True)
        self.stopped.append(self.current)
        self.current = Generation(self._workdir, len(self.stopped))

    def stop(self) -> list[Generation]:
        self.current.stop()
        return [*self.stopped, self.current]
