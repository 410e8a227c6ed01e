"""The Server: opens storage, serves the roles the assembly wired, and shuts down cleanly."""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
from dataclasses import dataclass

from cadenza import __version__
from cadenza.api import server as grpc_server
from cadenza.api.concurrency_calls import ConcurrencyCalls
from cadenza.api.http_calls import HttpCalls
from cadenza.api.operator_service import OperatorService
from cadenza.api.saved_view_calls import SavedViewCalls
from cadenza.assembly import Assembly
from cadenza.auth.api_keys import first_key_advice
from cadenza.clock import Clock
from cadenza.config import ServerConfig
from cadenza.persistence.errors import StorageError
from cadenza.web import http_server
from cadenza.web.app import HttpRoute, build_app
from cadenza.web.audit_route import audit_routes
from cadenza.web.auth_keys import key_routes
from cadenza.web.concurrency_route import concurrency_routes
from cadenza.web.metrics_route import metrics_routes
from cadenza.web.temporal_api.endpoint import TemporalHttpApi
from cadenza.web.ui.login import BrowserCredentials
from cadenza.web.ui.routes import ui_routes
from cadenza.web.ui.site import UiOptions
from cadenza.web.ui_graph.routes import drawing_routes

logger = logging.getLogger(__name__)

SHUTDOWN_GRACE = 5.0
"""Seconds in-flight calls get to finish before they are cancelled."""

READY_PROBE_SECONDS = 2.0
"""How long ``/readyz`` waits for storage to answer before calling it unreachable."""


@dataclass(frozen=True)
class Addresses:
    grpc: str
    http: str


class Server(Assembly):
    """One Cadenza process: every role in one asyncio loop."""

    _saved_view_calls: SavedViewCalls | None = None
    """The web UI's saved-view changes, authorized as calls; made by ``start``."""

    def __init__(self, config: ServerConfig, clock: Clock | None = None) -> None:
        super().__init__(config, clock)
        self._grpc: grpc_server.GrpcServer | None = None
        self._concurrency_calls: ConcurrencyCalls | None = None
        self._http_socket: socket.socket | None = None
        self._http: http_server.HttpServer | None = None
        self._http_api: TemporalHttpApi | None = None
        self._serving = False
        self._stopping = asyncio.Event()
        self.addresses: Addresses | None = None

    async def start(self) -> Addresses:
        """Open storage and listen; on failure, whatever was opened is closed again."""
        ensure_can_listen(self.config.ip, self.config.port)
        self._http_socket = http_server.bind(self.config.ip, self.config.http_port)
        try:
            return await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> Addresses:
        if self._dynamic_config_file is not None:
            self._dynamic_config_file.load()
        await self._store.open()
        await self._namespaces.ensure(self.config.default_namespace)
        if self.config.auth:
            await self._advise_on_keys()
        if self._peers is not None:
            await self._peers.start()
        await self._deployments.load()  # before the tasks: they are routed to versions by it
        await self._queue_configs.load()  # before the tasks: their order depends on its weights
        await self.concurrency.load()
        await self._recover()
        await self.concurrency.sweep(0.0)  # holders that ended while the server was down
        self._queue_configs.start()
        self.concurrency.start()
        self._deployments.start()
        self._drainage.start()
        workflow_service, operator_service = (
            self._workflow_service(),
            OperatorService(self._namespaces, self.nexus_endpoints),
        )
        # Every call, over gRPC or HTTP, passes the same checks (authorization, rate limits, audit...).
        wrap = grpc_server.chained(self._rpc_wrappers())
        self._grpc, port = await grpc_server.build(
            workflow_service,
            operator_service,
            f"{self.config.ip}:{self.config.port}",
            self.config.limits.grpc_max_message,
            wrap,
            self._tls,
        )
        await self._grpc.start()
        self._timers.start()
        await asyncio.gather(self._schedules.recover(), self._batches.recover())
        self.retention.start()
        self.audit.retention.start()
        if self._dynamic_config_file is not None:
            self._dynamic_config_file.start()
        self._serving = True
        self.audit.read_through(wrap)
        self._concurrency_calls = ConcurrencyCalls(self.concurrency, self._namespaces, wrap)
        self._saved_view_calls = SavedViewCalls(self._store, wrap)
        http_port = await self._serve_http(HttpCalls.of(workflow_service, operator_service, wrap))
        self.addresses = Addresses(grpc=f"{self.config.ip}:{port}", http=f"{self.config.ip}:{http_port}")
        return self.addresses

    async def _advise_on_keys(self) -> None:
        """With auth on and no key that works, say how to make the first one."""
        advice = first_key_advice(await self._store.list_api_keys(), self._clock.now(), self.config.db)
        if advice is not None:
            logger.warning("%s", advice)

    def _rpc_wrappers(self) -> list[grpc_server.RpcWrapper]:
        """What wraps every RPC handler, over gRPC and over HTTP alike, outermost first: the
        metrics see every call, refused ones too; the audit log sees what authorization refuses
        as well as what handlers answer; the rate limits come after authorization, as they may
        read the caller that authentication found; last, the audit notes the call admitted."""
        wrappers: list[grpc_server.RpcWrapper] = [self.metrics.wrap_rpc, *self.audit.outer_wrappers()]
        if self.config.auth:
            wrappers.append(self._authorization.wrap)
        return [*wrappers, self._rate_limiting.wrap, *self.audit.inner_wrappers()]

    async def _serve_http(self, calls: HttpCalls) -> int:
        """Serve health, the extra routes and Temporal's HTTP API on the bound socket; its port."""
        assert self._http_socket is not None, "start() binds the HTTP socket first"
        self._http_api = TemporalHttpApi(calls)
        app = build_app(self._not_ready, self._http_api, [*self._extra_http_routes(), *self._ui(calls)])
        served = BrowserCredentials(app) if self.config.auth and self.config.ui else app
        self._http = http_server.HttpServer(self._http_socket, served, SHUTDOWN_GRACE, self._tls)
        self._http_socket = None  # the HTTP server owns it now
        await self._http.start()
        return self._http.port

    def _extra_http_routes(self) -> list[HttpRoute]:
        """Routes the HTTP port serves beside /healthz, /readyz and Temporal's API."""
        assert self.audit.calls is not None, "start() makes the audit log's calls first"
        assert self._concurrency_calls is not None
        routes = [
            *metrics_routes(self.metrics.render),
            *audit_routes(self.audit.calls),
            *concurrency_routes(self._concurrency_calls),
        ]
        if self.config.auth:
            routes += key_routes(self._store, self._authorization, self._api_keys, self._clock)
        return routes

    def _ui(self, calls: HttpCalls) -> list[HttpRoute]:
        """The web UI's routes (its pages, and the drawings of a run: graph and timeline), unless
        it is turned off."""
        if not self.config.ui:
            return []
        assert self._http_api is not None
        assert self._saved_view_calls is not None
        options = UiOptions(
            default_namespace=self.config.default_namespace,
            read_only=self.config.ui_read_only,
            audit_log=self.config.audit_on,
        )
        return [
            *ui_routes(calls, self._http_api, options, self._saved_view_calls, self.audit.calls),
            *drawing_routes(calls),
        ]

    async def _not_ready(self) -> str | None:
        """Why ``/readyz`` answers 503: stopping, or storage not answering a real query."""
        if not self._serving:
            return "not serving: starting or stopping"
        try:
            await asyncio.wait_for(
                self._store.get_namespace(self.config.default_namespace), READY_PROBE_SECONDS
            )
        except StorageError as error:
            return f"storage unreachable: {error}"
        except TimeoutError:
            return f"storage did not answer within {READY_PROBE_SECONDS:.0f} s"
        return None

    async def stop(self) -> None:
        """Stop accepting calls, let running ones finish briefly, then close storage."""
        logger.info("stopping: no new calls; calls in flight get %.0f s", SHUTDOWN_GRACE)
        self._serving = False
        if self._http_socket is not None:
            self._http_socket.close()
            self._http_socket = None
        if self._grpc is not None or self._http is not None:
            await asyncio.gather(self._stop_grpc(), self._stop_http())
        await self._timers.stop()
        if self._peers is not None:
            await self._peers.stop()
        await asyncio.gather(self._schedules.stop(), self._batches.stop())
        await self._queue_configs.stop()
        await self.concurrency.stop()
        await self._drainage.stop()
        await self._deployments.stop()
        await self.retention.stop()
        await self.audit.retention.stop()
        if self._dynamic_config_file is not None:
            await self._dynamic_config_file.stop()
        await self._store.close()
        logger.info("stopped; database %s closed", self.config.db)

    async def _stop_grpc(self) -> None:
        if self._grpc is not None:
            await self._grpc.stop(SHUTDOWN_GRACE)
            self._grpc = None

    async def _stop_http(self) -> None:
        if self._http is not None:
            assert self._http_api is not None
            await asyncio.gather(self._http_api.drain(SHUTDOWN_GRACE), self._http.stop())
            self._http = None

    def request_stop(self) -> None:
        self._stopping.set()

    async def serve(self) -> None:
        """Start, run until SIGINT/SIGTERM, then stop; signals are restored afterwards."""
        loop = asyncio.get_running_loop()
        addresses = await self.start()
        print(
            f"Cadenza {__version__} serving gRPC on {addresses.grpc} "
            f"and HTTP on {addresses.http}, database {self.config.db}",
            flush=True,
        )
        installed = []
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, self.request_stop)
                installed.append(sig)
            except (NotImplementedError, RuntimeError):
                pass
        try:
            await self._stopping.wait()
        finally:
            for sig in installed:
                loop.remove_signal_handler(sig)
            await self.stop()


def ensure_can_listen(ip: str, port: int) -> None:
    """Refuse a gRPC address that cannot be listened on (port in use, address not this
    machine's) before the database is opened, in one line naming it."""
    if port == 0:
        return
    try:
        for family, kind, proto, _, address in socket.getaddrinfo(
            ip, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        ):
            with socket.socket(family, kind, proto) as probe:
                # As the gRPC listener does: a port whose last connections linger is free.
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                probe.bind(address)
    except OSError as exc:
        raise OSError(f"cannot listen for gRPC on {ip}:{port}: {exc.strerror or exc}") from exc
