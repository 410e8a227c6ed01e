"""JWT (OIDC) authentication: a bearer token signed by an identity provider becomes a principal.

The token's signature is checked with the provider's public key (from its
JWKS URL or a local file), then its times (``exp`` required, ``nbf``, ``iat``,
with a little leeway for clocks that disagree), then its issuer and audience
when they are configured. Its subject names the principal and its
permissions claim, in Temporal's format (``cadenza.auth.temporal_claims``),
gives the roles. A bearer token that is not a JWT at all (an API key) is left
to the next authenticator.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import jwt
from jwt.utils import base64url_decode

from cadenza.auth.authenticators import AuthenticationError, Credentials
from cadenza.auth.jwt_keys import KEY_KINDS, KeySource, LocalKeys, PublicKey, RemoteKeys
from cadenza.auth.principal import Principal, PrincipalKind
from cadenza.auth.temporal_claims import permissions_from_claim
from cadenza.config import ConfigError, ServerConfig

LEEWAY_SECONDS = 30
"""How far the server's clock may disagree with the token issuer's on ``exp``, ``nbf`` and ``iat``."""

REMEMBERED_TOKENS = 1024
"""How many verified tokens are remembered, so a worker polling with one token has its signature
checked once rather than on every call (a check costs a few hundred microseconds)."""
REMEMBERED_SECONDS = 300.0
"""Longest a verified token is remembered (never past its ``exp``): as long as a fetched key set
is used, so a key withdrawn by the issuer stops working as soon either way."""


class VerifiedTokens:
    """Tokens already verified, each with its principal, until it expires; the oldest go first."""

    def __init__(self, clock: Callable[[], float], size: int = REMEMBERED_TOKENS) -> None:
        self._clock = clock
        self._size = size
        self._principals: dict[str, tuple[Principal, float]] = {}

    def principal_of(self, token: str) -> Principal | None:
        remembered = self._principals.get(token)
        if remembered is None:
            return None
        principal, until = remembered
        if self._clock() < until:
            return principal
        del self._principals[token]
        return None

    def remember(self, token: str, principal: Principal, expires: float) -> None:
        if len(self._principals) >= self._size:
            del self._principals[next(iter(self._principals))]
        self._principals[token] = (principal, min(expires, self._clock() + REMEMBERED_SECONDS))


class JwtAuthenticator:
    """Verifies JWT bearer tokens against one key source; see the module's docstring."""

    def __init__(
        self,
        keys: KeySource,
        *,
        algorithms: Sequence[str] = tuple(KEY_KINDS),
        issuer: str = "",
        audience: str = "",
        permissions_claim: str = "permissions",
        subject_claim: str = "sub",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._keys = keys
        self._algorithms = tuple(algorithms)
        self._issuer = issuer
        self._audience = audience
        self._permissions_claim = permissions_claim
        self._subject_claim = subject_claim
        self._verified = VerifiedTokens(clock)

    async def authenticate(self, credentials: Credentials) -> Principal | None:
        token = credentials.bearer_token
        if not token:
            return None
        remembered = self._verified.principal_of(token)
        if remembered is not None:
            return remembered
        header = _header(token)
        if header is None:
            return None
        algorithm = header.get("alg")
        if algorithm not in self._algorithms:
            raise AuthenticationError(
                f"the token's algorithm {algorithm!r} is not accepted (accepted: {', '.join(self._algorithms)})"
            )
        key = await self._keys.key_for(header)
        if not isinstance(key, KEY_KINDS[algorithm]):
            raise AuthenticationError(f"the token's algorithm {algorithm} does not fit its key")
        claims = self._verified_claims(token, key, algorithm)
        principal = self._principal(claims)
        self._verified.remember(token, principal, float(claims["exp"]))
        return principal

    def _verified_claims(self, token: str, key: PublicKey, algorithm: str) -> dict[str, Any]:
        required = ["exp", *(["iss"] if self._issuer else []), *(["aud"] if self._audience else [])]
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                # Without a configured audience the token's own is not checked, as Temporal does.
                options={
                    "require": required,
                    "verify_aud": bool(self._audience),
                    "enforce_minimum_key_length": True,
                },
                audience=self._audience or None,
                issuer=self._issuer or None,
                leeway=LEEWAY_SECONDS,
            )
        except jwt.PyJWTError as exc:
            raise AuthenticationError(self._reason(exc)) from exc
        return claims

    def _reason(self, error: jwt.PyJWTError) -> str:
        """What was wrong with the token, in words for the caller (most specific errors first)."""
        if isinstance(error, jwt.ExpiredSignatureError):
            return "the token has expired"
        if isinstance(error, jwt.ImmatureSignatureError):
            return "the token is not valid yet"
        if isinstance(error, jwt.MissingRequiredClaimError):
            return f"the token has no {error.claim!r} claim"
        if isinstance(error, jwt.InvalidIssuerError):
            return f"the token was not issued by {self._issuer}"
        if isinstance(error, jwt.InvalidAudienceError):
            return f"the token is not meant for {self._audience}"
        if isinstance(error, jwt.InvalidSignatureError):
            return "the token's signature does not verify"
        if isinstance(error, jwt.InvalidKeyError):
            return f"the token's key cannot be used: {error}"
        if isinstance(error, jwt.DecodeError):
            return f"the token is malformed: {error}"
        return f"the token is not valid: {error}"

    def _principal(self, claims: Mapping[str, Any]) -> Principal:
        subject = claims.get(self._subject_claim)
        if not isinstance(subject, str) or not subject:
            raise AuthenticationError(f"the token has no {self._subject_claim!r} claim naming who it is for")
        permissions = permissions_from_claim(claims.get(self._permissions_claim))
        return Principal(
            PrincipalKind.JWT,
            subject,
            roles=permissions.roles,
            cluster_admin=permissions.cluster_admin,
            claims=dict(claims),
        )


def _header(token: str) -> dict[str, Any] | None:
    """The token's JOSE header; None when the token is not a JWT at all, so that another
    authenticator may know it. One that is a JWT but malformed is refused."""
    if not _is_jwt(token):
        return None
    try:
        return jwt.get_unverified_header(token)
    except jwt.InvalidTokenError as exc:
        raise AuthenticationError(f"the token is malformed: {exc}") from exc


def _is_jwt(token: str) -> bool:
    """Three parts between dots, the first a JSON object naming an algorithm: what a JWT has
    and an API key has not, whatever else is wrong with it."""
    parts = token.split(".")
    if len(parts) != 3:
        return False
    try:
        header = json.loads(base64url_decode(parts[0]))
    except ValueError:  # not base64url, not UTF-8, not JSON
        return False
    return isinstance(header, dict) and "alg" in header


def algorithms_from(text: str) -> tuple[str, ...]:
    """The algorithms named in ``--jwt-algorithms`` (commas or spaces between), or every
    asymmetric one when it is empty; ``ConfigError`` for a shared-secret one or ``none``."""
    canonical = {name.lower(): name for name in KEY_KINDS}
    names = [name for name in re.split(r"[,\s]+", text.strip()) if name]
    unknown = [name for name in names if name.lower() not in canonical]
    if unknown:
        raise ConfigError(
            f"--jwt-algorithms {', '.join(unknown)}: not accepted; a JWT here is signed with one of "
            f"{', '.join(KEY_KINDS)} (asymmetric only, so a public key can never verify a forged HMAC)"
        )
    return tuple(dict.fromkeys(canonical[name.lower()] for name in names)) or tuple(KEY_KINDS)


def jwt_authenticator(config: ServerConfig) -> JwtAuthenticator | None:
    """The JWT authenticator the configuration asks for, or None when it names no keys.

    Reads the key file now, so a bad one stops the server from starting (``ConfigError``).
    """
    keys: KeySource
    if config.jwt_jwks_url and config.jwt_key_file:
        raise ConfigError("--jwt-jwks-url and --jwt-key-file: give one source of keys, not both")
    if config.jwt_jwks_url:
        keys = RemoteKeys(config.jwt_jwks_url)
    elif config.jwt_key_file:
        keys = LocalKeys.from_file(config.jwt_key_file)
    else:
        if config.jwt_issuer or config.jwt_audience:
            raise ConfigError("--jwt-issuer and --jwt-audience need --jwt-jwks-url or --jwt-key-file")
        return None
    return JwtAuthenticator(
        keys,
        algorithms=algorithms_from(config.jwt_algorithms),
        issuer=config.jwt_issuer,
        audience=config.jwt_audience,
        permissions_claim=config.jwt_permissions_claim,
        subject_claim=config.jwt_subject_claim,
    )
