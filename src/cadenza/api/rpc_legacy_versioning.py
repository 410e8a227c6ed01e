"""Worker versioning's deprecated APIs, answered as Temporal 1.32 answers them by default.

Version sets (v0.1: UpdateWorkerBuildIdCompatibility, GetWorkerBuildIdCompatibility) and
versioning rules (v0.2: UpdateWorkerVersioningRules, GetWorkerVersioningRules,
GetWorkerTaskReachability) are disabled on every namespace of the real server unless its
dynamic config enables them; Worker Deployments replaced both. So, as there, a request in
a namespace that exists is refused PERMISSION_DENIED with a ``PermissionDeniedFailure``
detail, which the SDKs read as "this server has worker versioning disabled".
"""

from __future__ import annotations

from typing import Any, NoReturn

from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv1

from cadenza.api.errors import translated
from cadenza.exceptions import PermissionDeniedError
from cadenza.namespaces import NamespaceRegistry

VERSION_SETS_DISABLED = (
    "Worker versioning v0.1 (Version Set-based, deprecated) is disabled on this namespace."
)
RULES_DISABLED = "Worker versioning v0.2 (Rules-based, deprecated) is disabled on this namespace."


class LegacyVersioningRpcs:
    """The five build-ID versioning RPCs, each refused once its namespace is found."""

    def __init__(self, *, namespaces: NamespaceRegistry) -> None:
        self._namespaces = namespaces

    @translated
    async def UpdateWorkerBuildIdCompatibility(
        self, request: wsv1.UpdateWorkerBuildIdCompatibilityRequest, context: Any
    ) -> wsv1.UpdateWorkerBuildIdCompatibilityResponse:
        await self._refuse(request.namespace, VERSION_SETS_DISABLED)

    @translated
    async def GetWorkerBuildIdCompatibility(
        self, request: wsv1.GetWorkerBuildIdCompatibilityRequest, context: Any
    ) -> wsv1.GetWorkerBuildIdCompatibilityResponse:
        await self._refuse(request.namespace, VERSION_SETS_DISABLED)

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
        await self._refuse(request.namespace, RULES_DISABLED)

    async def _refuse(self, namespace: str, message: str) -> NoReturn:
        """An unknown or empty namespace is reported first, as on the real server."""
        await self._namespaces.get(namespace)
        raise PermissionDeniedError(message)
