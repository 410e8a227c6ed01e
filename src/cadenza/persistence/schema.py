"""Schema administration by database URL: what ``cadenza db status|migrate|verify`` call."""

from __future__ import annotations

import asyncio
from pathlib import Path

from cadenza.persistence.migrations import Migration, SchemaStatus
from cadenza.persistence.store import is_postgres, sqlite_path


async def status(url: str) -> SchemaStatus:
    """The database's ledger beside the migrations this Cadenza ships; changes nothing."""
    if not is_postgres(url):
        return await asyncio.to_thread(_sqlite_status, sqlite_path(url))
    from cadenza.persistence.postgres import schema as pg_schema
    from cadenza.persistence.postgres.store import connect

    conn = await connect(url)
    try:
        return await pg_schema.status(conn)
    finally:
        await conn.close()


async def migrate(url: str) -> list[Migration]:
    """Apply pending migrations (creating the database file for SQLite); return them."""
    if not is_postgres(url):
        return await asyncio.to_thread(_sqlite_migrate, sqlite_path(url))
    from cadenza.persistence.postgres import schema as pg_schema
    from cadenza.persistence.postgres.store import connect

    conn = await connect(url)
    try:
        return await pg_schema.migrate(conn)
    finally:
        await conn.close()


def _sqlite_status(path: str) -> SchemaStatus:
    """Read without the file's lock, so a served database can be inspected."""
    from cadenza.persistence.sqlite import schema as sqlite_schema
    from cadenza.persistence.sqlite.store import connect

    if path != ":memory:" and not Path(path).exists():
        # Not created yet: every shipped migration is pending, and looking creates nothing.
        return SchemaStatus(sqlite_schema.MIGRATIONS, ())
    conn = connect(path)
    try:
        return sqlite_schema.status(conn)
    finally:
        conn.close()


def _sqlite_migrate(path: str) -> list[Migration]:
    """Under the file's lock: a running server's schema is never changed under it."""
    from cadenza.persistence.sqlite import schema as sqlite_schema
    from cadenza.persistence.sqlite.lock import lock_database
    from cadenza.persistence.sqlite.store import connect

    lock = lock_database(path)
    try:
        conn = connect(path)
        try:
            return sqlite_schema.migrate(conn)
        finally:
            conn.close()
    finally:
        if lock is not None:
            lock.release()
