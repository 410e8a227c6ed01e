"""``cadenza server start`` and ``cadenza db ...``: flags over ``CADENZA_*`` environment over defaults."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from dataclasses import replace

from cadenza.cli import db
from cadenza.config import ConfigError, ServerConfig, apply_dynamic_config, from_env
from cadenza.persistence.errors import StorageError
from cadenza.server import Server


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cadenza", description="Cadenza: a durable workflow server that speaks Temporal's API."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    server = commands.add_parser("server", help="run the server")
    server_commands = server.add_subparsers(dest="server_command", required=True)
    start = server_commands.add_parser(
        "start",
        help="start the server and serve until SIGINT or SIGTERM",
        description="Start Cadenza. Every flag can also be set as CADENZA_<FLAG> in the environment.",
    )
    defaults = ServerConfig()
    start.add_argument("--ip", help=f"address to listen on (default {defaults.ip})")
    start.add_argument("--port", type=int, help=f"gRPC port for SDKs and the CLI (default {defaults.port})")
    start.add_argument("--http-port", type=int, dest="http_port",
                       help=f"HTTP port for health and metrics (default {defaults.http_port})")
    start.add_argument("--db", help="SQLite file to store everything in, :memory: for a "
                       "throwaway server, or postgresql://user:pass@host/db for PostgreSQL "
                       f"(default {defaults.db})")
    start.add_argument("--dynamic-config-value", action="append", default=[], metavar="KEY=VALUE",
                       dest="dynamic_config",
                       help="a Temporal dynamic-config setting, as the Temporal CLI takes it; "
                       "limit.historyCount.suggestContinueAsNew and limit.blobSize.error are honoured")
    start.add_argument("--log-level", default="warning",
                       choices=["debug", "info", "warning", "error"], help="log verbosity")
    db.add_commands(commands, defaults.db)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "db":
        return _db(args)
    logging.basicConfig(level=args.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        config = from_env(ip=args.ip, port=args.port, http_port=args.http_port, db=args.db)
        limits, ignored = apply_dynamic_config(config.limits, args.dynamic_config)
        config = replace(config, limits=limits)
    except ConfigError as exc:
        print(f"cadenza: {exc}", file=sys.stderr)
        return 2
    if ignored:
        logging.getLogger("cadenza").info("dynamic config not used by Cadenza: %s", ", ".join(ignored))
    try:
        asyncio.run(Server(config).serve())
    except (OSError, StorageError) as exc:
        print(f"cadenza: {exc}", file=sys.stderr)
        return 1
    return 0


def _db(args: argparse.Namespace) -> int:
    try:
        return db.run(args, from_env(db=args.db).db)
    except (ConfigError, StorageError) as exc:
        print(f"cadenza: {exc}", file=sys.stderr)
        return 1
