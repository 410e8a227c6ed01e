"""SQLite as ``backends.backend_for`` picks it: the store and schema administration by URL."""

from __future__ import annotations

import asyncio
from pathlib import Path

from cadenza.persistence.migrations import Migration, SchemaStatus
from cadenza.persistence.sqlite import schema
from cadenza.persistence.sqlite.lock import lock_database
from cadenza.persistence.sqlite.store import SqliteStore, connect

NAME = "sqlite"
"""The store's name as Temporal's GetClusterInfo reports it."""


def open_store(url: str, *, exclusive: bool) -> SqliteStore:
    return SqliteStore(_path(url), exclusive=exclusive)


async def schema_status(url: str) -> SchemaStatus:
    return await asyncio.to_thread(_status, _path(url))


async def migrate_schema(url: str) -> list[Migration]:
    """Creates the database file if there is none yet."""
    return await asyncio.to_thread(_migrate, _path(url))


def _path(url: str) -> str:
    return url.removeprefix("sqlite://")


def _status(path: str) -> SchemaStatus:
    """Read without the file's lock, so a served database can be inspected."""
    if path != ":memory:" and not Path(path).exists():
        # Not created yet: every shipped migration is pending, and looking creates nothing.
        return SchemaStatus(schema.MIGRATIONS, ())
    conn = connect(path)
    try:
        return schema.status(conn)
    finally:
        conn.close()


def _migrate(path: str) -> list[Migration]:
    """Under the file's lock: a running server's schema is never changed under it."""
    lock = lock_database(path)
    try:
        conn = connect(path)
        try:
            return schema.migrate(conn)
        finally:
            conn.close()
    finally:
        if lock is not None:
            lock.release()
