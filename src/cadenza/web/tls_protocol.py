"""HTTPS on uvicorn: certificate reload per connection, and the client certificate in the scope.

asyncio serves every connection of a listener with the one ``ssl.SSLContext`` it was given,
so a renewed certificate is loaded into that same context; uvicorn makes the connection's
protocol before the TLS handshake starts, which is where the files are looked at. The verified
client certificate reaches the app as the ASGI TLS extension has it:
``scope["extensions"]["tls"]["client_cert_chain"]``, a list of PEM strings, and, for code
that sees no scope (the UI's calls), as ``connection_certificate`` while the request is served.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from contextvars import ContextVar
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from cadenza.tls import CertificateWatcher, TlsError

logger = logging.getLogger(__name__)


connection_certificate: ContextVar[bytes | None] = ContextVar("connection_certificate", default=None)
"""The verified client certificate (PEM) of the connection the request being served came on."""


def client_certificate(scope: Scope) -> bytes | None:
    """The verified client certificate (PEM) of the connection a request came on; None without one."""
    chain = scope.get("extensions", {}).get("tls", {}).get("client_cert_chain") or ()
    return chain[0].encode() if chain else None


class Reloading:
    """The listener's one TLS context, refreshed from the files when they change."""

    def __init__(self, watcher: CertificateWatcher) -> None:
        self._watcher = watcher
        self.context = watcher.files.server_context()

    def refresh(self) -> None:
        if self._watcher.changed() is None:
            return
        try:
            # Checked whole just before, so a failure here is a file changed again meanwhile.
            self._watcher.files.load_into(self.context)
        except TlsError as exc:
            logger.warning("TLS files changed while being loaded, still serving the old ones: %s", exc)


def protocol_for(reloading: Reloading) -> type[H11Protocol]:
    """uvicorn's HTTP/1.1 protocol, refreshing the certificate for each new connection and
    telling the app the client's certificate."""

    class TlsH11Protocol(H11Protocol):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            reloading.refresh()  # before this connection's handshake, which uses the context
            super().__init__(*args, **kwargs)

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            ssl_object: ssl.SSLObject | None = transport.get_extra_info("ssl_object")
            der = None if ssl_object is None else ssl_object.getpeercert(binary_form=True)
            if der:
                self.app = _with_client_certificate(self.app, ssl.DER_cert_to_PEM_cert(der))

    return TlsH11Protocol


def _with_client_certificate(app: ASGIApp, pem: str) -> ASGIApp:
    certificate = pem.encode()

    async def with_certificate(scope: Scope, receive: Receive, send: Send) -> None:
        extensions = {**scope.get("extensions", {}), "tls": {"client_cert_chain": [pem]}}
        token = connection_certificate.set(certificate)
        try:
            await app({**scope, "extensions": extensions}, receive, send)
        finally:
            connection_certificate.reset(token)

    return with_certificate
