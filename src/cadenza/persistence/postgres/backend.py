"""PostgreSQL as ``backends.backend_for`` picks it: the store and schema administration by URL."""

from __future__ import annotations

from cadenza.persistence.migrations import Migration, SchemaStatus
from cadenza.persistence.postgres import schema
from cadenza.persistence.postgres.store import PostgresStore, connect

NAME = "postgres12"
"""The store's name as Temporal's GetClusterInfo reports it (its SQL plugin's)."""


def open_store(url: str, *, exclusive: bool) -> PostgresStore:
    """Replicas share one PostgreSQL database, so there is no lock for ``exclusive`` to take."""
    return PostgresStore(url)


async def schema_status(url: str) -> SchemaStatus:
    conn = await connect(url)
    try:
        return await schema.status(conn)
    finally:
        await conn.close()


async def migrate_schema(url: str) -> list[Migration]:
    conn = await connect(url)
    try:
        return await schema.migrate(conn)
    finally:
        await conn.close()
