"""Server configuration: typed, documented, read from flags and ``CADENZA_*`` env."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from cadenza.audit.times import parse_duration
from cadenza.quotas import settings as quota_settings


class ConfigError(ValueError):
    """A configuration value could not be used; the message names the key."""


@dataclass(frozen=True)
class Limits:
    """Safety limits, with Temporal's defaults."""

    blob_size_error: int = 2 * 1024 * 1024
    """Payloads above this many bytes are rejected."""
    blob_size_warn: int = 256 * 1024
    """Payloads above this many bytes are accepted with a warning in the server's log."""
    memo_size_error: int = 2 * 1024 * 1024
    """Memos above this many bytes are rejected."""
    grpc_max_message: int = 4 * 1024 * 1024
    """Largest gRPC message accepted or sent."""
    history_count_warn: int = 10 * 1024
    """Past this many events a run's history is logged as growing large."""
    history_count_error: int = 50 * 1024
    """Past this many events the run is terminated, as Temporal does."""
    history_size_warn: int = 10 * 1024 * 1024
    history_size_error: int = 50 * 1024 * 1024
    """Bytes of history: the same two limits."""
    suggest_continue_as_new_events: int = 4096
    """History length at which workflow tasks suggest continue-as-new."""
    search_attributes_number_of_keys: int = 100
    """Most search attributes one request or command may set."""
    search_attributes_size_of_value: int = 2 * 1024
    """Largest search attribute value, in bytes of its JSON."""
    search_attributes_total_size: int = 40 * 1024
    """Largest size of all the search attributes one request or command sets."""
    batcher_rps: int = 50
    """Operations per second of one batch whose request names no rate of its own."""
    max_concurrent_batches: int = 10
    """Batch operations that may run at once in one namespace (Temporal allows 1)."""
    workflow_pause_enabled: bool = False
    """Whether PauseWorkflowExecution pauses runs; off by default, as on Temporal."""
    worker_versioning_data_apis: bool = False
    """Whether the build-ID version-set APIs (UpdateWorkerBuildIdCompatibility,
    GetWorkerBuildIdCompatibility, GetWorkerTaskReachability) are served; off by default, as
    on Temporal, where they are refused PERMISSION_DENIED."""
    version_sets_per_queue: int = 10
    """Most compatible version sets one task queue may hold."""
    build_ids_per_queue: int = 100
    """Most build IDs the version sets of one task queue may hold."""
    version_drainage_grace_seconds: float = 180.0
    """After a version stops taking new work, how long before its pinned runs are first counted
    (for recently started runs to reach visibility)."""
    version_drainage_refresh_seconds: float = 180.0
    """How often a draining version's pinned runs are counted again."""


# Temporal's dynamic-config keys that Cadenza honours, and the limit each sets.
DYNAMIC_CONFIG_KEYS = {
    "limit.historyCount.suggestContinueAsNew": "suggest_continue_as_new_events",
    "limit.blobSize.error": "blob_size_error",
    "limit.blobSize.warn": "blob_size_warn",
    "limit.historyCount.warn": "history_count_warn",
    "limit.historyCount.error": "history_count_error",
    "limit.historySize.warn": "history_size_warn",
    "limit.historySize.error": "history_size_error",
    "limit.memoSize.error": "memo_size_error",
    "frontend.searchAttributesNumberOfKeysLimit": "search_attributes_number_of_keys",
    "frontend.searchAttributesSizeOfValueLimit": "search_attributes_size_of_value",
    "frontend.searchAttributesTotalSizeLimit": "search_attributes_total_size",
    "worker.batcherRPS": "batcher_rps",
    "frontend.MaxConcurrentBatchOperationPerNamespace": "max_concurrent_batches",
    "limit.versionCompatibleSetLimitPerQueue": "version_sets_per_queue",
    "limit.versionBuildIdLimitPerQueue": "build_ids_per_queue",
}
DYNAMIC_CONFIG_DURATIONS = {
    "matching.wv.VersionDrainageStatusVisibilityGracePeriod": "version_drainage_grace_seconds",
    "matching.wv.VersionDrainageStatusRefreshInterval": "version_drainage_refresh_seconds",
}
"""Temporal's dynamic-config keys that set a duration: seconds (``10``) or with a unit (``"1s"``)."""
DYNAMIC_CONFIG_SWITCHES = {
    "frontend.WorkflowPauseEnabled": "workflow_pause_enabled",
    "frontend.workerVersioningDataAPIs": "worker_versioning_data_apis",
}
"""Temporal's dynamic-config keys that switch a feature on (``true``) or off (``false``)."""


DYNAMIC_CONFIG_FLAG = "--dynamic-config-value"
DYNAMIC_CONFIG_ENV = "CADENZA_DYNAMIC_CONFIG_VALUE"
"""The environment form of the repeatable flag: one or more ``KEY=VALUE`` separated by
whitespace (spaces or newlines), as no key or compact JSON value contains any."""


def apply_dynamic_config(
    limits: Limits, pairs: list[str], source: str = DYNAMIC_CONFIG_FLAG
) -> tuple[Limits, list[str]]:
    """Apply ``key=value`` settings as Temporal's ``--dynamic-config-value`` takes them.

    Returns the new limits and the keys Cadenza does not act on (features that
    are always on here, or not yet built), so the caller can say so. ``source``
    names where the settings came from in errors (the flag or its variable).
    """
    values: dict[str, Any] = {}
    ignored = []
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep:
            raise ConfigError(f"{source} {pair!r}: expected KEY=VALUE")
        field_name = DYNAMIC_CONFIG_KEYS.get(key.strip())
        if key.strip() in quota_settings.KEYS:
            continue  # read by ``quota_settings.from_pairs``, values per namespace and all
        if key.strip() in DYNAMIC_CONFIG_SWITCHES:
            values[DYNAMIC_CONFIG_SWITCHES[key.strip()]] = _switch(source, key, raw)
            continue
        if key.strip() in DYNAMIC_CONFIG_DURATIONS:
            values[DYNAMIC_CONFIG_DURATIONS[key.strip()]] = _duration(source, key, raw)
            continue
        if field_name is None:
            ignored.append(key.strip())
            continue
        try:
            values[field_name] = int(raw.strip().strip('"'))
        except ValueError as exc:
            raise ConfigError(f"{source} {key}: {raw!r} is not a whole number") from exc
    return replace(limits, **values), ignored


def _duration(source: str, key: str, raw: str) -> float:
    value = raw.strip().strip('"')
    try:
        seconds = float(value) if value.replace(".", "", 1).isdigit() else parse_duration(value)
    except ValueError as exc:
        raise ConfigError(f'{source} {key}: {raw!r} is not a duration (10, "10s", "3m")') from exc
    return seconds


def _switch(source: str, key: str, raw: str) -> bool:
    value = raw.strip().strip('"').lower()
    if value not in ("true", "false"):
        raise ConfigError(f"{source} {key}: {raw!r} is neither true nor false")
    return value == "true"


def dynamic_config(
    limits: Limits, flags: list[str], env: Mapping[str, str] | None = None
) -> tuple[Limits, list[str]]:
    """Apply ``CADENZA_DYNAMIC_CONFIG_VALUE`` and then the flags, so a key given both
    ways takes the flag's value; returns the limits and the keys Cadenza does not act on."""
    env = os.environ if env is None else env
    from_variable = env.get(DYNAMIC_CONFIG_ENV, "").split()
    limits, ignored = apply_dynamic_config(limits, from_variable, DYNAMIC_CONFIG_ENV)
    limits, ignored_flags = apply_dynamic_config(limits, flags)
    return limits, list(dict.fromkeys([*ignored, *ignored_flags]))


def dynamic_quotas(flags: list[str], env: Mapping[str, str] | None = None) -> quota_settings.QuotaSettings:
    """The rate-limit settings of ``CADENZA_DYNAMIC_CONFIG_VALUE`` and the flags, the flags'
    taking precedence."""
    env = os.environ if env is None else env
    try:
        from_variable = quota_settings.from_pairs(env.get(DYNAMIC_CONFIG_ENV, "").split(), DYNAMIC_CONFIG_ENV)
        return quota_settings.from_pairs(flags, DYNAMIC_CONFIG_FLAG).over(from_variable)
    except quota_settings.SettingsError as exc:
        raise ConfigError(str(exc)) from exc


LOG_LEVELS = ("debug", "info", "warning", "error")
LOG_FORMATS = ("text", "json")


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
    """A SQLite file path, ``:memory:`` for a throwaway server, or ``postgresql://user:pass@host/db``."""
    default_namespace: str = "default"
    """Namespace created on first start."""
    long_poll_seconds: float = 60.0
    """How long a task poll waits for work before answering empty."""
    history_long_poll_seconds: float = 20.0
    """How long a history long poll waits for a new event before answering empty."""
    retention_sweep_seconds: float = 60.0
    """How often closed executions past their namespace's retention are deleted."""
    log_level: str = "warning"
    """The least severe log records written: debug, info, warning or error."""
    log_format: str = "text"
    """``text`` (a line per record) or ``json`` (an object per line); the command line sets
    up logging from these two before the server starts."""
    metrics: bool = True
    """Record Prometheus metrics (served at ``/metrics`` on the HTTP port); off, nothing is recorded."""
    metrics_label_limit: int = 100
    """Distinct namespaces, task queues and workflow types that get a metric label value of
    their own; later ones are counted under ``_other_``, so no client can grow the series without end."""
    ui: bool = True
    """Serve the web UI on the HTTP port (``/``, ``/namespaces/...``)."""
    ui_read_only: bool = False
    """The web UI shows everything and changes nothing: its actions are hidden and refused."""
    auth: bool = False
    """Every call must prove who it is (an API key, ...) and may do only what its roles allow;
    off, every call is anonymous and may do everything."""
    tls_cert: str = ""
    """PEM file of the server's certificate chain: with ``tls_key``, TLS on the gRPC and HTTP
    ports (empty: plain TCP). Re-read when it changes, for new connections."""
    tls_key: str = ""
    """PEM file of the private key of ``tls_cert`` (unencrypted)."""
    tls_client_ca: str = ""
    """PEM bundle of the CAs that sign client certificates: mTLS on both ports, a client without
    a certificate signed by one of them is refused (empty: no client certificates asked for)."""
    tls_client_roles: str = ""
    """TOML or JSON file mapping client certificates (subject CN, SAN) to a principal and its
    roles; see ``cadenza.auth.certificates``. Needs ``tls_client_ca``."""
    jwt_jwks_url: str = ""
    """Accept JWT bearer tokens signed with the keys published at this JWKS URL (an identity
    provider's ``jwks_uri``); fetched when first needed, again for a key it lacks."""
    jwt_key_file: str = ""
    """Accept JWT bearer tokens signed with the keys in this file: a JWKS document, or one PEM
    public key or certificate; read at start."""
    jwt_issuer: str = ""
    """When set, a JWT must carry this ``iss``."""
    jwt_audience: str = ""
    """When set, a JWT's ``aud`` must name this audience."""
    jwt_permissions_claim: str = "permissions"
    """The JWT claim listing permissions in Temporal's format, ``namespace:read|write|admin``."""
    jwt_subject_claim: str = "sub"
    """The JWT claim that names the caller."""
    jwt_algorithms: str = ""
    """The JWT signing algorithms accepted, separated by commas; empty, every asymmetric one
    (RS256/384/512, PS256/384/512, ES256/384/512, EdDSA). Shared-secret ones and ``none`` never are."""
    audit: bool | None = None
    """Record the audit log (mutating and refused calls, in the database); unset, it is
    recorded whenever authentication is on."""
    audit_retention: str = "30d"
    """How long audit rows are kept (``30d``, ``12h``); older ones are deleted every
    ``retention_sweep_seconds``."""
    limits: Limits = field(default_factory=Limits)
    quotas: quota_settings.QuotaSettings = field(default_factory=quota_settings.QuotaSettings)
    """Rate limits and long-poll quotas from ``--dynamic-config-value`` (see ``cadenza.quotas``)."""
    dynamic_config_file: str = ""
    """A Temporal dynamic-config YAML file whose rate-limit keys apply over ``quotas``, re-read
    when it changes."""
    dynamic_config_poll_seconds: float = 10.0
    """How often the dynamic-config file is checked for changes (Temporal's default)."""

    @property
    def audit_on(self) -> bool:
        """Whether the audit log is recorded: as ``audit`` says, else when auth is on."""
        if self.audit is not None:
            return self.audit
        return self.auth

    @property
    def audit_retention_seconds(self) -> float:
        return parse_duration(self.audit_retention)

    def __post_init__(self) -> None:
        try:
            parse_duration(self.audit_retention)
        except ValueError as exc:
            raise ConfigError(f"--audit-retention: {exc}") from None
        for name in ("port", "http_port"):
            _check_port(name, getattr(self, name))
        for name, allowed in _CHOICES.items():
            if getattr(self, name) not in allowed:
                flag = "--" + name.replace("_", "-")
                raise ConfigError(f"{flag} {getattr(self, name)!r}: expected one of {', '.join(allowed)}")
        if self.dynamic_config_poll_seconds <= 0:
            raise ConfigError(
                f"CADENZA_DYNAMIC_CONFIG_POLL_SECONDS {self.dynamic_config_poll_seconds} must be more than 0"
            )
        if self.metrics_label_limit < 0:
            raise ConfigError(
                f"CADENZA_METRICS_LABEL_LIMIT {self.metrics_label_limit} is negative: it is a number of values"
            )
        _check_tls(self)


_CHOICES = {"log_level": LOG_LEVELS, "log_format": LOG_FORMATS}
"""The fields that take one of a few words, and those words (in lower case)."""


MAX_PORT = 65535


def _check_tls(config: ServerConfig) -> None:
    """The TLS flags need each other: a certificate and its key, and TLS under mTLS."""
    if bool(config.tls_cert) != bool(config.tls_key):
        given, missing = ("--tls-cert", "--tls-key") if config.tls_cert else ("--tls-key", "--tls-cert")
        raise ConfigError(f"{given} needs {missing}: TLS takes a certificate and its private key")
    if config.tls_client_ca and not config.tls_cert:
        raise ConfigError(
            "--tls-client-ca needs --tls-cert and --tls-key: mTLS is TLS with client certificates"
        )
    if config.tls_client_roles and not config.tls_client_ca:
        raise ConfigError(
            "--tls-client-roles needs --tls-client-ca: roles are given to verified client certificates"
        )


def _check_port(name: str, value: int) -> None:
    """A TCP port number; 0 asks the system for a free one."""
    if not 0 <= value <= MAX_PORT:
        flag = "--" + name.replace("_", "-")
        raise ConfigError(f"{flag} {value} is out of range: a port is 0 to {MAX_PORT}")


_ENV_PREFIX = "CADENZA_"
_OPTIONAL_SWITCHES = frozenset({"audit"})
"""Switches whose default (None) follows another setting; the environment sets them on or off."""


def from_env(env: Mapping[str, str] | None = None, **overrides: object) -> ServerConfig:
    """Build a config from ``CADENZA_<FIELD>`` variables, then explicit overrides."""
    env = os.environ if env is None else env
    values: dict[str, object] = {}
    for f in fields(ServerConfig):
        if f.name in ("limits", "quotas"):
            continue
        raw = env.get(_ENV_PREFIX + f.name.upper())
        if raw is None:
            continue
        kind = bool if f.name in _OPTIONAL_SWITCHES else type(getattr(ServerConfig(), f.name))
        values[f.name] = _convert(f.name, raw, kind)
    values.update({k: v for k, v in overrides.items() if v is not None})
    return ServerConfig(**values)  # type: ignore[arg-type]


def _convert(name: str, raw: str, kind: type) -> object:
    variable = _ENV_PREFIX + name.upper()
    allowed = _CHOICES.get(name)
    if allowed is not None:
        # Words are taken in any case, as LOG_LEVEL=INFO is commonly written.
        if raw.strip().lower() not in allowed:
            raise ConfigError(f"{variable}: {raw!r} is not one of {', '.join(allowed)}")
        return raw.strip().lower()
    if kind is bool:
        return _boolean(variable, raw)
    try:
        return kind(raw)
    except ValueError as exc:
        raise ConfigError(f"{variable}: cannot read {raw!r} as {kind.__name__}") from exc


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def _boolean(variable: str, raw: str) -> bool:
    word = raw.strip().lower()
    if word not in _TRUE + _FALSE:
        raise ConfigError(f"{variable}: {raw!r} is not one of {', '.join(_TRUE + _FALSE)}")
    return word in _TRUE
