"""Worker versioning's deprecated APIs, answered as Temporal 1.32 answers them by default.

Version sets (v0.1: UpdateWorkerBuildIdCompatibility, GetWorkerBuildIdCompatibility) and
versioning rules (v0.2: UpdateWorkerVersioningRules, GetWorkerVersioningRules,
GetWorkerTaskReachability) are disabled on every namespace of the real server unless its
dynamic config enables them; Worker Deployments replaced both. So, as there, a request in
a namespace that exists is refused PERMISSION_DENIED with a ``PermissionDeniedFailure``
detail, which the SDKs read as "this server has worker versioning disabled".

With ``frontend.workerVersioningDataAPIs`` set, the version-set data API is served instead
(``cadenza.api.rpc_version_sets``), GetWorkerTaskReachability included; the rules API stays
refused, as it does there.
"""

from __future__ import annotations

from typing import Any, NoReturn

from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv1

from cadenza.api import rpc_version_sets
from cadenza.api.errors import translated
from cadenza.exceptions import PermissionDeniedError
from cadenza.matching.version_set_book import VersionSetBook
from cadenza.namespaces import NamespaceRegistry

VERSION_SETS_DISABLED = (
    "Worker versioning v0.1 (Version Set-based, deprecated) is disabled on this namespace."
)
RULES_DISABLED = "Worker versioning v0.2 (Rules-based, deprecated) is disabled on this namespace."


class LegacyVersioningRpcs:
    """The five build-ID versioning RPCs: each refused once its namespace is found, but for
    the version-set ones when ``book`` is given (the data API is enabled)."""

    def __init__(self, *, namespaces: NamespaceRegistry, book: VersionSetBook | None = None) -> None:
        self._namespaces = namespaces
        self._book = book

    @translated
    async def UpdateWorkerBuildIdCompatibility(
        self, request: wsv1.UpdateWorkerBuildIdCompatibilityRequest, context: Any
    ) -> wsv1.UpdateWorkerBuildIdCompatibilityResponse:
        if self._book is None:
            await self._refuse(request.namespace, VERSION_SETS_DISABLED)
        namespace = await self._namespaces.get(request.namespace)
        await rpc_version_sets.update(self._book, namespace.id, request)
        return wsv1.UpdateWorkerBuildIdCompatibilityResponse()

    @translated
    async def GetWorkerBuildIdCompatibility(
        self, request: wsv1.GetWorkerBuildIdCompatibilityRequest, context: Any
    ) -> wsv1.GetWorkerBuildIdCompatibilityResponse:
        if self._book is None:
            await self._refuse(request.namespace, VERSION_SETS_DISABLED)
        namespace = await self._namespaces.get(request.namespace)
        return await rpc_version_sets.get(self._book, namespace.id, request)

    @translated
    async def UpdateWorkerVersioningRules(
        self, request: wsv1.UpdateWorkerVersioningRulesRequest, context: Any
    ) -> wsv1.UpdateWorkerVersioningRulesResponse:
        await self._refuse(request.namespace, RULES_DISABLED)

    @translated
    async def GetWorkerVersioningRules(
        self, request: wsv1.GetWorkerVersioningRulesRequest, context: Any
    ) -> wsv1.GetWorkerVersioningRulesResponse:
        await self._refuse(request.namespace, RULES_DISABLED)

    @translated
    async def GetWorkerTaskReachability(
        self, request: wsv1.GetWorkerTaskReachabilityRequest, context: Any
    ) -> wsv1.GetWorkerTaskReachabilityResponse:
        if self._book is None:
            await self._refuse(request.namespace, RULES_DISABLED)
        namespace = await self._namespaces.get(request.namespace)
        return await rpc_version_sets.reachability(self._book, namespace.id, request)

    async def _refuse(self, namespace: str, message: str) -> NoReturn:
        """An unknown or empty namespace is reported first, as on the real server."""
        await self._namespaces.get(namespace)
        raise PermissionDeniedError(message)
