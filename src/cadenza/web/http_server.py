"""uvicorn serving the HTTP app inside the server's own event loop.

The socket is bound (and listening) before storage is opened, so a taken port
fails the start at once in one line, and ``--http-port 0`` knows its port;
connections that arrive before the app serves wait in the backlog. uvicorn
installs no signal handlers here: Cadenza's ``Server`` owns SIGINT and SIGTERM
and stops this server with the gRPC one.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator

import uvicorn
from starlette.types import ASGIApp

from cadenza.tls import CertificateWatcher, TlsFiles
from cadenza.web.tls_protocol import Reloading, protocol_for

BACKLOG = 2048


def bind(ip: str, port: int) -> socket.socket:
    """A listening TCP socket on ``ip:port`` (0: any free port); OSError naming it if it cannot be."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            ip, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise OSError(f"cannot listen for HTTP on {ip}:{port}: {exc.strerror or exc}") from exc
    try:
        # As uvicorn does: a port whose last connections linger in TIME_WAIT is free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(BACKLOG)
    except OSError as exc:
        sock.close()
        raise OSError(f"cannot listen for HTTP on {ip}:{port}: {exc.strerror or exc}") from exc
    sock.setblocking(False)
    return sock


class _Embedded(uvicorn.Server):
    """A uvicorn server that leaves signals alone and says when it has started."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.serving = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # Cadenza's Server owns the signals; this one stops when ``should_exit`` is set.
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.serving.set()


class HttpServer:
    """The app served on a bound socket until ``stop``."""

    def __init__(self, sock: socket.socket, app: ASGIApp, grace: float, tls: TlsFiles | None = None) -> None:
        """With ``tls`` the port speaks only HTTPS (requiring client certificates under mTLS)."""
        self._socket = sock
        reloading = None if tls is None else Reloading(CertificateWatcher(tls))
        config = uvicorn.Config(
            app,
            lifespan="off",
            log_config=None,
            access_log=False,
            server_header=False,
            http="h11" if reloading is None else protocol_for(reloading),
            ssl_context_factory=None if reloading is None else (lambda _config, _default: reloading.context),
            ws="none",
            backlog=BACKLOG,
            # The app ends its own calls after the grace; this only bounds what is left after.
            timeout_graceful_shutdown=round(grace) + 1,
        )
        self._server = _Embedded(config)
        self._task: asyncio.Task[None] | None = None

    @property
    def port(self) -> int:
        return int(self._socket.getsockname()[1])

    async def start(self) -> None:
        """Serve; returns once the socket is being served."""
        self._task = asyncio.create_task(self._server.serve(sockets=[self._socket]))
        serving = asyncio.create_task(self._server.serving.wait())
        await asyncio.wait((self._task, serving), return_when=asyncio.FIRST_COMPLETED)
        if not serving.done():
            serving.cancel()
            self._task.result()  # raises why it could not start
            raise OSError("the HTTP server stopped as it started")

    async def stop(self) -> None:
        """Stop accepting connections, give requests in flight the grace period, then end them."""
        if self._task is None:
            self._socket.close()
            return
        self._server.should_exit = True
        await self._task
        self._task = None
