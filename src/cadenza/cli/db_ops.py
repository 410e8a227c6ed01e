"""``cadenza db backup|restore|copy|compare``: a SQLite file's backup, restore and move to PostgreSQL."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable

from cadenza.config import ConfigError, from_env
from cadenza.persistence.errors import StorageError
from cadenza.persistence.sqlite import backup

POSTGRES_PREFIXES = ("postgres://", "postgresql://")
Handler = Callable[[argparse.Namespace], int]

BACKUP_HELP = (
    "copy a SQLite database, while a server serves it, into a checked backup file "
    "(for PostgreSQL use its own tools: pg_dump, pg_restore)"
)
RESTORE_HELP = (
    "write a backup into a SQLite path no server is using, after checking it "
    "(integrity and a schema this Cadenza knows)"
)
COPY_HELP = (
    "move a stopped server's SQLite file into an empty PostgreSQL database: every table, "
    "then row counts and checksums compared (exit 1 on a difference)"
)
COMPARE_HELP = "compare row counts and checksums of every table in a SQLite file and a PostgreSQL database"


def add_commands(db_commands: argparse._SubParsersAction[argparse.ArgumentParser], default_db: str) -> None:
    db_help = f"SQLite file (default CADENZA_DB, else {default_db})"
    command = _command(db_commands, "backup", BACKUP_HELP, _backup)
    command.add_argument("--db", help=db_help)
    command.add_argument("--to", required=True, metavar="FILE", help="the backup file to write")
    command.add_argument("--force", action="store_true", help="replace FILE if it exists")
    command = _command(db_commands, "restore", RESTORE_HELP, _restore)
    command.add_argument("--from", dest="source", required=True, metavar="FILE", help="the backup file")
    command.add_argument("--db", help=db_help)
    command.add_argument("--force", action="store_true", help="replace the database if it exists")
    for name, text, handler in (("copy", COPY_HELP, _copy), ("compare", COMPARE_HELP, _compare)):
        command = _command(db_commands, name, text, handler)
        command.add_argument("--from", dest="source", required=True, metavar="FILE", help="the SQLite file")
        command.add_argument(
            "--to", dest="target", required=True, metavar="URL", help="postgresql://user:pass@host/db"
        )


def _command(
    db_commands: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    text: str,
    handler: Handler,
) -> argparse.ArgumentParser:
    command = db_commands.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")
    command.set_defaults(handler=lambda args: _reported(handler, args))
    return command


def _reported(handler: Handler, args: argparse.Namespace) -> int:
    """Run a handler; a refusal or failure is one line on stderr and exit code 1."""
    try:
        code = handler(args)
    except (ConfigError, StorageError, OSError) as exc:
        print(f"cadenza: {exc}", file=sys.stderr)
        return 1
    return code


def _backup(args: argparse.Namespace) -> int:
    summary = backup.backup(_sqlite_path(args.db, "pg_dump"), args.to, force=args.force)
    print(f"backup written and checked: {summary.describe()}")
    return 0


def _restore(args: argparse.Namespace) -> int:
    summary = backup.restore(args.source, _sqlite_path(args.db, "pg_restore"), force=args.force)
    print(f"restored and checked: {summary.describe()}")
    return 0


def _copy(args: argparse.Namespace) -> int:
    # Imported here, as in _compare_and_print: they load asyncpg, which a server started by
    # the same command line on SQLite would otherwise carry for nothing.
    from cadenza.persistence.transfer import copy

    target = _postgres_url(args.target)
    asyncio.run(
        copy.copy(
            args.source, target, on_table=lambda table: print(f"copied {table.rows:>10} rows  {table.name}")
        )
    )
    return _compare_and_print(args.source, target)


def _compare(args: argparse.Namespace) -> int:
    return _compare_and_print(args.source, _postgres_url(args.target))


def _compare_and_print(source: str, target: str) -> int:
    from cadenza.persistence.transfer import compare

    tables = asyncio.run(compare.compare(source, target))
    print(f"{'table':<24} {'sqlite rows':>12} {'postgres rows':>14}  checksum")
    for table in tables:
        verdict = "ok" if table.matches else "MISMATCH"
        print(
            f"{table.name:<24} {table.source_rows:>12} {table.target_rows:>14}  "
            f"{table.source_checksum[:16] or '-'} {verdict}"
        )
    different = [table.name for table in tables if not table.matches]
    if different:
        print(f"error: the databases differ in {', '.join(different)}", file=sys.stderr)
        return 1
    print(f"ok: {len(tables)} tables match")
    return 0


def _sqlite_path(db: str | None, postgres_tool: str) -> str:
    url = from_env(db=db).db
    if url.startswith(POSTGRES_PREFIXES):
        raise ConfigError(f"{url} is PostgreSQL; use {postgres_tool}, PostgreSQL's own tool, for it")
    if url.removeprefix("sqlite://") == ":memory:":
        raise ConfigError(":memory: is not a file; name a SQLite database file")
    return url.removeprefix("sqlite://")


def _postgres_url(url: str) -> str:
    if not url.startswith(POSTGRES_PREFIXES):
        raise ConfigError(f"--to must be a postgresql:// URL, not {url}")
    return url
