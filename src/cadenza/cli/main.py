"""``cadenza server start`` and ``cadenza db ...``: flags over ``CADENZA_*`` environment over defaults."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from dataclasses import replace

from cadenza import __version__
from cadenza.cli import db
from cadenza.cli.groups import commands_of
from cadenza.config import DYNAMIC_CONFIG_KEYS, ConfigError, ServerConfig, apply_dynamic_config, from_env
from cadenza.persistence.errors import StorageError
from cadenza.server import Server

EXAMPLES = """\
examples:
  cadenza server start                  serve on 127.0.0.1:7233, data in ./cadenza.db
  cadenza server start --db :memory:    a throwaway server
  cadenza db status --db cadenza.db     the schema migrations shipped and applied

Run 'cadenza COMMAND --help' for the flags of a command."""

USAGE_ERROR = 2
"""Exit code of a command line that names no command to run, as argparse's own errors."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cadenza",
        description="Cadenza: a durable workflow server that speaks Temporal's API.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"cadenza {__version__}",
        help="print Cadenza's version and exit",
    )
    commands = commands_of(parser)
    server = commands.add_parser("server", help="run the server", description="Run the server.")
    start = commands_of(server).add_parser(
        "start",
        help="start the server and serve until SIGINT or SIGTERM",
        description="Start Cadenza. Every flag can also be set as CADENZA_<FLAG> in the environment.",
    )
    start.set_defaults(handler=_start)
    defaults = ServerConfig()
    start.add_argument("--ip", help=f"address to listen on (default {defaults.ip})")
    start.add_argument(
        "--port",
        type=int,
        help=f"gRPC port for SDKs and the CLI, 0 for any free one (default {defaults.port})",
    )
    start.add_argument(
        "--http-port",
        type=int,
        dest="http_port",
        help=f"HTTP port for Temporal's HTTP API, health and metrics, 0 for any free one (default {defaults.http_port})",
    )
    start.add_argument(
        "--db",
        help="SQLite file to store everything in (locked while served), "
        ":memory: for a throwaway server, or postgresql://user:pass@host/db for "
        f"PostgreSQL (default {defaults.db})",
    )
    start.add_argument(
        "--dynamic-config-value",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        dest="dynamic_config",
        help="a Temporal dynamic-config setting, as the Temporal CLI takes it; "
        f"Cadenza honours {', '.join(DYNAMIC_CONFIG_KEYS)}; others are accepted "
        "and reported at --log-level info",
    )
    start.add_argument(
        "--log-level", default="warning", choices=["debug", "info", "warning", "error"], help="log verbosity"
    )
    db.add_commands(commands, defaults.db)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.handler is None:
        args.incomplete.print_help(sys.stderr)
        return USAGE_ERROR
    code: int = args.handler(args)
    return code


def _start(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        config = from_env(ip=args.ip, port=args.port, http_port=args.http_port, db=args.db)
        limits, ignored = apply_dynamic_config(config.limits, args.dynamic_config)
        config = replace(config, limits=limits)
    except ConfigError as exc:
        print(f"cadenza: {exc}", file=sys.stderr)
        return USAGE_ERROR
    if ignored:
        logging.getLogger("cadenza").info("dynamic config not used by Cadenza: %s", ", ".join(ignored))
    try:
        asyncio.run(Server(config).serve())
    except (OSError, StorageError) as exc:
        print(f"cadenza: {exc}", file=sys.stderr)
        return 1
    return 0
