"""The seam between credentials and principals: each way of authenticating is one ``Authenticator``.

A call presents ``Credentials`` (its bearer token, its client certificate);
the server asks each configured authenticator in turn. One that does not
recognise the credential answers None and the next is asked; one that
recognises it but finds it bad (expired, revoked, wrong signature) raises
``AuthenticationError``, and the call is refused without asking the others.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from cadenza.auth.principal import Principal


class AuthenticationError(Exception):
    """The credentials were recognised and are not valid; the message says why, for the caller."""


@dataclass(frozen=True)
class Credentials:
    """What one call presents, from gRPC metadata or HTTP headers and the TLS session."""

    bearer_token: str | None = None
    """The token of an ``authorization: Bearer ...`` header (how SDKs send an API key or a JWT)."""
    client_certificate: bytes | None = None
    """The verified client certificate, PEM, when the call came over mTLS."""
    metadata: Mapping[str, str] = field(default_factory=dict)
    """Every other header, lower-cased names."""


class Authenticator(Protocol):
    """One way of turning credentials into a principal."""

    async def authenticate(self, credentials: Credentials) -> Principal | None:
        """The principal these credentials prove; None when they are not of this kind.

        Raises ``AuthenticationError`` when they are of this kind and do not hold.
        """


async def authenticate(authenticators: Sequence[Authenticator], credentials: Credentials) -> Principal | None:
    """The first principal an authenticator finds; None when none recognises the credentials."""
    for authenticator in authenticators:
        principal = await authenticator.authenticate(credentials)
        if principal is not None:
            return principal
    return None
