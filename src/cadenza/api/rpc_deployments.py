"""The Worker Deployment RPCs: describe and list deployments and versions, route new work to a
current and a ramping version, delete them, keep a version's metadata."""

from __future__ import annotations

import math
import time
from typing import Any

from temporalio.api.enums.v1 import TaskQueueKind, WorkerVersioningMode
from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv1

from cadenza.api import deployment_views as views
from cadenza.api.errors import translated
from cadenza.clock import Clock
from cadenza.deployments import names, routing
from cadenza.deployments.model import CURRENT, DRAINING, RAMPING, Deployment, Version
from cadenza.deployments.registry import WorkerDeployments, existing, version_in
from cadenza.exceptions import FailedPreconditionError, InvalidArgumentError, NotFoundError
from cadenza.history.machine.encoded import encode_blob
from cadenza.matching import MatchingService
from cadenza.namespaces import NamespaceRegistry
from cadenza.persistence.records import TaskKind

DEFAULT_PAGE_SIZE = 100
ACTIVE_POLLERS = 300.0
"""Seconds after its last poll that a version counts as polled, and may not be deleted."""


def _version_of(request: Any) -> tuple[str, str]:
    """(deployment, build ID) a version request names, its structured field first; an empty
    build ID names the unversioned workers."""
    if request.HasField("deployment_version"):
        ref = request.deployment_version
        return ref.deployment_name, ref.build_id
    return _parse(request.version)


def _parse(version: str) -> tuple[str, str]:
    if version == names.UNVERSIONED:
        return "", ""
    return names.parsed_version(version)


def _routed_build(request: Any) -> str:
    """The build ID a routing request names for its deployment (empty: unversioned)."""
    if request.build_id:
        return str(request.build_id)
    if not request.version:
        return ""
    deployment, build_id = _parse(request.version)
    if deployment and deployment != request.deployment_name:
        raise InvalidArgumentError(
            f"version '{request.version}' does not belong to deployment '{request.deployment_name}'"
        )
    return build_id


def _check_build(deployment: Deployment, build_id: str) -> None:
    if build_id not in deployment.versions:
        raise NotFoundError(f"build ID '{build_id}' not found in Worker Deployment '{deployment.name}'")


def _ramp_target(deployment: Deployment, build_id: str) -> str:
    """What a ramping request ramps to: a version, the unversioned workers (when a version is
    current), or nothing (empty: the ramp ends)."""
    if not build_id:
        return names.UNVERSIONED if deployment.current_build else ""
    _check_build(deployment, build_id)
    if build_id == deployment.current_build:
        raise FailedPreconditionError(
            f"requested ramping version {names.version_name(deployment.name, build_id)} is already current"
        )
    return build_id


def _check_token(deployment: Deployment, token: bytes) -> None:
    if token and token != deployment.conflict_token():
        raise FailedPreconditionError("conflict token mismatch")


class DeploymentRpcs:
    """Worker Deployments, from the versions their workers registered by polling.

    A change reads the deployment as stored, checks the request against it, and writes it on
    its revision; a write that loses to another replica's runs again from the new row.
    """

    def __init__(
        self,
        *,
        namespaces: NamespaceRegistry,
        deployments: WorkerDeployments,
        matching: MatchingService,
        clock: Clock,
    ) -> None:
        self._namespaces = namespaces
        self._deployments = deployments
        self._matching = matching
        self._clock = clock

    def _polled(self, namespace_id: str, deployment_name: str, version: Version) -> bool:
        """Whether a worker of the version polled any of its queues in the last ``ACTIVE_POLLERS``."""
        since = time.time() - ACTIVE_POLLERS
        name = names.version_name(deployment_name, version.build_id)
        return any(
            seen.last_access_time >= since
            for task_queue, _ in version.task_queues
            for kind in (TaskKind.WORKFLOW, TaskKind.ACTIVITY)
            for seen in self._matching.pollers(
                namespace_id, names.versioned_queue(task_queue, name), kind
            ).values()
        )

    async def _named(self, request: Any) -> tuple[str, str]:
        """(namespace ID, deployment name) of a request naming a deployment."""
        namespace = await self._namespaces.get(request.namespace)
        if not request.deployment_name:
            raise InvalidArgumentError("WorkerDeploymentName cannot be empty")
        return namespace.id, request.deployment_name

    @translated
    async def DescribeWorkerDeployment(
        self, request: wsv1.DescribeWorkerDeploymentRequest, context: Any
    ) -> wsv1.DescribeWorkerDeploymentResponse:
        namespace_id, name = await self._named(request)
        await self._deployments.fresh(namespace_id, name)
        deployment = self._deployments.get(namespace_id, name)
        return wsv1.DescribeWorkerDeploymentResponse(
            conflict_token=deployment.conflict_token(),
            worker_deployment_info=views.deployment_info(deployment),
        )

    @translated
    async def ListWorkerDeployments(
        self, request: wsv1.ListWorkerDeploymentsRequest, context: Any
    ) -> wsv1.ListWorkerDeploymentsResponse:
        namespace = await self._namespaces.get(request.namespace)
        await self._deployments.fresh_all()
        size = request.page_size if request.page_size > 0 else DEFAULT_PAGE_SIZE
        after = request.next_page_token.decode()
        listed = [d for d in self._deployments.all(namespace.id) if d.name > after]
        page = listed[:size]
        token = page[-1].name.encode() if len(listed) > size else b""
        return wsv1.ListWorkerDeploymentsResponse(
            next_page_token=token, worker_deployments=[views.deployment_summary(d) for d in page]
        )

    @translated
    async def SetWorkerDeploymentCurrentVersion(
        self, request: wsv1.SetWorkerDeploymentCurrentVersionRequest, context: Any
    ) -> wsv1.SetWorkerDeploymentCurrentVersionResponse:
        namespace_id, name = await self._named(request)
        build_id = _routed_build(request)
        previous = ""

        def change(stored: Deployment | None) -> Deployment:
            nonlocal previous
            deployment = existing(stored, name)
            _check_token(deployment, request.conflict_token)
            if build_id:
                _check_build(deployment, build_id)
            previous = deployment.current_build
            if build_id != previous:
                routing.set_current(deployment, build_id, request.identity, self._clock.now())
            return deployment

        deployment = existing(await self._deployments.update(namespace_id, name, change), name)
        response = wsv1.SetWorkerDeploymentCurrentVersionResponse(
            conflict_token=deployment.conflict_token(),
            previous_version=names.version_name(name, previous) if previous else names.UNVERSIONED,
        )
        if previous:
            response.previous_deployment_version.CopyFrom(views.version_ref(name, previous))
        return response

    @translated
    async def SetWorkerDeploymentRampingVersion(
        self, request: wsv1.SetWorkerDeploymentRampingVersionRequest, context: Any
    ) -> wsv1.SetWorkerDeploymentRampingVersionResponse:
        if math.isnan(request.percentage) or not 0 <= request.percentage <= 100:
            raise InvalidArgumentError("Percentage must be between 0 and 100 (inclusive)")
        namespace_id, name = await self._named(request)
        requested = _routed_build(request)
        previous, previous_percentage = "", 0.0

        def change(stored: Deployment | None) -> Deployment:
            nonlocal previous, previous_percentage
            deployment = existing(stored, name)
            _check_token(deployment, request.conflict_token)
            build_id = _ramp_target(deployment, requested)
            previous, previous_percentage = deployment.ramping_build, deployment.ramp_percentage
            if (build_id, request.percentage) != (previous, previous_percentage):
                routing.set_ramping(
                    deployment, build_id, request.percentage, request.identity, self._clock.now()
                )
            return deployment

        deployment = existing(await self._deployments.update(namespace_id, name, change), name)
        response = wsv1.SetWorkerDeploymentRampingVersionResponse(
            conflict_token=deployment.conflict_token(),
            previous_version=views.build_name(name, previous),
            previous_percentage=previous_percentage,
        )
        if previous in deployment.versions:
            response.previous_deployment_version.CopyFrom(views.version_ref(name, previous))
        return response

    @translated
    async def DescribeWorkerDeploymentVersion(
        self, request: wsv1.DescribeWorkerDeploymentVersionRequest, context: Any
    ) -> wsv1.DescribeWorkerDeploymentVersionResponse:
        namespace = await self._namespaces.get(request.namespace)
        deployment_name, build_id = _version_of(request)
        await self._deployments.fresh(namespace.id, deployment_name)
        deployment, version = self._deployments.version(namespace.id, deployment_name, build_id)
        response = wsv1.DescribeWorkerDeploymentVersionResponse(
            worker_deployment_version_info=views.version_info(deployment, version)
        )
        for queue, kind in version.task_queues:
            response.version_task_queues.add(name=queue, type=kind)
        return response

    @translated
    async def DeleteWorkerDeployment(
        self, request: wsv1.DeleteWorkerDeploymentRequest, context: Any
    ) -> wsv1.DeleteWorkerDeploymentResponse:
        namespace_id, name = await self._named(request)

        def change(stored: Deployment | None) -> None:
            if existing(stored, name).versions:
                raise FailedPreconditionError("deployment has versions, can't be deleted")

        await self._deployments.update(namespace_id, name, change)
        return wsv1.DeleteWorkerDeploymentResponse()

    @translated
    async def DeleteWorkerDeploymentVersion(
        self, request: wsv1.DeleteWorkerDeploymentVersionRequest, context: Any
    ) -> wsv1.DeleteWorkerDeploymentVersionResponse:
        namespace = await self._namespaces.get(request.namespace)
        deployment_name, build_id = _version_of(request)

        def change(stored: Deployment | None) -> Deployment:
            deployment, version = version_in(stored, build_id)
            why = ""
            if version.status in (CURRENT, RAMPING):
                why = "it is current or ramping"
            elif version.status == DRAINING and not request.skip_drainage:
                why = "it is draining"
            elif self._polled(namespace.id, deployment_name, version):
                why = "it has active pollers"
            if why:
                raise FailedPreconditionError(
                    f"version '{deployment_name}:{build_id}' cannot be deleted since {why}"
                )
            del deployment.versions[build_id]
            return deployment

        await self._deployments.update(namespace.id, deployment_name, change)
        return wsv1.DeleteWorkerDeploymentVersionResponse()

    @translated
    async def UpdateWorkerDeploymentVersionMetadata(
        self, request: wsv1.UpdateWorkerDeploymentVersionMetadataRequest, context: Any
    ) -> wsv1.UpdateWorkerDeploymentVersionMetadataResponse:
        namespace = await self._namespaces.get(request.namespace)
        deployment_name, build_id = _version_of(request)

        def change(stored: Deployment | None) -> Deployment:
            deployment, version = version_in(stored, build_id)
            for key, payload in request.upsert_entries.items():
                version.metadata[key] = encode_blob(payload.SerializeToString())
            for key in request.remove_entries:
                version.metadata.pop(key, None)
            return deployment

        deployment = await self._deployments.update(namespace.id, deployment_name, change)
        _, version = version_in(deployment, build_id)
        return wsv1.UpdateWorkerDeploymentVersionMetadataResponse(metadata=views.metadata(version))


async def polled_queue(
    deployments: WorkerDeployments, namespace_id: str, request: Any, name: str, queue_type: int, now: float
) -> str:
    """The queue a poll waits on: a versioned worker's own version's queue (its version
    registered, on its first poll), else the task queue it names."""
    options = request.deployment_options
    if (
        options.worker_versioning_mode != WorkerVersioningMode.WORKER_VERSIONING_MODE_VERSIONED
        or request.task_queue.kind == TaskQueueKind.TASK_QUEUE_KIND_STICKY
        or not options.deployment_name
        or not options.build_id
    ):
        return name
    await deployments.register(namespace_id, options.deployment_name, options.build_id, name, queue_type, now)
    return names.versioned_queue(name, names.version_name(options.deployment_name, options.build_id))
