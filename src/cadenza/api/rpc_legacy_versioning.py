"""Worker versioning's deprecated APIs, answered as Temporal 1.32 answers them by default.

Version sets (v0.1: UpdateWorkerBuildIdCompatibility, GetWorkerBuildIdCompatibility) and
versioning rules (v0.2: UpdateWorkerVersioningRules, GetWorkerVersioningRules,
GetWorkerTaskReachability) are disabled on every namespace of the real server unless its
dynamic config enables them; Worker Deployments replaced both. So, as there, a request in
a namespace that exists is refused PERMISSION_DENIED with a ``PermissionDeniedFailure``
detail, which the SDKs read as "this server has worker versioning disabled".
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, NoReturn

from cadenza.api.errors import translated
from cadenza.exceptions import PermissionDeniedError
from cadenza.namespaces import NamespaceRegistry

VERSION_SETS_DISABLED = (
    "Worker versioning v0.1 (Version Set-based, deprecated) is disabled on this namespace."
)
RULES_DISABLED = "Worker versioning v0.2 (Rules-based, deprecated) is disabled on this namespace."

REFUSALS = {
    "UpdateWorkerBuildIdCompatibility": VERSION_SETS_DISABLED,
    "GetWorkerBuildIdCompatibility": VERSION_SETS_DISABLED,
    "UpdateWorkerVersioningRules": RULES_DISABLED,
    "GetWorkerVersioningRules": RULES_DISABLED,
    "GetWorkerTaskReachability": RULES_DISABLED,
}
"""Each build-ID versioning RPC, and the refusal the real server answers it with."""


class LegacyVersioningRpcs:
    """The five build-ID versioning RPCs, each refused once its namespace is found; their
    handlers are made from ``REFUSALS`` below the class."""

    def __init__(self, *, namespaces: NamespaceRegistry) -> None:
        self._namespaces = namespaces

    async def _refuse(self, namespace: str, message: str) -> NoReturn:
        """An unknown or empty namespace is reported first, as on the real server."""
        await self._namespaces.get(namespace)
        raise PermissionDeniedError(message)


def _refusal(name: str, message: str) -> Callable[[LegacyVersioningRpcs, Any, Any], Awaitable[NoReturn]]:
    async def refuse(self: LegacyVersioningRpcs, request: Any, context: Any) -> NoReturn:
        await self._refuse(request.namespace, message)

    refuse.__name__, refuse.__qualname__ = name, f"{LegacyVersioningRpcs.__name__}.{name}"
    return translated(refuse)


def _refuse_on_the_class() -> None:
    """One handler per refusal, on the class, where the servicer looks for a group's RPCs
    (``cadenza.api.workflow_service``)."""
    for name, message in REFUSALS.items():
        setattr(LegacyVersioningRpcs, name, _refusal(name, message))


_refuse_on_the_class()
