"""``cadenza db status|migrate|verify``: the schema's migration ledger, by database URL (and the
commands of ``db_ops``)."""

from __future__ import annotations

import argparse
import asyncio
import sys

from cadenza.cli import db_ops
from cadenza.cli.groups import commands_of
from cadenza.config import ConfigError, from_env
from cadenza.persistence import schema
from cadenza.persistence.errors import StorageError
from cadenza.persistence.migrations import SchemaStatus


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser], default_db: str) -> None:
    db = commands.add_parser(
        "db",
        help="inspect and migrate the database schema; back up, restore and move a database",
        description="Inspect and migrate the database schema; back up, restore and move a database.",
    )
    db_commands = commands_of(db)
    for name, text in (
        (
            "status",
            "list the migrations this Cadenza ships and which the database has applied "
            "(reads a database a server is using; creates no file)",
        ),
        (
            "migrate",
            "apply pending migrations (safe while PostgreSQL replicas start or run; "
            "a SQLite file must not be in use by a server)",
        ),
        ("verify", "exit non-zero unless every migration is applied with the checksum shipped"),
    ):
        sub = db_commands.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")
        sub.set_defaults(handler=run, db_command=name)
        sub.add_argument(
            "--db",
            help=f"SQLite file or postgresql://user:pass@host/db (default CADENZA_DB, else {default_db})",
        )
    db_ops.add_commands(db_commands, default_db)


def run(args: argparse.Namespace) -> int:
    """Carry out one ``db`` command; the exit code says whether the schema is usable."""
    try:
        return _run(args.db_command, from_env(db=args.db).db)
    except (ConfigError, StorageError) as exc:
        print(f"cadenza: {exc}", file=sys.stderr)
        return 1


def _run(command: str, db: str) -> int:
    if command == "migrate":
        applied = asyncio.run(schema.migrate(db))
        for migration in applied:
            print(f"applied {migration.version:04d} {migration.name}")
        print(f"schema is at version {asyncio.run(schema.status(db)).version}")
        return 0
    current = asyncio.run(schema.status(db))
    if command == "status":
        print(_table(current))
    problems = current.problems()
    for problem in problems:
        print(f"error: {problem}")
    if command == "verify":
        if current.pending:
            print(f"error: {len(current.pending)} migration(s) not applied; run cadenza db migrate")
        if not problems and not current.pending:
            print(f"ok: schema at version {current.version}, checksums match")
        return 1 if problems or current.pending else 0
    return 1 if problems else 0


def _table(current: SchemaStatus) -> str:
    applied = {a.version: a for a in current.applied}
    lines = [f"{'version':<8} {'name':<24} {'applied at':<32} checksum"]
    for migration in current.known:
        row = applied.get(migration.version)
        when = row.applied_at.isoformat(timespec="seconds") if row else "pending"
        lines.append(f"{migration.version:<8} {migration.name:<24} {when:<32} {migration.checksum[:12]}")
    lines.extend(
        f"{a.version:<8} {a.name:<24} {a.applied_at.isoformat(timespec='seconds'):<32} "
        f"{a.checksum[:12]} (unknown to this Cadenza)"
        for a in current.applied
        if a.version > current.latest
    )
    lines.append(f"schema version {current.version}; this Cadenza knows up to {current.latest}")
    return "\n".join(lines)
