"""PostgreSQL schema migrations, each in its own transaction, under an advisory lock.

Replicas that start together all call ``migrate``; the session-level advisory
lock lets one apply the pending migrations while the others wait, then find
them recorded in the ledger and apply nothing.
"""

from __future__ import annotations

import asyncpg

from cadenza.persistence import migrations
from cadenza.persistence.errors import StorageError
from cadenza.persistence.sql import load_queries

MIGRATIONS = migrations.load("cadenza.persistence.postgres")
Q = load_queries("cadenza.persistence.postgres", "queries.sql")

SCHEMA_LOCK = 0x63_61_64_65_6E_7A_61  # "cadenza": one lock id for every Cadenza schema change


async def status(conn: asyncpg.Connection) -> migrations.SchemaStatus:
    """The ledger as it stands, without changing anything."""
    try:
        if not await conn.fetchval(Q["ledger_exists"]):
            return migrations.SchemaStatus(MIGRATIONS, ())
        return migrations.SchemaStatus(MIGRATIONS, await _applied(conn))
    except (asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise StorageError(f"reading the migration ledger failed: {exc}") from exc


async def migrate(conn: asyncpg.Connection) -> list[migrations.Migration]:
    """Apply every pending migration; refuse a schema that is newer or was altered."""
    try:
        return await _migrate(conn)
    except (asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise StorageError(f"migrating the PostgreSQL schema failed: {exc}") from exc


async def _migrate(conn: asyncpg.Connection) -> list[migrations.Migration]:
    await conn.execute(Q["lock_schema"], SCHEMA_LOCK)
    try:
        await conn.execute(Q["create_ledger"])
        current = migrations.SchemaStatus(MIGRATIONS, await _applied(conn))
        current.check()
        for migration in current.pending:
            async with conn.transaction():
                await conn.execute(migration.sql)
                await conn.execute(
                    Q["record_migration"], migration.version, migration.name, migration.checksum
                )
        return current.pending
    finally:
        await conn.execute(Q["unlock_schema"], SCHEMA_LOCK)


async def _applied(conn: asyncpg.Connection) -> tuple[migrations.AppliedMigration, ...]:
    rows = await conn.fetch(Q["applied_migrations"])
    return tuple(migrations.AppliedMigration(r[0], r[1], r[2], r[3]) for r in rows)
