"""``copy``: a stopped server's SQLite file into an empty PostgreSQL database, in one transaction.

The source's lock is held throughout, so no server starts on it mid-copy (and a served file
is refused: the copy must see the final state). The target is migrated first, then every
table is streamed in batches (``COPY``, a thousand rows at a time, never the whole table in
memory) inside one transaction: a copy that fails leaves the target as empty as it found it,
so it can simply be run again. Checking the result is ``compare.compare``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass

import asyncpg

from cadenza.persistence.postgres import backend as postgres
from cadenza.persistence.postgres.store import DRIVER_ERRORS
from cadenza.persistence.postgres.store import connect as connect_postgres
from cadenza.persistence.sqlite import integrity, schema
from cadenza.persistence.sqlite.backup import open_existing
from cadenza.persistence.sqlite.lock import lock_database
from cadenza.persistence.transfer.plan import TablePlan, TransferError, plan, quoted, target_tables
from cadenza.persistence.transfer.values import to_target

BATCH_ROWS = 1000


@dataclass(frozen=True)
class CopiedTable:
    name: str
    rows: int


async def copy(
    source_path: str, target_url: str, on_table: Callable[[CopiedTable], None] | None = None
) -> list[CopiedTable]:
    """Move every table of ``source_path`` into ``target_url``; return the rows moved per table."""
    lock = lock_database(source_path)
    try:
        with closing(open_source(source_path)) as source:
            await postgres.migrate_schema(target_url)
            target = await connect_postgres(target_url)
            try:
                return await _copy_all(source, target, on_table)
            except DRIVER_ERRORS as exc:
                raise TransferError(f"PostgreSQL failed during the copy ({exc}); nothing was copied") from exc
            finally:
                await target.close()
    finally:
        if lock is not None:
            lock.release()


async def _copy_all(
    source: sqlite3.Connection, target: asyncpg.Connection, on_table: Callable[[CopiedTable], None] | None
) -> list[CopiedTable]:
    """Every table in one transaction: a copy that fails anywhere leaves the target empty."""
    plans = plan(source, await target_tables(target))
    copied = []
    async with target.transaction():
        await _refuse_non_empty(target)
        for table in plans:
            copied.append(await _copy_table(source, target, table))
            if on_table is not None:
                on_table(copied[-1])
    return copied


def open_source(path: str) -> sqlite3.Connection:
    """The source file, checked sound and migrated to the version this Cadenza ships."""
    conn = open_existing(path)
    try:
        integrity.quick_check(conn, path)
        status = schema.status(conn)
        problems = status.problems()
        if problems:
            raise TransferError(f"{path}: {problems[0]}")
        if status.pending:
            raise TransferError(
                f"{path} is at schema version {status.version}, this Cadenza ships {status.latest}; "
                f"run cadenza db migrate --db {path} first"
            )
    except BaseException:
        conn.close()
        raise
    return conn


async def _refuse_non_empty(target: asyncpg.Connection) -> None:
    holding = [
        table
        for table in await target_tables(target)
        if await target.fetchval(f"SELECT EXISTS (SELECT 1 FROM {quoted(table)})")
    ]
    if holding:
        raise TransferError(
            "the target database is not empty (rows in " + ", ".join(sorted(holding)) + "); "
            "copy into a new database"
        )


async def _copy_table(
    source: sqlite3.Connection, target: asyncpg.Connection, table: TablePlan
) -> CopiedTable:
    cursor = source.execute(
        f"SELECT {table.column_list} FROM {quoted(table.name)} ORDER BY {table.source_order}"
    )
    names = [column.name for column in table.columns]
    moved = 0
    while rows := cursor.fetchmany(BATCH_ROWS):
        records = [
            tuple(
                to_target(column, value, table.name) for column, value in zip(table.columns, row, strict=True)
            )
            for row in rows
        ]
        await target.copy_records_to_table(table.name, records=records, columns=names)
        moved += len(records)
    return CopiedTable(table.name, moved)
