"""``cadenza task-queue limit set|unset|list``: concurrency limits, kept in the database.

The commands write the database a server is using; the server reads its limits again every
few seconds, so a change reaches it (and every replica on a shared database) without a
restart. ``--activity-queue``, ``--workflow-type`` or ``--workflow-id-prefix`` names what is
limited.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable

from cadenza.cli.groups import commands_of
from cadenza.concurrency import (
    ACTIVITY_QUEUE,
    POLICIES,
    QUEUE,
    WORKFLOW_ID_PREFIX,
    WORKFLOW_TYPE,
    checked_limit,
)
from cadenza.concurrency.limits import as_json
from cadenza.config import ConfigError, from_env
from cadenza.exceptions import InvalidArgumentError
from cadenza.persistence import schema
from cadenza.persistence.backends import open_store
from cadenza.persistence.errors import StorageError
from cadenza.persistence.store import Store

Action = Callable[[Store, str, argparse.Namespace], Awaitable[str]]
"""A command's work on the open store, given the namespace's ID; what it prints."""

SCOPE_FLAGS = {
    "activity_queue": ACTIVITY_QUEUE,
    "workflow_type": WORKFLOW_TYPE,
    "workflow_id_prefix": WORKFLOW_ID_PREFIX,
}


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser], default_db: str) -> None:
    group = commands.add_parser("task-queue", help="task queue settings", description="Task queue settings.")
    limit = commands_of(group).add_parser(
        "limit",
        help="concurrency limits on activity queues and workflows",
        description="Concurrency limits: how many activity tasks of a queue, or workflows of a type or "
        "workflow-ID prefix, run at once.",
    )
    limits = commands_of(limit)
    setting = limits.add_parser(
        "set", help="set a limit", description="Set a concurrency limit, replacing any."
    )
    _common(setting, default_db)
    _target(setting)
    setting.add_argument("--limit", type=int, default=0, help="at most this many running at once (0: none)")
    setting.add_argument(
        "--fairness-key-limit",
        type=int,
        default=0,
        help="activity queues: at most this many per fairness key",
    )
    setting.add_argument(
        "--policy",
        choices=POLICIES,
        default=QUEUE,
        help="when full: queue (wait for a slot) or reject (a start)",
    )
    setting.set_defaults(handler=lambda args: _run(args, _set))
    unsetting = limits.add_parser("unset", help="remove a limit", description="Remove a concurrency limit.")
    _common(unsetting, default_db)
    _target(unsetting)
    unsetting.set_defaults(handler=lambda args: _run(args, _unset))
    listing = limits.add_parser("list", help="list the limits", description="List a namespace's limits.")
    _common(listing, default_db)
    listing.add_argument("--json", action="store_true", help="write one JSON object per line")
    listing.set_defaults(handler=lambda args: _run(args, _list))


def _common(parser: argparse.ArgumentParser, default_db: str) -> None:
    parser.add_argument(
        "--db", help=f"SQLite file or postgresql://user:pass@host/db (default CADENZA_DB, else {default_db})"
    )
    parser.add_argument("--namespace", default="default", help="the namespace (default: default)")


def _target(parser: argparse.ArgumentParser) -> None:
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--activity-queue", help="limit the running activity tasks of this task queue")
    which.add_argument("--workflow-type", help="limit the running workflows of this type")
    which.add_argument("--workflow-id-prefix", help="limit the running workflows whose ID starts so")


def _scope(args: argparse.Namespace) -> tuple[str, str]:
    for flag, scope in SCOPE_FLAGS.items():
        name = getattr(args, flag)
        if name is not None:
            return scope, name
    raise InvalidArgumentError("name what is limited")


def _run(args: argparse.Namespace, action: Action) -> int:
    try:
        db = from_env(db=args.db).db
        output = asyncio.run(_with_store(db, args, action))
    except (ConfigError, StorageError, InvalidArgumentError) as exc:
        print(f"cadenza: {exc}", file=sys.stderr)
        return 1
    sys.stdout.write(output)
    return 0


async def _with_store(db: str, args: argparse.Namespace, action: Action) -> str:
    if (await schema.status(db)).version == 0:
        raise StorageError(f"no Cadenza database at {db}")
    store = open_store(db, exclusive=False)
    await store.open()
    try:
        namespace = await store.get_namespace(args.namespace)
        if namespace is None:
            raise InvalidArgumentError(f"namespace {args.namespace} not found")
        return await action(store, namespace.id, args)
    finally:
        await store.close()


async def _set(store: Store, namespace_id: str, args: argparse.Namespace) -> str:
    scope, name = _scope(args)
    limit = checked_limit(namespace_id, scope, name, args.limit, args.fairness_key_limit, args.policy)
    await store.put_concurrency_limit(limit)
    return f"set the {scope} limit of {name!r}\n"


async def _unset(store: Store, namespace_id: str, args: argparse.Namespace) -> str:
    scope, name = _scope(args)
    if not await store.delete_concurrency_limit(namespace_id, scope, name):
        raise InvalidArgumentError(f"namespace {args.namespace} has no {scope} limit {name!r}")
    return f"removed the {scope} limit of {name!r}\n"


async def _list(store: Store, namespace_id: str, args: argparse.Namespace) -> str:
    slots = await store.list_slots()
    rows = []
    for limit in await store.list_concurrency_limits():
        if limit.namespace_id == namespace_id:
            running = sum(
                1
                for s in slots
                if (s.namespace_id, s.scope, s.name) == (namespace_id, limit.scope, limit.name)
            )
            rows.append(as_json(limit, args.namespace, running))
    if args.json:
        return "".join(json.dumps(row) + "\n" for row in rows)
    lines = [f"{'scope':<20} {'name':<32} {'limit':>6} {'per key':>8} {'policy':<7} {'running':>7}"]
    for row in rows:
        lines.append(
            f"{row['scope']:<20} {row['name']:<32} {row['limit']:>6} {row['fairnessKeyLimit']:>8} "
            f"{row['policy']:<7} {row['running']:>7}"
        )
    return "\n".join(lines) + "\n"
