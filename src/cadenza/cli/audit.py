"""``cadenza audit list``: the audit log, read from the database, as a table or JSON lines."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

from cadenza.audit.export import iso_time, json_lines
from cadenza.audit.times import parse_since
from cadenza.cli.groups import commands_of
from cadenza.config import ConfigError, from_env
from cadenza.persistence import schema
from cadenza.persistence.audit_records import AuditFilter, AuditRecord
from cadenza.persistence.backends import open_store
from cadenza.persistence.errors import StorageError

DEFAULT_LIMIT = 100


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser], default_db: str) -> None:
    audit = commands.add_parser(
        "audit", help="read the audit log", description="Read the audit log of mutating and refused calls."
    )
    listing = commands_of(audit).add_parser(
        "list",
        help="list audit rows, newest first",
        description="List audit rows, newest first (reads a database a server is using).",
    )
    listing.set_defaults(handler=run)
    listing.add_argument(
        "--db", help=f"SQLite file or postgresql://user:pass@host/db (default CADENZA_DB, else {default_db})"
    )
    listing.add_argument("--namespace", help="only calls on this namespace")
    listing.add_argument("--principal", help="only calls by the principal of this name")
    listing.add_argument(
        "--since", help="only calls since then: a duration back from now (1h, 7d) or an ISO date or time"
    )
    listing.add_argument(
        "--limit", type=int, default=DEFAULT_LIMIT, help=f"at most this many rows (default {DEFAULT_LIMIT})"
    )
    listing.add_argument("--json", action="store_true", help="write one JSON object per line (an export)")


def run(args: argparse.Namespace) -> int:
    try:
        db = from_env(db=args.db).db
        wanted = AuditFilter(
            namespace=args.namespace,
            principal=args.principal,
            since=parse_since(args.since, time.time()) if args.since else None,
            limit=args.limit,
        )
        if wanted.limit < 1:
            raise ValueError(f"--limit {wanted.limit}: expected a positive number of rows")
        records = asyncio.run(_list(db, wanted))
    except (ConfigError, StorageError, ValueError) as exc:
        print(f"cadenza: {exc}", file=sys.stderr)
        return 1
    sys.stdout.write(json_lines(records) if args.json else _table(records))
    return 0


async def _list(db: str, wanted: AuditFilter) -> list[AuditRecord]:
    if (await schema.status(db)).version == 0:
        raise StorageError(f"no Cadenza database at {db}")
    store = open_store(db, exclusive=False)
    await store.open()
    try:
        return await store.list_audit(wanted)
    finally:
        await store.close()


def _table(records: list[AuditRecord]) -> str:
    lines = [f"{'time':<28} {'principal':<24} {'namespace':<16} {'method':<34} {'target':<30} outcome"]
    for r in records:
        target = r.schedule_id or r.workflow_id
        principal = f"{r.principal_kind}:{r.principal_name}"
        lines.append(
            f"{iso_time(r.time):<28} {principal:<24} {r.namespace:<16} {r.method:<34} {target:<30} {r.outcome}"
        )
    return "\n".join(lines) + "\n"
