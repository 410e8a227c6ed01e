"""``compare``: row counts and checksums of every table, on a SQLite file and a PostgreSQL copy.

Both sides stream their rows and hash them the same way (``values.TableSum``), each inside one
read transaction, so a table is compared as one consistent state on each side. A table only
PostgreSQL has must be empty.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import dataclass

import asyncpg

from cadenza.persistence.errors import StorageError
from cadenza.persistence.postgres.store import DRIVER_ERRORS
from cadenza.persistence.postgres.store import connect as connect_postgres
from cadenza.persistence.sqlite.backup import open_existing
from cadenza.persistence.transfer.plan import TablePlan, plan, quoted, target_only, target_tables
from cadenza.persistence.transfer.values import TableSum

PREFETCH_ROWS = 1000


@dataclass(frozen=True)
class TableComparison:
    name: str
    source_rows: int
    target_rows: int
    source_checksum: str
    target_checksum: str

    @property
    def matches(self) -> bool:
        return self.source_rows == self.target_rows and self.source_checksum == self.target_checksum


async def compare(source_path: str, target_url: str) -> list[TableComparison]:
    """Every table's counts and checksums on both sides, source tables first."""
    with closing(open_existing(source_path)) as source:
        target = await connect_postgres(target_url)
        try:
            return await _compare_with(source, target)
        except DRIVER_ERRORS as exc:
            raise StorageError(f"reading PostgreSQL failed ({exc})") from exc
        finally:
            await target.close()


async def _compare_with(source: sqlite3.Connection, target: asyncpg.Connection) -> list[TableComparison]:
    target_schema = await target_tables(target)
    plans = plan(source, target_schema)
    source_sums = _source_sums(source, plans)
    async with target.transaction(isolation="repeatable_read", readonly=True):
        found = [
            _compared(table.name, source_sums[table.name], await _target_sum(target, table))
            for table in plans
        ]
        for name in target_only(source, target_schema):
            rows = await target.fetchval(f"SELECT count(*) FROM {quoted(name)}")
            found.append(TableComparison(name, 0, rows, "", ""))
    return found


def _source_sums(source: sqlite3.Connection, plans: list[TablePlan]) -> dict[str, TableSum]:
    sums = {}
    source.execute("BEGIN")
    try:
        for table in plans:
            sums[table.name] = TableSum(table.columns)
            cursor = source.execute(f"SELECT {table.column_list} FROM {quoted(table.name)}")
            while rows := cursor.fetchmany(PREFETCH_ROWS):
                sums[table.name].add(rows)
    finally:
        source.execute("COMMIT")
    return sums


async def _target_sum(target: asyncpg.Connection, table: TablePlan) -> TableSum:
    total = TableSum(table.columns)
    query = f"SELECT {table.column_list} FROM {quoted(table.name)}"
    async for record in target.cursor(query, prefetch=PREFETCH_ROWS):
        total.add([tuple(record)])
    return total


def _compared(name: str, source: TableSum, target: TableSum) -> TableComparison:
    return TableComparison(name, source.count, target.count, source.checksum, target.checksum)
