"""The credentials a call presents, read the same way from a gRPC call and from an HTTP one.

gRPC's ``ServicerContext`` and ``HttpCallContext`` both answer ``invocation_metadata()``
(the HTTP API forwards ``Authorization`` and ``Grpc-Metadata-*`` headers as metadata) and
``auth_context()`` (the verified client certificate under ``x509_pem_cert`` when the
connection was mTLS), so one function serves both.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from cadenza.api.http_calls import PEER_CERTIFICATE_KEY
from cadenza.auth.authenticators import Credentials

AUTHORIZATION = "authorization"
BEARER = "bearer"


class CallContext(Protocol):
    """What credentials are read from: grpc's servicer context, or ``HttpCallContext``."""

    def invocation_metadata(self) -> Any: ...

    def auth_context(self) -> Mapping[str, Iterable[bytes]]: ...


def credentials_of(context: CallContext) -> Credentials:
    """The bearer token, client certificate and other metadata of the call ``context`` serves."""
    metadata: dict[str, str] = {}
    for key, value in context.invocation_metadata() or ():
        # Binary (``-bin``) metadata carries nothing an authenticator reads; a repeated key
        # counts as its first value.
        if isinstance(value, str):
            metadata.setdefault(key.lower(), value)
    token = bearer_token(metadata.get(AUTHORIZATION))
    if token is not None:
        del metadata[AUTHORIZATION]  # the token is in the credentials, not twice
    return Credentials(bearer_token=token, client_certificate=_peer_certificate(context), metadata=metadata)


def bearer_token(header: str | None) -> str | None:
    """The token of an ``authorization: Bearer <token>`` value (the scheme in any case); None
    for another scheme or none."""
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != BEARER or not token.strip():
        return None
    return token.strip()


def _peer_certificate(context: CallContext) -> bytes | None:
    certificates = list(context.auth_context().get(PEER_CERTIFICATE_KEY, ()))
    return certificates[0] if certificates else None
