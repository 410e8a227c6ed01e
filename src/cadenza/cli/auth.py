"""``cadenza auth key create|list|revoke``: API keys, written straight into the server's database.

The commands open the database beside a running server (a SQLite file without
taking its lock, PostgreSQL as any replica does) and touch only table
``api_keys``; the servers see a new or revoked key within
``cadenza.auth.api_keys.CACHE_SECONDS``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime

from cadenza.auth.api_keys import KeyOptionsError, NewKey, issue_key, key_from_options, key_state
from cadenza.auth.principal import ANY_NAMESPACE, Role
from cadenza.cli.groups import commands_of
from cadenza.clock import SystemClock
from cadenza.config import ConfigError, from_env
from cadenza.persistence.backends import open_store
from cadenza.persistence.errors import StorageError
from cadenza.persistence.records import ApiKeyRecord
from cadenza.persistence.store import Store

MEMORY = ":memory:"


class KeyCommandError(Exception):
    """A key command that cannot be carried out; the message says why."""


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser], default_db: str) -> None:
    auth = commands.add_parser(
        "auth", help="manage API keys", description="Manage who may call the server (needs --auth)."
    )
    key = commands_of(auth).add_parser(
        "key", help="create, list and revoke API keys", description="API keys."
    )
    keys = commands_of(key)
    db_help = f"SQLite file or postgresql://user:pass@host/db the server uses (default CADENZA_DB, else {default_db})"
    create = keys.add_parser(
        "create",
        help="create a key and print it once on standard output",
        description="Create an API key and print it once; only a hash of it is stored. "
        "Clients send it as Client.connect(..., api_key=KEY).",
    )
    create.set_defaults(handler=run, key_command="create")
    create.add_argument("--db", help=db_help)
    create.add_argument(
        "--namespace", help=f"the namespace the key's role holds on; '{ANY_NAMESPACE}' for every one"
    )
    create.add_argument("--role", choices=[role.value for role in Role], help="what the key may do there")
    create.add_argument(
        "--cluster-admin",
        action="store_true",
        dest="cluster_admin",
        help="the key may do everything on every namespace, create and delete namespaces included "
        "(instead of --namespace and --role)",
    )
    create.add_argument(
        "--expires", help="when the key stops working: 30d, 12h, 90m, 2w, or a date 2027-01-31"
    )
    create.add_argument("--name", default="", help="a name to recognise the key by in listings")
    listing = keys.add_parser("list", help="list keys (never their secrets)", description="List API keys.")
    listing.set_defaults(handler=run, key_command="list")
    listing.add_argument("--db", help=db_help)
    listing.add_argument("--namespace", help="only the keys of this namespace")
    revoke = keys.add_parser("revoke", help="revoke a key by its ID", description="Revoke an API key.")
    revoke.set_defaults(handler=run, key_command="revoke")
    revoke.add_argument("--db", help=db_help)
    revoke.add_argument("key_id", metavar="ID", help="the key's ID, as 'cadenza auth key list' shows it")


def run(args: argparse.Namespace) -> int:
    """Carry out one ``auth key`` command."""
    try:
        db = from_env(db=args.db).db
        if db == MEMORY:
            raise KeyCommandError(
                "an in-memory database lives inside its server; give the --db the server uses"
            )
        return asyncio.run(_run(args, db))
    except (ConfigError, StorageError, KeyCommandError, KeyOptionsError) as exc:
        print(f"cadenza: {exc}", file=sys.stderr)
        return 1


async def _run(args: argparse.Namespace, db: str) -> int:
    command = args.key_command
    now = SystemClock().now()
    key = _new_key(args, now) if command == "create" else None  # checked before the database opens
    store = open_store(db, exclusive=False)
    await store.open()
    try:
        if key is not None:
            print(await issue_key(store, key), flush=True)
            return 0
        if command == "list":
            print(_table(await store.list_api_keys(args.namespace), now))
            return 0
        return await _revoke(store, args.key_id, now)
    finally:
        await store.close()


def _new_key(args: argparse.Namespace, now: float) -> NewKey:
    return key_from_options(
        args.namespace,
        args.role,
        now,
        cluster_admin=args.cluster_admin,
        name=args.name,
        expires=args.expires,
    )


async def _revoke(store: Store, key_id: str, now: float) -> int:
    if await store.revoke_api_key(key_id, now):
        print(f"revoked {key_id}")
        return 0
    existing = await store.get_api_key(key_id)
    raise KeyCommandError(
        f"no API key {key_id}" if existing is None else f"API key {key_id} is revoked already"
    )


def _when(moment: float | None) -> str:
    return "-" if moment is None else datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _table(keys: list[ApiKeyRecord], now: float) -> str:
    header = ("ID", "NAME", "NAMESPACE", "ROLE", "STATE", "CREATED", "EXPIRES", "LAST USED")
    rows = [header] + [
        (
            key.key_id,
            key.name or "-",
            key.namespace,
            "cluster-admin" if key.cluster_admin else key.role,
            key_state(key, now),
            _when(key.created_at),
            _when(key.expires_at),
            _when(key.last_used_at),
        )
        for key in keys
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    )
