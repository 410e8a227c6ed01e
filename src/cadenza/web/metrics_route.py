"""``/metrics``: the server's Prometheus metrics, for a scraper."""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

Render = Callable[[str], tuple[bytes, str]]
"""The exposition page for a scrape's Accept header, and its content type."""


def metrics_routes(render: Render) -> list[BaseRoute]:
    # An async route, so the page is rendered on the server's loop, where the roles' memory is read.
    async def metrics(request: Request) -> Response:
        body, content_type = render(request.headers.get("accept", ""))
        return Response(body, media_type=content_type)

    return [Route("/metrics", metrics, methods=["GET"])]
