"""``cadenza server start`` and ``cadenza db ...``: flags over ``CADENZA_*`` environment over defaults."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import replace

from cadenza import __version__
from cadenza.auth.jwt_algorithms import ALGORITHMS as JWT_ALGORITHMS
from cadenza.cli import audit, auth, db, task_queue
from cadenza.cli.groups import commands_of
from cadenza.config import (
    DYNAMIC_CONFIG_DURATIONS,
    DYNAMIC_CONFIG_ENV,
    DYNAMIC_CONFIG_KEYS,
    DYNAMIC_CONFIG_SWITCHES,
    LOG_FORMATS,
    LOG_LEVELS,
    ConfigError,
    ServerConfig,
    dynamic_config,
    dynamic_quotas,
    from_env,
)
from cadenza.observability import hooks, logs
from cadenza.persistence.errors import StorageError
from cadenza.quotas.dynamic_file import read_settings
from cadenza.quotas.settings import KEYS as QUOTA_KEYS
from cadenza.quotas.settings import SettingsError
from cadenza.server import Server

EXAMPLES = """\
examples:
  cadenza server start                  serve on 127.0.0.1:7233, data in ./cadenza.db
  cadenza server start --db :memory:    a throwaway server
  cadenza db status --db cadenza.db     the schema migrations shipped and applied
  cadenza auth key create --db cadenza.db --cluster-admin
                                        the first API key, for a server started with --auth
  cadenza audit list --since 1h         who changed what in the last hour (--json to export)
  cadenza task-queue limit set --activity-queue pay --limit 5
                                        at most 5 activity tasks of queue pay run at once

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
        description="Start Cadenza. Every flag can also be set in the environment, as the "
        "CADENZA_<FLAG> each names; a flag given wins over its variable. Traces are sent over "
        "OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set (needs cadenza[otel]).",
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
        help="a Temporal dynamic-config setting, as the Temporal CLI takes it; repeat the flag "
        f"for several. Cadenza honours "
        f"{', '.join([*DYNAMIC_CONFIG_KEYS, *DYNAMIC_CONFIG_DURATIONS, *DYNAMIC_CONFIG_SWITCHES, *QUOTA_KEYS])} (a rate "
        "limit's VALUE may be a JSON list of {value, constraints: {namespace}}); others are accepted "
        f"and reported at --log-level info. {DYNAMIC_CONFIG_ENV} holds one or more KEY=VALUE "
        "separated by spaces or newlines, applied before the flags (a key given both ways "
        "takes the flag's value)",
    )
    start.add_argument(
        "--dynamic-config-file",
        dest="dynamic_config_file",
        metavar="PATH",
        help="a Temporal dynamic-config YAML file (KEY: [{value: V, constraints: {namespace: NS}}]) "
        "whose rate-limit keys apply over --dynamic-config-value; re-read when it changes",
    )
    start.add_argument(
        "--log-level",
        type=str.lower,
        choices=LOG_LEVELS,
        help=f"least severe records logged (default {defaults.log_level})",
    )
    start.add_argument(
        "--log-format",
        type=str.lower,
        choices=LOG_FORMATS,
        help="text: a line per record; json: an object per line with time, level, logger, "
        "message, and the rpc, request_id, namespace, workflow_id and run_id of the request "
        f"it is about (default {defaults.log_format})",
    )
    start.add_argument(
        "--ui",
        action=argparse.BooleanOptionalAction,
        help="serve the web UI on the HTTP port; --no-ui turns it off (default on)",
    )
    start.add_argument(
        "--ui-read-only",
        action=argparse.BooleanOptionalAction,
        dest="ui_read_only",
        help="the web UI shows everything and changes nothing: signal, query, cancel and "
        "terminate are hidden and refused (default off)",
    )
    start.add_argument(
        "--auth",
        action=argparse.BooleanOptionalAction,
        help="require credentials on every call (an API key from 'cadenza auth key create', "
        "sent as 'authorization: Bearer KEY') and check each call against the caller's roles "
        "(default off: anyone who reaches the ports may do anything)",
    )
    _tls_flags(start)
    _jwt_flags(start)
    start.add_argument(
        "--audit",
        action=argparse.BooleanOptionalAction,
        help="record every mutating call and every refused call in the database's audit log "
        "(cadenza audit list); --no-audit turns it off (default: on when --auth is)",
    )
    start.add_argument(
        "--audit-retention",
        dest="audit_retention",
        help=f"how long audit rows are kept, as 12h, 30d or 2w (default {defaults.audit_retention})",
    )
    _name_variables(start)
    db.add_commands(commands, defaults.db)
    auth.add_commands(commands, defaults.db)
    audit.add_commands(commands, defaults.db)
    task_queue.add_commands(commands, defaults.db)
    return parser


def _tls_flags(start: argparse.ArgumentParser) -> None:
    start.add_argument(
        "--tls-cert",
        metavar="PEM",
        help="the server's certificate chain: with --tls-key, TLS on the gRPC and HTTP ports; "
        "re-read when the file changes, for new connections (default off)",
    )
    start.add_argument("--tls-key", metavar="PEM", help="the unencrypted private key of --tls-cert")
    start.add_argument(
        "--tls-client-ca",
        metavar="PEM",
        help="CA bundle for client certificates: mTLS on both ports, clients without a certificate "
        "signed by one of these CAs are refused (default off)",
    )
    start.add_argument(
        "--tls-client-roles",
        metavar="FILE",
        help="TOML or JSON rules mapping a client certificate's CN or SAN to a principal name and "
        "its roles per namespace (see the README's Security section)",
    )


def _jwt_flags(start: argparse.ArgumentParser) -> None:
    """How JWT bearer tokens are verified; none of them set, JWTs are not accepted."""
    jwt = start.add_argument_group(
        "JWT authentication (OIDC), with --auth; tokens in Temporal's claim format"
    )
    jwt.add_argument(
        "--jwt-jwks-url", metavar="URL", help="accept JWTs signed with the keys at this JWKS URL"
    )
    jwt.add_argument(
        "--jwt-key-file",
        metavar="FILE",
        help="accept JWTs signed with the keys in this file: a JWKS document, or a PEM public key or certificate",
    )
    jwt.add_argument(
        "--jwt-issuer", metavar="ISSUER", help="a JWT must carry this iss claim (default: not checked)"
    )
    jwt.add_argument(
        "--jwt-audience",
        metavar="AUDIENCE",
        help="a JWT's aud claim must name this audience (default: not checked)",
    )
    jwt.add_argument(
        "--jwt-permissions-claim",
        metavar="CLAIM",
        help="the claim listing permissions as namespace:read|write|admin, temporal-system:admin for "
        "the cluster (default permissions)",
    )
    jwt.add_argument(
        "--jwt-subject-claim", metavar="CLAIM", help="the claim that names the caller (default sub)"
    )
    jwt.add_argument(
        "--jwt-algorithms",
        metavar="ALG,...",
        help=f"signing algorithms accepted (default all of {','.join(JWT_ALGORITHMS)}; never HS* or none)",
    )


def _name_variables(command: argparse.ArgumentParser) -> None:
    """End each flag's help with the variable that sets it: --http-port, CADENZA_HTTP_PORT."""
    for action in command._actions:
        flag = next((name for name in action.option_strings if name.startswith("--")), None)
        if flag is None or flag == "--help":
            continue
        variable = "CADENZA_" + flag.removeprefix("--").replace("-", "_").upper()
        action.help = f"{action.help} [env {variable}]"


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.handler is None:
        args.incomplete.print_help(sys.stderr)
        return USAGE_ERROR
    code: int = args.handler(args)
    return code


def _start(args: argparse.Namespace) -> int:
    try:
        config = from_env(
            ip=args.ip,
            port=args.port,
            http_port=args.http_port,
            db=args.db,
            log_level=args.log_level,
            log_format=args.log_format,
            ui=args.ui,
            ui_read_only=args.ui_read_only,
            auth=args.auth,
            tls_cert=args.tls_cert,
            tls_key=args.tls_key,
            tls_client_ca=args.tls_client_ca,
            tls_client_roles=args.tls_client_roles,
            jwt_jwks_url=args.jwt_jwks_url,
            jwt_key_file=args.jwt_key_file,
            jwt_issuer=args.jwt_issuer,
            jwt_audience=args.jwt_audience,
            jwt_permissions_claim=args.jwt_permissions_claim,
            jwt_subject_claim=args.jwt_subject_claim,
            jwt_algorithms=args.jwt_algorithms,
            dynamic_config_file=args.dynamic_config_file,
            audit=args.audit,
            audit_retention=args.audit_retention,
        )
        limits, ignored = dynamic_config(config.limits, args.dynamic_config)
        config = replace(config, limits=limits, quotas=dynamic_quotas(args.dynamic_config))
        if config.dynamic_config_file:
            read_settings(config.dynamic_config_file)  # refused now, not after the server starts
        tracer = hooks.tracer_from_env(os.environ)
    except (ConfigError, SettingsError) as exc:
        print(f"cadenza: {exc}", file=sys.stderr)
        return USAGE_ERROR
    logs.configure(config.log_level, config.log_format)
    if ignored:
        logging.getLogger("cadenza").info("dynamic config not used by Cadenza: %s", ", ".join(ignored))
    hooks.use_tracer(tracer)
    try:
        asyncio.run(Server(config).serve())
    except (OSError, StorageError, ConfigError) as exc:  # ConfigError: TLS or JWT key files found unusable
        print(f"cadenza: {exc}", file=sys.stderr)
        return 1
    finally:
        if tracer is not None:
            hooks.use_tracer(None)
            tracer.shutdown()
    return 0
