"""Server configuration: typed, documented, read from flags and ``CADENZA_*`` env."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields


@dataclass(frozen=True)
class Limits:
    """Safety limits, with Temporal's defaults."""

    blob_size_warn: int = 256 * 1024
    """Payloads above this many bytes are logged."""
    blob_size_error: int = 2 * 1024 * 1024
    """Payloads above this many bytes are rejected."""
    memo_size_error: int = 2 * 1024 * 1024
    """Memos above this many bytes are rejected."""
    grpc_max_message: int = 4 * 1024 * 1024
    """Largest gRPC message accepted or sent."""


@dataclass(frozen=True)
class ServerConfig:
    """Everything ``cadenza server start`` can be told."""

    ip: str = "127.0.0.1"
    """Address the gRPC and HTTP listeners bind to."""
    port: int = 7233
    """gRPC port (Temporal's default, so SDK defaults just work)."""
    http_port: int = 8233
    """HTTP port for health and metrics."""
    db: str = "cadenza.db"
    """A SQLite file path, or ``:memory:`` for a throwaway server."""
    default_namespace: str = "default"
    """Namespace created on first start."""
    long_poll_seconds: float = 60.0
    """How long a task poll waits for work before answering empty."""
    history_long_poll_seconds: float = 20.0
    """How long a history long poll waits for a new event before answering empty."""
    limits: Limits = field(default_factory=Limits)


_ENV_PREFIX = "CADENZA_"


class ConfigError(ValueError):
    """A configuration value could not be used; the message names the key."""


def from_env(env: Mapping[str, str] | None = None, **overrides: object) -> ServerConfig:
    """Build a config from ``CADENZA_<FIELD>`` variables, then explicit overrides."""
    env = os.environ if env is None else env
    values: dict[str, object] = {}
    for f in fields(ServerConfig):
        if f.name == "limits":
            continue
        raw = env.get(_ENV_PREFIX + f.name.upper())
        if raw is None:
            continue
        values[f.name] = _convert(f.name, raw, type(getattr(ServerConfig(), f.name)))
    values.update({k: v for k, v in overrides.items() if v is not None})
    return ServerConfig(**values)  # type: ignore[arg-type]


def _convert(name: str, raw: str, kind: type) -> object:
    try:
        return kind(raw)
    except ValueError as exc:
        raise ConfigError(f"{_ENV_PREFIX}{name.upper()}: cannot read {raw!r} as {kind.__name__}") from exc
