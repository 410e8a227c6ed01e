"""Where the keys that verify JWTs come from: a local file read at start, or an issuer's JWKS URL.

Either source answers one question, the public key for a token's header,
and never decides which algorithm a token may use: the configured list does
(see ``cadenza.auth.jwt_tokens``), and the key must be of that algorithm's kind.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey
from cryptography.hazmat.primitives.asymmetric.ed448 import Ed448PublicKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from jwt import PyJWK, PyJWKClient, PyJWKClientError, PyJWKSet
from jwt.exceptions import PyJWKError, PyJWKSetError

from cadenza.auth import jwt_algorithms
from cadenza.auth.authenticators import AuthenticationError
from cadenza.config import ConfigError

logger = logging.getLogger(__name__)

PublicKey = RSAPublicKey | EllipticCurvePublicKey | Ed25519PublicKey | Ed448PublicKey
"""The kinds of key an asymmetric JWT algorithm verifies with."""

KEY_KINDS: Mapping[str, tuple[type, ...]] = {
    **dict.fromkeys(jwt_algorithms.RSA, (RSAPublicKey,)),
    **dict.fromkeys(jwt_algorithms.ELLIPTIC_CURVE, (EllipticCurvePublicKey,)),
    **dict.fromkeys(jwt_algorithms.EDWARDS_CURVE, (Ed25519PublicKey, Ed448PublicKey)),
}
"""Every algorithm a JWT may be signed with here, and the kind of key each verifies with: only
asymmetric ones, so a public key can never be taken for a shared secret (and never ``none``)."""

JWKS_LIFESPAN_SECONDS = 300.0
"""How long a fetched key set is used before it is fetched again."""
JWKS_REFRESH_COOLDOWN_SECONDS = 10.0
"""Least time between two fetches of the key set (for a key it lacks, or after a failed fetch)."""
JWKS_TIMEOUT_SECONDS = 10.0
"""How long one fetch of the key set may take."""


class KeySource(Protocol):
    """Finds the public key a token says it was signed with."""

    async def key_for(self, header: Mapping[str, Any]) -> PublicKey:
        """The key named by the token's header; ``AuthenticationError`` when there is none."""


def _public_key(jwk: PyJWK) -> PublicKey | None:
    """The JWK's public key, if it is of an asymmetric kind (a shared secret is never used)."""
    key = jwk.key
    if isinstance(key, PublicKey):
        return key
    public = getattr(key, "public_key", None)
    derived = public() if callable(public) else None
    return derived if isinstance(derived, PublicKey) else None


def _kid(header: Mapping[str, Any]) -> str | None:
    kid = header.get("kid")
    return kid if isinstance(kid, str) else None


class LocalKeys:
    """Keys read once from a file: a JWKS document or one PEM public key (or certificate)."""

    def __init__(self, keys: Mapping[str, PublicKey], only: PublicKey | None) -> None:
        self._keys = dict(keys)
        self._only = only
        """The key used for a token that names none: the file's only key, if it holds one."""

    @classmethod
    def from_file(cls, path: str) -> LocalKeys:
        """Read the file; ``ConfigError`` naming it when it holds no usable public key."""
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise ConfigError(f"--jwt-key-file {path}: cannot be read: {exc.strerror}") from exc
        if data.lstrip().startswith(b"{"):
            return cls._from_jwks(path, data)
        key = _pem_key(path, data)
        return cls({}, key)

    @classmethod
    def _from_jwks(cls, path: str, data: bytes) -> LocalKeys:
        try:
            document = json.loads(data)
            jwks = PyJWKSet.from_dict(document if "keys" in document else {"keys": [document]})
        except (ValueError, PyJWKError, PyJWKSetError) as exc:
            raise ConfigError(f"--jwt-key-file {path}: not a usable JWKS document: {exc}") from exc
        keys: dict[str, PublicKey] = {}
        unnamed: list[PublicKey] = []
        for jwk in jwks:
            key = _public_key(jwk)
            if key is None or jwk.public_key_use not in ("sig", None):
                continue
            if jwk.key_id:
                keys[jwk.key_id] = key
            else:
                unnamed.append(key)
        every = [*keys.values(), *unnamed]
        if not every:
            raise ConfigError(f"--jwt-key-file {path}: holds no public signing key (RSA, EC or OKP)")
        return cls(keys, every[0] if len(every) == 1 else None)

    async def key_for(self, header: Mapping[str, Any]) -> PublicKey:
        kid = _kid(header)
        if kid is not None and kid in self._keys:
            return self._keys[kid]
        # A PEM key has no ID, so any the token names is taken to be it.
        if self._only is not None and (kid is None or not self._keys):
            return self._only
        if kid is None:
            raise AuthenticationError(
                "the token names no key (no 'kid' header) and the key file holds several"
            )
        raise AuthenticationError(f"the token's key {kid!r} is not in the key file")


def _pem_key(path: str, data: bytes) -> PublicKey:
    if b"PRIVATE KEY-----" in data:
        raise ConfigError(f"--jwt-key-file {path}: a private key; give the issuer's public key instead")
    try:
        if b"-----BEGIN CERTIFICATE-----" in data:
            key: object = x509.load_pem_x509_certificate(data).public_key()
        else:
            key = load_pem_public_key(data)
    except ValueError as exc:
        raise ConfigError(
            f"--jwt-key-file {path}: neither a JWKS document nor a PEM public key or certificate"
        ) from exc
    if not isinstance(key, PublicKey):
        raise ConfigError(f"--jwt-key-file {path}: a {type(key).__name__}, not an RSA, EC or EdDSA key")
    return key


class RemoteKeys:
    """Keys fetched from a JWKS URL, kept for a while, and fetched again for a key they lack.

    The fetch blocks (urllib), so it runs in a thread, one at a time; a token
    whose key is known is verified without leaving the event loop. Fetches are
    at least ``refresh_cooldown`` apart, so tokens naming made-up keys cannot
    make the server hammer the issuer, nor wait on it over and over while it
    is down; and while it is down the keys fetched last stay in use.
    """

    def __init__(
        self,
        url: str,
        refresh_cooldown: float = JWKS_REFRESH_COOLDOWN_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        try:
            self._client = PyJWKClient(url, cache_jwk_set=False, timeout=JWKS_TIMEOUT_SECONDS)
        except PyJWKClientError as exc:
            raise ConfigError(f"--jwt-jwks-url {url}: {exc}") from exc
        self.url = url
        self._cooldown = refresh_cooldown
        self._clock = clock
        self._keys: dict[str, PublicKey] = {}
        self._fetched_at: float | None = None
        """When the keys were last fetched; None until they have been."""
        self._tried_at: float | None = None
        """When a fetch was last tried, whether or not it worked."""
        self._fetching = asyncio.Lock()

    async def key_for(self, header: Mapping[str, Any]) -> PublicKey:
        kid = _kid(header)
        if kid is None:
            raise AuthenticationError("the token names no key (no 'kid' header)")
        if self._should_fetch(kid):
            async with self._fetching:
                if self._should_fetch(kid):  # not fetched by another call while this one waited
                    await self._fetch()
        key = self._keys.get(kid)
        if key is not None:
            return key
        if self._fetched_at is None or self._fetched_at != self._tried_at:
            raise AuthenticationError(f"the signing keys could not be fetched from {self.url}")
        raise AuthenticationError(f"the token's key {kid!r} is not among the keys at {self.url}")

    def _should_fetch(self, kid: str) -> bool:
        now = self._clock()
        fresh = self._fetched_at is not None and now - self._fetched_at < JWKS_LIFESPAN_SECONDS
        if fresh and kid in self._keys:
            return False
        return self._tried_at is None or now - self._tried_at >= self._cooldown

    async def _fetch(self) -> None:
        self._tried_at = self._clock()
        try:
            jwks = await asyncio.to_thread(self._client.get_signing_keys, True)
        except (PyJWKClientError, PyJWKError, PyJWKSetError, ValueError) as exc:
            # ValueError: the answer was not JSON. The keys fetched before stay in use.
            logger.warning("JWT signing keys could not be fetched from %s: %s", self.url, exc)
            return
        keys = {jwk.key_id: _public_key(jwk) for jwk in jwks if jwk.key_id}
        self._keys = {kid: key for kid, key in keys.items() if key is not None}
        self._fetched_at = self._tried_at
