"""``/healthz`` and ``/readyz``: whether the process is alive, and whether it can serve.

``/healthz`` answers 200 while the process answers at all. ``/readyz`` answers
200 only while the server is ready (storage opened with its migrations applied,
stored tasks and timers recovered, not stopping) and storage answers a real
query; otherwise 503 with the reason, so a load balancer sends work elsewhere.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

NotReady = Callable[[], Awaitable[str | None]]
"""Why the server cannot serve now, or None when it can."""


def health_routes(not_ready: NotReady) -> list[BaseRoute]:
    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> JSONResponse:
        reason = await not_ready()
        if reason is None:
            return JSONResponse({"status": "ready"})
        return JSONResponse({"status": "not ready", "reason": reason}, status_code=503)

    return [Route("/healthz", healthz, methods=["GET"]), Route("/readyz", readyz, methods=["GET"])]
