"""The Worker Deployments of every namespace: in memory for routing, written through to the store.

Pollers that run a version register it (and the task queue they poll) on their first poll.
Routing reads only memory: which deployment a task queue belongs to, and that deployment's
current and ramping versions, so matching can route a task without a database read.
"""

from __future__ import annotations

import asyncio
import logging

from temporalio.api.deployment.v1 import WorkerDeploymentOptions
from temporalio.api.enums.v1 import WorkerVersioningMode

from cadenza.deployments import names
from cadenza.deployments.model import CURRENT, DRAINING, RAMPING, Deployment, Version
from cadenza.exceptions import FailedPreconditionError, NotFoundError
from cadenza.persistence.records import TaskRecord
from cadenza.persistence.roles import WorkerDeploymentStore

logger = logging.getLogger(__name__)

VERSIONED = WorkerVersioningMode.WORKER_VERSIONING_MODE_VERSIONED
DeploymentKey = tuple[str, str]
"""(namespace ID, deployment name)."""


class WorkerDeployments:
    """Every namespace's deployments; each change is stored before it is answered."""

    def __init__(self, store: WorkerDeploymentStore) -> None:
        self._store = store
        self._deployments: dict[DeploymentKey, Deployment] = {}
        self._owners: dict[tuple[str, str], str] = {}
        """(namespace ID, task queue) to the deployment whose versions poll it (the latest)."""
        self._lock = asyncio.Lock()

    async def load(self) -> None:
        for namespace_id, name, data in await self._store.worker_deployments():
            deployment = Deployment.from_bytes(data)
            self._deployments[namespace_id, name] = deployment
            self._index(namespace_id, deployment)

    def _index(self, namespace_id: str, deployment: Deployment) -> None:
        for version in deployment.versions.values():
            for task_queue, _ in version.task_queues:
                self._owners[namespace_id, task_queue] = deployment.name

    async def _save(self, namespace_id: str, deployment: Deployment) -> None:
        await self._store.put_worker_deployment(namespace_id, deployment.name, deployment.to_bytes())

    # -- registration ----------------------------------------------------------------

    async def register(
        self,
        namespace_id: str,
        deployment_name: str,
        build_id: str,
        task_queue: str,
        queue_type: int,
        now: float,
    ) -> None:
        """A versioned worker polls ``task_queue``: its version and the queue become known."""
        known = self._deployments.get((namespace_id, deployment_name))
        if known is not None:
            version = known.versions.get(build_id)
            if version is not None and (task_queue, queue_type) in version.task_queues:
                return  # the common case: nothing new, no write
        async with self._lock:
            deployment = self._deployments.get((namespace_id, deployment_name))
            if deployment is None:
                deployment = Deployment(deployment_name, now)
            version = deployment.versions.setdefault(build_id, Version(build_id, now))
            if (task_queue, queue_type) not in version.task_queues:
                version.task_queues.append((task_queue, queue_type))
            await self._save(namespace_id, deployment)
            self._deployments[namespace_id, deployment_name] = deployment
            self._owners[namespace_id, task_queue] = deployment_name
            logger.info(
                "worker deployment version %s polls %s",
                names.version_name(deployment_name, build_id),
                task_queue,
                extra={"namespace_id": namespace_id},
            )

    # -- reads -----------------------------------------------------------------------

    def get(self, namespace_id: str, name: str) -> Deployment:
        deployment = self._deployments.get((namespace_id, name))
        if deployment is None:
            raise NotFoundError(
                f"no Worker Deployment found with name '{name}'; does your Worker Deployment have pollers?"
            )
        return deployment

    def version(self, namespace_id: str, deployment_name: str, build_id: str) -> tuple[Deployment, Version]:
        deployment = self._deployments.get((namespace_id, deployment_name))
        version = deployment.versions.get(build_id) if deployment is not None else None
        if deployment is None or version is None:
            raise NotFoundError("Worker Deployment Version not found")
        return deployment, version

    def all(self, namespace_id: str) -> list[Deployment]:
        return [d for (ns, _), d in sorted(self._deployments.items()) if ns == namespace_id]

    # -- routing ---------------------------------------------------------------------

    def _routing(self, namespace_id: str, task_queue: str) -> Deployment | None:
        owner = self._owners.get((namespace_id, task_queue))
        return self._deployments.get((namespace_id, owner)) if owner is not None else None

    def target(self, namespace_id: str, task_queue: str, workflow_id: str) -> str:
        """The version new work of ``workflow_id`` on ``task_queue`` goes to; empty for the
        unversioned workers."""
        deployment = self._routing(namespace_id, task_queue)
        if deployment is None:
            return ""
        if deployment.ramping_build and names.in_ramp(workflow_id, deployment.ramp_percentage):
            ramping = deployment.versions.get(deployment.ramping_build)
            if ramping is not None and ramping.polls(task_queue):
                return names.version_name(deployment.name, ramping.build_id)
            if deployment.ramping_build == names.UNVERSIONED:
                return ""
        current = deployment.versions.get(deployment.current_build)
        if current is not None and current.polls(task_queue):
            return names.version_name(deployment.name, current.build_id)
        return ""

    def ramping_target(self, namespace_id: str, task_queue: str, workflow_id: str) -> str:
        """The ramping version of ``task_queue`` whatever the ramp's percentage, else its target."""
        deployment = self._routing(namespace_id, task_queue)
        ramping = deployment.versions.get(deployment.ramping_build) if deployment is not None else None
        if deployment is not None and ramping is not None and ramping.polls(task_queue):
            return names.version_name(deployment.name, ramping.build_id)
        return self.target(namespace_id, task_queue, workflow_id)

    def revision(self, namespace_id: str, task_queue: str) -> int:
        deployment = self._routing(namespace_id, task_queue)
        return deployment.revision if deployment is not None else 0

    def version_queues(self, namespace_id: str, task_queue: str) -> list[tuple[str, WorkerDeploymentOptions]]:
        """The queue of each version whose workers poll ``task_queue``, and those workers' options."""
        found = []
        for (ns, _), deployment in self._deployments.items():
            if ns != namespace_id:
                continue
            for version in deployment.versions.values():
                if version.polls(task_queue):
                    name = names.version_name(deployment.name, version.build_id)
                    options = WorkerDeploymentOptions(
                        deployment_name=deployment.name,
                        build_id=version.build_id,
                        worker_versioning_mode=VERSIONED,
                    )
                    found.append((names.versioned_queue(task_queue, name), options))
        return found

    def route(self, task: TaskRecord) -> str:
        """The queue matching keeps ``task`` on: its target version's, or the queue it names."""
        if names.is_internal(task.task_queue):
            return task.task_queue  # pinned to a version already
        version = self.target(task.namespace_id, task.task_queue, task.workflow_id)
        return names.versioned_queue(task.task_queue, version) if version else task.task_queue

    # -- changes ---------------------------------------------------------------------

    async def change(self, namespace_id: str, deployment: Deployment) -> None:
        """Store a deployment the caller changed (a copy: memory keeps the old one until then)."""
        async with self._lock:
            await self._save(namespace_id, deployment)
            self._deployments[namespace_id, deployment.name] = deployment

    async def delete(self, namespace_id: str, name: str) -> None:
        deployment = self.get(namespace_id, name)
        if deployment.versions:
            raise FailedPreconditionError("deployment has versions, can't be deleted")
        async with self._lock:
            await self._store.delete_worker_deployment(namespace_id, name)
            self._deployments.pop((namespace_id, name), None)


def set_current(deployment: Deployment, build_id: str, identity: str, now: float) -> None:
    """Make ``build_id`` (empty: the unversioned workers) the current version."""
    previous = deployment.versions.get(deployment.current_build)
    if previous is not None:
        previous.status = DRAINING
        previous.last_deactivation_time = now
        previous.current_since = 0.0
        previous.routing_changed_time = now
    deployment.current_build = build_id
    deployment.current_changed_time = now
    if not build_id and deployment.ramping_build == names.UNVERSIONED:
        _end_ramp(deployment, now)  # the unversioned workers are current: no ramp to them
    version = deployment.versions.get(build_id)
    if version is not None:
        if deployment.ramping_build == build_id:  # the ramp ends: it is current now
            _end_ramp(deployment, now)
        version.status = CURRENT
        version.current_since = now
        version.last_current_time = now
        version.routing_changed_time = now
        version.first_activation_time = version.first_activation_time or now
        version.last_modifier_identity = identity
    _touched(deployment, identity)


def set_ramping(deployment: Deployment, build_id: str, percentage: float, identity: str, now: float) -> None:
    """Ramp ``percentage`` of new work to ``build_id`` (``names.UNVERSIONED``: to the
    unversioned workers); an empty build ID ends the ramp."""
    if deployment.ramping_build != build_id:
        _end_ramp(deployment, now)
        deployment.ramping_changed_time = now
    if build_id == names.UNVERSIONED:
        if deployment.ramp_percentage != percentage:
            deployment.ramp_percentage_changed_time = now
        deployment.ramping_build, deployment.ramp_percentage = build_id, percentage
    version = deployment.versions.get(build_id)
    if version is not None:
        if version.status != RAMPING:
            version.ramping_since = now
            version.first_activation_time = version.first_activation_time or now
        version.status = RAMPING
        version.ramp_percentage = percentage
        version.routing_changed_time = now
        version.last_modifier_identity = identity
        deployment.ramping_build = build_id
        if deployment.ramp_percentage != percentage:
            deployment.ramp_percentage_changed_time = now
        deployment.ramp_percentage = percentage
    _touched(deployment, identity)


def _end_ramp(deployment: Deployment, now: float) -> None:
    ramping = deployment.versions.get(deployment.ramping_build)
    if ramping is not None and ramping.status == RAMPING:
        ramping.status = DRAINING
        ramping.ramping_since = 0.0
        ramping.ramp_percentage = 0.0
        ramping.routing_changed_time = now
        ramping.last_deactivation_time = now
    deployment.ramping_build = ""
    deployment.ramp_percentage = 0.0
    deployment.ramping_changed_time = now


def _touched(deployment: Deployment, identity: str) -> None:
    deployment.revision += 1
    deployment.last_modifier_identity = identity
