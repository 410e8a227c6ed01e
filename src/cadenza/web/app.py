"""The HTTP app: health, the routes other roles add, and Temporal's HTTP API for every other path."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount
from starlette.types import ASGIApp

from cadenza.web.health import NotReady, health_routes

HttpRoute = BaseRoute
"""A route of the HTTP port (a starlette route), as the roles that add one build it."""


def build_app(
    not_ready: NotReady, temporal_api: ASGIApp, extra_routes: Sequence[HttpRoute] = ()
) -> Starlette:
    """Health first, then ``extra_routes`` (``/metrics``...), then Temporal's API, which answers
    every other path itself (404 with code 5, as the real server does)."""
    return Starlette(routes=[*health_routes(not_ready), *extra_routes, Mount("/", app=temporal_api)])
