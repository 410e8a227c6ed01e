"""API keys: made once, shown once, stored as a hash, checked from a short-lived cache.

A key reads ``cdz_<id>_<secret>``: the ID names its row (so a check is one
lookup, and a key can be listed and revoked by ID without its secret), the
secret is 256 random bits from ``secrets``. Only the SHA-256 of the secret is
stored; with that much randomness a fast hash is as safe as a slow one, and it
is compared in constant time (``hmac.compare_digest``). The key itself is never
stored or logged.

The authenticator keeps each row it read for ``CACHE_SECONDS``, so a busy
worker does not cost a database read per call; a key revoked or created with
the CLI (which writes the database the servers use) is seen by every server
within that time. A key's last use is written at most once per
``LAST_USED_EVERY`` seconds, in the background, never on a call's path.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from cadenza.auth.authenticators import AuthenticationError, Credentials
from cadenza.auth.principal import ANY_NAMESPACE, Principal, PrincipalKind, Role
from cadenza.clock import Clock
from cadenza.persistence.errors import StorageError
from cadenza.persistence.records import ApiKeyRecord
from cadenza.persistence.roles import ApiKeyStore

logger = logging.getLogger(__name__)

KEY_PREFIX = "cdz"
ID_HEX_CHARS = 16
SECRET_BYTES = 32
CACHE_SECONDS = 5.0
"""How long a key's row is trusted without reading it again: a revocation takes effect within it."""
MAX_CACHED = 10_000
"""Rows kept at most (unknown IDs too); past it the cache starts over."""
LAST_USED_EVERY = 60.0
"""A key's last-used time is written at most this often."""
MAX_NAME_CHARS = 200

_DURATION = re.compile(r"^([0-9]{1,6})([mhdw])$")
_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


class KeyOptionsError(ValueError):
    """The options of a new key do not make one; the message says which and why."""


@dataclass(frozen=True)
class NewKey:
    """A key just made: the key itself (shown once) and the row stored for it."""

    key: str
    record: ApiKeyRecord


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse(token: str) -> tuple[str, str] | None:
    """The ID and secret of a Cadenza API key; None when ``token`` is not one."""
    prefix, _, rest = token.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != KEY_PREFIX or len(key_id) != ID_HEX_CHARS or not secret:
        return None
    return key_id, secret


def new_key(
    namespace: str,
    role: Role,
    created_at: float,
    *,
    cluster_admin: bool = False,
    name: str = "",
    expires_at: float | None = None,
) -> NewKey:
    """A fresh key granting ``role`` on ``namespace`` (``*``: every namespace), or everything
    everywhere when ``cluster_admin``."""
    key_id = secrets.token_hex(ID_HEX_CHARS // 2)
    secret = secrets.token_urlsafe(SECRET_BYTES)
    record = ApiKeyRecord(
        key_id=key_id,
        name=name,
        namespace=ANY_NAMESPACE if cluster_admin else namespace,
        role=(Role.ADMIN if cluster_admin else role).value,
        cluster_admin=cluster_admin,
        secret_hash=secret_hash(secret),
        created_at=created_at,
        expires_at=expires_at,
    )
    return NewKey(f"{KEY_PREFIX}_{key_id}_{secret}", record)


def key_from_options(
    namespace: str | None,
    role: str | None,
    now: float,
    *,
    cluster_admin: bool = False,
    name: str = "",
    expires: str | None = None,
) -> NewKey:
    """A new key as the command line and the HTTP API describe it; ``KeyOptionsError`` when the
    options do not make one."""
    expires_at = expiry(expires, now) if expires else None
    if len(name) > MAX_NAME_CHARS:
        raise KeyOptionsError(f"the name is over {MAX_NAME_CHARS} characters")
    if cluster_admin:
        if namespace or role:
            raise KeyOptionsError("a cluster-admin key grants everything: give it no namespace and no role")
        return new_key(ANY_NAMESPACE, Role.ADMIN, now, cluster_admin=True, name=name, expires_at=expires_at)
    if not namespace or not role:
        raise KeyOptionsError("give a namespace and a role (or make a cluster-admin key)")
    if role not in {r.value for r in Role}:
        raise KeyOptionsError(f"role {role!r}: expected one of {', '.join(r.value for r in Role)}")
    return new_key(namespace, Role(role), now, name=name, expires_at=expires_at)


def expiry(text: str, now: float) -> float:
    """The time an expiry names: a duration from now (``30d``, ``12h``, ``90m``, ``2w``) or a date
    or time (UTC unless it says otherwise)."""
    duration = _DURATION.match(text.strip())
    if duration is not None:
        return now + int(duration.group(1)) * _UNIT_SECONDS[duration.group(2)]
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise KeyOptionsError(
            f"expiry {text!r}: expected 30d, 12h, 90m, 2w or a date such as 2027-01-31"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if moment.timestamp() <= now:
        raise KeyOptionsError(f"expiry {text!r} is in the past")
    return moment.timestamp()


def key_state(record: ApiKeyRecord, now: float) -> str:
    """``active``, ``expired`` or ``revoked``."""
    if record.revoked_at is not None:
        return "revoked"
    return "active" if is_active(record, now) else "expired"


async def issue_key(store: ApiKeyStore, key: NewKey) -> str:
    """Store ``key``'s row; the key, to show once."""
    await store.create_api_key(key.record)
    return key.key


def principal_of(record: ApiKeyRecord) -> Principal:
    """The principal a key proves: its ID as name, its role on its namespace."""
    return Principal(
        kind=PrincipalKind.API_KEY,
        name=record.key_id,
        roles={record.namespace: frozenset({Role(record.role)})},
        cluster_admin=record.cluster_admin,
        claims={"key_name": record.name} if record.name else {},
    )


def is_active(record: ApiKeyRecord, now: float) -> bool:
    """Neither revoked nor expired at ``now``."""
    return record.revoked_at is None and (record.expires_at is None or record.expires_at > now)


class ApiKeyAuthenticator:
    """Recognises ``cdz_`` bearer tokens and proves them against the stored hashes."""

    def __init__(self, store: ApiKeyStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock
        self._cache: dict[str, tuple[float, ApiKeyRecord | None]] = {}
        self._last_written: dict[str, float] = {}
        self._writes: set[asyncio.Task[None]] = set()

    def forget(self, key_id: str) -> None:
        """Read ``key_id``'s row again on its next use (it was just revoked here)."""
        self._cache.pop(key_id, None)

    async def authenticate(self, credentials: Credentials) -> Principal | None:
        parsed = None if credentials.bearer_token is None else parse(credentials.bearer_token)
        if parsed is None:
            return None
        key_id, secret = parsed
        record = await self._record(key_id)
        if record is None or not hmac.compare_digest(record.secret_hash, secret_hash(secret)):
            raise AuthenticationError("API key not valid")
        now = self._clock.now()
        if record.revoked_at is not None:
            raise AuthenticationError(f"API key {key_id} was revoked")
        if record.expires_at is not None and record.expires_at <= now:
            raise AuthenticationError(f"API key {key_id} expired")
        self._note_use(record, now)
        return principal_of(record)

    async def _record(self, key_id: str) -> ApiKeyRecord | None:
        cached = self._cache.get(key_id)
        if cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1]
        record = await self._store.get_api_key(key_id)
        if len(self._cache) >= MAX_CACHED:
            self._cache.clear()
        self._cache[key_id] = (time.monotonic(), record)
        return record

    def _note_use(self, record: ApiKeyRecord, now: float) -> None:
        last = max(record.last_used_at or 0.0, self._last_written.get(record.key_id, 0.0))
        if now - last < LAST_USED_EVERY:
            return
        if len(self._last_written) >= MAX_CACHED:
            self._last_written.clear()
        self._last_written[record.key_id] = now
        task = asyncio.create_task(self._write_use(record.key_id, now))
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    async def _write_use(self, key_id: str, now: float) -> None:
        try:
            await self._store.touch_api_key(key_id, now)
        except StorageError as error:
            # Only the last-used time is lost; the call itself was served.
            logger.warning("could not record the use of API key %s: %s", key_id, error)


def first_key_advice(keys: list[ApiKeyRecord], now: float, db: str) -> str | None:
    """What a server with auth on says when no key can call it; None when one can."""
    if any(is_active(key, now) for key in keys):
        return None
    if db == ":memory:":
        return (
            "auth is on and this in-memory database has no API key, so no call can be made: "
            "serve a database file instead and create a key with "
            "'cadenza auth key create --db FILE --cluster-admin'"
        )
    return (
        "auth is on and no API key exists yet: create the first (administrator) key with "
        f"'cadenza auth key create --db {db} --cluster-admin --name admin'; it is printed once"
    )
