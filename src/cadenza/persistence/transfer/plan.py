"""Which tables and columns move, and how each column's values convert, read from both schemas.

Nothing here names a Cadenza table: the tables are the ones the two live schemas hold (after
both are migrated to the same version), so a table a later migration adds moves too. What is
fixed is how a column type on one side maps to the other (SQLite ``BLOB`` to ``bytea``,
``REAL`` to ``double precision``, ``TEXT`` holding JSON to ``jsonb``, ...). A table or column
the plan cannot map (a table PostgreSQL lacks, a type pair not listed, a PostgreSQL column the
source cannot fill and that has no default) stops the move before anything is written.
"""

from __future__ import annotations

import enum
import sqlite3
from dataclasses import dataclass

import asyncpg

from cadenza.persistence.errors import StorageError

LEDGER = "schema_migrations"
"""Each database's own record of its migrations: migrated on the target, never copied."""


class TransferError(StorageError):
    """The move cannot be made as asked; nothing was written, or what was is rolled back."""


class Kind(enum.Enum):
    """What a column holds, the same on both sides; values convert and compare by it."""

    INTEGER = "integer"
    BOOLEAN = "boolean"
    FLOAT = "float"
    TEXT = "text"
    JSON = "json"
    BYTES = "bytes"


TYPE_PAIRS: dict[tuple[str, str], Kind] = {
    ("INTEGER", "integer"): Kind.INTEGER,
    ("INTEGER", "bigint"): Kind.INTEGER,
    ("INTEGER", "smallint"): Kind.INTEGER,
    ("INTEGER", "boolean"): Kind.BOOLEAN,
    ("REAL", "double precision"): Kind.FLOAT,
    ("TEXT", "text"): Kind.TEXT,
    ("TEXT", "character varying"): Kind.TEXT,
    ("TEXT", "jsonb"): Kind.JSON,
    ("TEXT", "json"): Kind.JSON,
    ("BLOB", "bytea"): Kind.BYTES,
}
"""SQLite type affinity and PostgreSQL ``data_type`` pairs that convert without loss."""


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind


@dataclass(frozen=True)
class TablePlan:
    """One table to move: the columns both sides have, in the source's order."""

    name: str
    columns: tuple[Column, ...]
    source_order: str
    """The ORDER BY that reads the source in insertion order (rowid) or key order."""

    @property
    def column_list(self) -> str:
        return ", ".join(quoted(c.name) for c in self.columns)


@dataclass(frozen=True)
class TargetColumn:
    name: str
    data_type: str
    fillable: bool
    """Has a default, or is generated (an identity), so the copy may leave it out."""


TARGET_COLUMNS = """
SELECT c.table_name, c.column_name, c.data_type,
       c.column_default IS NOT NULL OR c.is_identity = 'YES' OR c.is_generated <> 'NEVER' AS fillable
FROM information_schema.columns c
JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
ORDER BY c.table_name, c.ordinal_position
"""


def quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def source_tables(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
    ).fetchall()
    return [row[0] for row in rows if row[0] != LEDGER]


async def target_tables(conn: asyncpg.Connection) -> dict[str, list[TargetColumn]]:
    tables: dict[str, list[TargetColumn]] = {}
    for row in await conn.fetch(TARGET_COLUMNS):
        if row["table_name"] != LEDGER:
            tables.setdefault(row["table_name"], []).append(
                TargetColumn(row["column_name"], row["data_type"], row["fillable"])
            )
    return tables


def plan(source: sqlite3.Connection, target: dict[str, list[TargetColumn]]) -> list[TablePlan]:
    """Every source table's plan; raise ``TransferError`` naming all that cannot move."""
    plans: list[TablePlan] = []
    problems: list[str] = []
    for table in source_tables(source):
        if table not in target:
            problems.append(f"table {table} exists in SQLite but not in PostgreSQL")
            continue
        plans.append(_plan_table(source, table, {c.name: c for c in target[table]}, problems))
    if problems:
        raise TransferError("cannot move this database: " + "; ".join(problems))
    return plans


def target_only(source: sqlite3.Connection, target: dict[str, list[TargetColumn]]) -> list[str]:
    """Tables only PostgreSQL has: nothing to copy into them, and they must stay empty."""
    return sorted(set(target) - set(source_tables(source)))


def _plan_table(
    source: sqlite3.Connection, table: str, target: dict[str, TargetColumn], problems: list[str]
) -> TablePlan:
    info = source.execute(f"PRAGMA table_info({quoted(table)})").fetchall()
    columns: list[Column] = []
    for _cid, name, declared, _notnull, _default, _pk in info:
        column = target.get(name)
        if column is None:
            problems.append(f"column {table}.{name} exists in SQLite but not in PostgreSQL")
            continue
        kind = TYPE_PAIRS.get((affinity(declared), column.data_type))
        if kind is None:
            problems.append(
                f"column {table}.{name}: no known conversion from SQLite {declared or 'untyped'} "
                f"to PostgreSQL {column.data_type}"
            )
            continue
        columns.append(Column(name, kind))
    names = {row[1] for row in info}
    problems.extend(
        f"column {table}.{c.name} exists in PostgreSQL only and has no default to fill it"
        for c in target.values()
        if c.name not in names and not c.fillable
    )
    return TablePlan(table, tuple(columns), _source_order(source, table, info))


def affinity(declared: str) -> str:
    """SQLite's type affinity of a declared column type (its documented rules, in order)."""
    upper = declared.upper()
    if "INT" in upper:
        return "INTEGER"
    if any(word in upper for word in ("CHAR", "CLOB", "TEXT")):
        return "TEXT"
    if "BLOB" in upper or not upper:
        return "BLOB"
    if any(word in upper for word in ("REAL", "FLOA", "DOUB")):
        return "REAL"
    return "NUMERIC"


def _source_order(source: sqlite3.Connection, table: str, info: list[tuple[object, ...]]) -> str:
    """rowid where the table has one, so rows arrive in the order they were inserted (task
    queues keep their order through PostgreSQL's identity column); else the primary key."""
    try:
        source.execute(f"SELECT rowid FROM {quoted(table)} LIMIT 0")
        return "rowid"
    except sqlite3.OperationalError:
        keys = sorted((row for row in info if int(str(row[5])) > 0), key=lambda row: int(str(row[5])))
        return ", ".join(quoted(str(row[1])) for row in keys)
