"""The HTTP routes of Temporal's API, read from the services' ``google.api.http`` annotations.

Each RPC of WorkflowService and OperatorService that Temporal serves over HTTP
carries an ``HttpRule`` option (a method, a path template, a body) and maybe
``additional_bindings``; the real server registers every one of them with
grpc-gateway, so the routes here are exactly those, in the same precedence:
grpc-gateway tries the routes registered last first.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from google.api import annotations_pb2, http_pb2
from google.protobuf.descriptor import FileDescriptor, MethodDescriptor
from temporalio.api.operatorservice.v1 import service_pb2 as operator_service_pb2
from temporalio.api.workflowservice.v1 import service_pb2 as workflow_service_pb2

logger = logging.getLogger(__name__)

SERVICES: tuple[tuple[FileDescriptor, str], ...] = (
    (workflow_service_pb2.DESCRIPTOR, "WorkflowService"),
    (operator_service_pb2.DESCRIPTOR, "OperatorService"),
)
"""The services whose annotated RPCs are served, in the order the real server registers them."""

_VARIABLE = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_.]*)(?:=\*)?\}$")
_METHODS = ("get", "put", "post", "delete", "patch")


@dataclass(frozen=True)
class Variable:
    """A path segment bound to a request field, by its dotted proto path (``execution.workflow_id``)."""

    field_path: str


Segment = str | Variable


@dataclass(frozen=True)
class Route:
    """One binding: an HTTP method and path template answered by one RPC."""

    http_method: str
    segments: tuple[Segment, ...]
    body: str
    """``*`` (the whole request is the body), empty (none: query parameters instead)."""
    rpc: MethodDescriptor

    def match(self, parts: Sequence[str]) -> dict[str, str] | None:
        """The path variables when ``parts`` (the path split at ``/``) fits the template, else None."""
        if len(parts) != len(self.segments):
            return None
        bound: dict[str, str] = {}
        for segment, part in zip(self.segments, parts, strict=True):
            if isinstance(segment, Variable):
                bound[segment.field_path] = part
            elif segment != part:
                return None
        return bound


def parse_template(template: str) -> tuple[Segment, ...] | None:
    """A path template's segments; None for syntax Cadenza does not route (``**``, verbs)."""
    if not template.startswith("/") or ":" in template.rsplit("}", 1)[-1]:
        return None
    segments: list[Segment] = []
    for part in template[1:].split("/"):
        if part.startswith("{"):
            variable = _VARIABLE.match(part)
            if variable is None:
                return None
            segments.append(Variable(variable.group(1)))
        elif part and "{" not in part and "*" not in part:
            segments.append(part)
        else:
            return None
    return tuple(segments)


def _bindings(rule: http_pb2.HttpRule) -> Iterable[http_pb2.HttpRule]:
    yield rule
    yield from rule.additional_bindings


def routes_of(method: MethodDescriptor) -> list[Route]:
    """Every binding an RPC's ``google.api.http`` option declares."""
    options = method.GetOptions()
    if not options.HasExtension(annotations_pb2.http):
        return []
    routes = []
    for binding in _bindings(options.Extensions[annotations_pb2.http]):
        kind = binding.WhichOneof("pattern")
        if kind not in _METHODS:
            logger.warning("%s: HTTP binding %s is not routed", method.full_name, kind)
            continue
        template = getattr(binding, kind)
        segments = parse_template(template)
        if segments is None:
            logger.warning("%s: path template %s is not routed", method.full_name, template)
            continue
        routes.append(Route(kind.upper(), segments, binding.body, method))
    return routes


def all_routes(services: Sequence[tuple[FileDescriptor, str]] = SERVICES) -> list[Route]:
    """Every route of the services, the one to try first first (the last registered, as in grpc-gateway)."""
    registered = [
        route
        for descriptor, name in services
        for method in descriptor.services_by_name[name].methods
        for route in routes_of(method)
    ]
    return registered[::-1]


class RouteTable:
    """Finds the route for a request as grpc-gateway's mux does (first match in precedence order)."""

    def __init__(self, routes: Sequence[Route]) -> None:
        # Indexed by method and number of segments, in precedence order within each.
        self._routes: dict[str, dict[int, list[Route]]] = {}
        for route in routes:
            by_length = self._routes.setdefault(route.http_method, {})
            by_length.setdefault(len(route.segments), []).append(route)

    def find(self, http_method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        """The route and its path variables for this method and (decoded) path."""
        parts = path[1:].split("/")
        for route in self._routes.get(http_method, {}).get(len(parts), ()):
            bound = route.match(parts)
            if bound is not None:
                return route, bound
        return None

    def other_methods_serve(self, http_method: str, path: str) -> bool:
        """Whether the path has a route under some other method (a 501 rather than a 404)."""
        return any(self.find(other, path) is not None for other in self._routes if other != http_method)
