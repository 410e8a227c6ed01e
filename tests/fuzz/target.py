"""The server under fuzzing: a real Cadenza process, replaced if it stops answering, and
its database files, checked once their servers are stopped."""

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


class NotServing(Exception):
    """The server did not answer GetSystemInfo in time after starting."""


class Generation:
    """One server process on a database file; seeds the witnesses unless the file has them."""

    def __init__(self, db: Path, log: Path, witnesses: Witnesses | None = None) -> None:
        self.db = db
        self.server: ServerProcess = cadenza(db, log)
        self.server.start()
        self.channel = grpc.insecure_channel(
            self.server.address,
            options=[
                ("grpc.max_send_message_length", MAX_MESSAGE),
                ("grpc.max_receive_message_length", MAX_MESSAGE),
                ("grpc.max_metadata_size", MAX_MESSAGE),
            ],
        )
        deadline = time.monotonic() + READY_TIMEOUT
        while not ping(self.channel, 1.0):
            if self.server.returncode is not None or time.monotonic() > deadline:
                self.stop(kill=True)
                raise NotServing(f"server on {db} is not serving: {self.server.log_text()[-2000:]}")
            time.sleep(0.1)
        self.seeder = Seeder(self.channel)
        self.witnesses: Witnesses = witnesses or self.seeder.prepare()

    def stop(self, kill: bool = False) -> None:
        self.channel.close()
        if kill:
            self.server.kill()
        else:
            self.server.stop()


def integrity(db: Path) -> str:
    """SQLite's own check of a file no server has open ("ok" when sound); "" on PostgreSQL."""
    if not db.exists():
        return ""
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return "; ".join(str(row[0]) for row in connection.execute("PRAGMA integrity_check"))
    finally:
        connection.close()


class FuzzTarget:
    """The current server, and the database files of every server so far."""

    def __init__(self, workdir: Path) -> None:
        self._workdir = workdir
        self._starts = 0
        self._restarted_on: set[Path] = set()
        self.databases: list[Path] = []
        self.restarts: list[str] = []
        self.damaged: list[str] = []
        self.current = self._start(None)

    @property
    def channel(self) -> grpc.Channel:
        return self.current.channel

    def _start(self, db: Path | None, witnesses: Witnesses | None = None) -> Generation:
        self._starts += 1
        if db is None:
            db = self._workdir / f"fuzz-{self._starts}.db"
            self.databases.append(db)
        return Generation(db, self._workdir / f"fuzz-{self._starts}.log", witnesses)

    def restart(self) -> None:
        """Replace a server that stopped answering: SIGKILL, since a stalled event loop does
        not heed SIGTERM; then a new server on the same file, so the data from before is
        still checked, unless that file already stalled a restarted server (the work that
        stalls it may be stored), in which case a fresh file."""
        stalled = self.current
        stalled.stop(kill=True)
        if stalled.db not in self._restarted_on:
            self._restarted_on.add(stalled.db)
            try:
                self.current = self._start(stalled.db, stalled.witnesses)
                self.restarts.append(f"restarted on {stalled.db.name}")
                return
            except NotServing:
                pass
        self.current = self._start(None)
        self.restarts.append(f"{stalled.db.name} left for a fresh file")

    def replace(self, reason: str) -> None:
        """Go on with a server on a fresh file, leaving one whose earlier data was damaged,
        so what broke it is not blamed on the RPCs fuzzed after."""
        self.current.stop()
        self.damaged.append(f"{self.current.db.name}: {reason}")
        self.current = self._start(None)

    def stop(self) -> dict[str, str]:
        """Stop the server; SQLite's integrity check of every file, by name."""
        self.current.stop()
        return {db.name: integrity(db) for db in self.databases}
