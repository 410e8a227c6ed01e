"""SQLite schema migrations: all pending ones applied in one write transaction.

``BEGIN IMMEDIATE`` takes SQLite's write lock before the ledger is read, so
when several processes open the same file at once, one applies the pending
migrations and the others then find them recorded.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from cadenza.persistence import migrations
from cadenza.persistence.errors import StorageError
from cadenza.persistence.sql import load_queries

MIGRATIONS = migrations.load("cadenza.persistence.sqlite")
Q = load_queries("cadenza.persistence.sqlite", "queries.sql")


def status(conn: sqlite3.Connection) -> migrations.SchemaStatus:
    """The ledger as it stands, without changing anything."""
    if not conn.execute(Q["ledger_exists"]).fetchall():
        return migrations.SchemaStatus(MIGRATIONS, ())
    return migrations.SchemaStatus(MIGRATIONS, _applied(conn))


def migrate(conn: sqlite3.Connection) -> list[migrations.Migration]:
    """Apply every pending migration; refuse a schema that is newer or was altered."""
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(Q["create_ledger"])
            current = migrations.SchemaStatus(MIGRATIONS, _applied(conn))
            current.check()
            pending = current.pending
            for migration in pending:
                _run_script(conn, migration.sql)
                conn.execute(
                    Q["record_migration"],
                    (migration.version, migration.name, migration.checksum, datetime.now(UTC).isoformat()),
                )
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        raise StorageError(f"migrating the SQLite schema failed: {exc}") from exc
    return pending


def _applied(conn: sqlite3.Connection) -> tuple[migrations.AppliedMigration, ...]:
    return tuple(
        migrations.AppliedMigration(row[0], row[1], row[2], datetime.fromisoformat(row[3]))
        for row in conn.execute(Q["applied_migrations"]).fetchall()
    )


def _run_script(conn: sqlite3.Connection, script: str) -> None:
    """Run each statement of ``script`` inside the open transaction.

    ``executescript`` would commit first, giving up the lock, so statements are
    split here, at the points SQLite itself says a statement is complete.
    """
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            conn.execute(statement)
            statement = ""
    if statement.strip() and not all(
        not part.strip() or part.strip().startswith("--") for part in statement.splitlines()
    ):
        raise StorageError("a migration ends in an incomplete statement")
