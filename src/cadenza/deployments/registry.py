"""The Worker Deployments of every namespace: in memory for routing, written through to the store.

Pollers that run a version register it (and the task queue they poll) on their first poll.
Routing reads only memory: which deployment a task queue belongs to, and that deployment's
current and ramping versions, so matching can route a task without a database read.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from temporalio.api.deployment.v1 import WorkerDeploymentOptions
from temporalio.api.enums.v1 import WorkerVersioningMode

from cadenza.conflicts import retrying_conflicts
from cadenza.deployments import names
from cadenza.deployments.model import Deployment, Version
from cadenza.exceptions import ConcurrentUpdateError, NotFoundError
from cadenza.persistence.errors import StorageError
from cadenza.persistence.records import TaskRecord
from cadenza.persistence.roles import WorkerDeploymentStore

logger = logging.getLogger(__name__)

VERSIONED = WorkerVersioningMode.WORKER_VERSIONING_MODE_VERSIONED
REFRESH_SECONDS = 2.0
"""How often replicas on a shared database read the deployments the others changed."""
DeploymentKey = tuple[str, str]
"""(namespace ID, deployment name)."""
Change = Callable[[Deployment | None], Deployment | None]
"""A change of one deployment: given it as stored (None: none), what to store (None: nothing)."""


class WorkerDeployments:
    """Every namespace's deployments; each change is stored before it is answered."""

    def __init__(self, store: WorkerDeploymentStore, shared: bool = False) -> None:
        self._store = store
        self._shared = shared
        """Other replicas write to the store too: reads look at it, routing follows it."""
        self._deployments: dict[DeploymentKey, Deployment] = {}
        self._owners: dict[tuple[str, str], str] = {}
        """(namespace ID, task queue) to the deployment whose versions poll it (the latest)."""
        self._task: asyncio.Task[None] | None = None
        self.on_routing_changed: Callable[[str, str], None] | None = None
        """Told (namespace ID, task queue) when a queue's routing changed, to move its backlog."""

    async def load(self) -> None:
        """Read every deployment (at start, and on a shared store every ``REFRESH_SECONDS``)."""
        rows = await self._store.worker_deployments()
        before = self._deployments
        self._deployments = {(ns, name): Deployment.from_bytes(data) for ns, name, _, data in rows}
        owners: dict[tuple[str, str], str] = {}
        for (namespace_id, _), deployment in sorted(
            self._deployments.items(), key=lambda i: i[1].create_time
        ):
            for version in deployment.versions.values():
                for task_queue, _ in version.task_queues:
                    owners[namespace_id, task_queue] = deployment.name
        self._owners = owners
        for key in before.keys() | self._deployments.keys():
            self._routing_changed(key[0], before.get(key), self._deployments.get(key))

    def start(self) -> None:
        if self._shared and self._task is None:
            self._task = asyncio.create_task(self._follow(), name="cadenza-worker-deployments")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _follow(self) -> None:
        while True:
            await asyncio.sleep(REFRESH_SECONDS)
            try:
                await self.load()
            except StorageError as exc:
                logger.warning("reading worker deployments failed, retrying: %s", exc)

    async def fresh(self, namespace_id: str, name: str) -> None:
        """On a shared store, take one deployment as the store has it now, before a read."""
        if self._shared:
            row = await self._store.get_worker_deployment(namespace_id, name)
            self._remember(namespace_id, name, Deployment.from_bytes(row[1]) if row else None)

    async def fresh_all(self) -> None:
        """On a shared store, take every deployment as the store has it now, before a listing."""
        if self._shared:
            await self.load()

    def _routing_changed(
        self, namespace_id: str, before: Deployment | None, after: Deployment | None
    ) -> None:
        if self.on_routing_changed is None or _routes(before) == _routes(after):
            return
        for deployment in (before, after):
            for task_queue in _queues(deployment):
                self.on_routing_changed(namespace_id, task_queue)

    def _remember(self, namespace_id: str, name: str, deployment: Deployment | None) -> None:
        before = self._deployments.pop((namespace_id, name), None)
        if deployment is not None:
            self._deployments[namespace_id, name] = deployment
            for version in deployment.versions.values():
                for task_queue, _ in version.task_queues:
                    self._owners[namespace_id, task_queue] = name
        self._routing_changed(namespace_id, before, deployment)

    async def update(self, namespace_id: str, name: str, change: Change) -> Deployment | None:
        """Apply ``change`` to the deployment as stored (None: it has none) and write what it
        returns (None: delete it), conditionally on the row's revision; the deployment as it
        now stands. ``ConcurrentUpdateError`` if another writer came first (nothing changed)."""
        row = await self._store.get_worker_deployment(namespace_id, name)
        revision, before = (row[0], row[1]) if row else (0, b"")
        after = change(Deployment.from_bytes(before) if row else None)
        if after is None:
            written = not row or await self._store.delete_worker_deployment(namespace_id, name, revision)
        else:
            data = after.to_bytes()
            written = data == before or await self._store.put_worker_deployment(
                namespace_id, name, data, revision
            )
        if not written:
            raise ConcurrentUpdateError(f"worker deployment {name} changed meanwhile")
        self._remember(namespace_id, name, after)
        return after

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
        version = known.versions.get(build_id) if known is not None else None
        if version is not None and (task_queue, queue_type) in version.task_queues:
            return  # the common case: nothing new, no write

        def add(deployment: Deployment | None) -> Deployment:
            deployment = deployment or Deployment(deployment_name, now)
            version = deployment.versions.setdefault(build_id, Version(build_id, now))
            if (task_queue, queue_type) not in version.task_queues:
                version.task_queues.append((task_queue, queue_type))
            return deployment

        await retrying_conflicts(lambda: self.update(namespace_id, deployment_name, add), "registration")
        logger.info(
            "worker deployment version %s polls %s",
            names.version_name(deployment_name, build_id),
            task_queue,
            extra={"namespace_id": namespace_id},
        )

    # -- reads -----------------------------------------------------------------------

    def get(self, namespace_id: str, name: str) -> Deployment:
        return existing(self._deployments.get((namespace_id, name)), name)

    def version(self, namespace_id: str, deployment_name: str, build_id: str) -> tuple[Deployment, Version]:
        return version_in(self._deployments.get((namespace_id, deployment_name)), build_id)

    def all(self, namespace_id: str) -> list[Deployment]:
        return [d for (ns, _), d in sorted(self._deployments.items()) if ns == namespace_id]

    def every(self) -> list[tuple[str, Deployment]]:
        """Every namespace's deployments, each with its namespace's ID."""
        return [(ns, d) for (ns, _), d in sorted(self._deployments.items())]

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

    def polls(self, namespace_id: str, task_queue: str, version: str) -> bool:
        try:
            deployment_name, build_id = names.split_version(version)
        except ValueError:
            return False  # no deployment or version has an empty name: none of them polls
        deployment = self._deployments.get((namespace_id, deployment_name))
        known = deployment.versions.get(build_id) if deployment is not None else None
        return known is not None and known.polls(task_queue)

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


def existing(deployment: Deployment | None, name: str) -> Deployment:
    """``deployment``; NotFoundError, as Temporal words it, when there is none named ``name``."""
    if deployment is None:
        raise NotFoundError(
            f"no Worker Deployment found with name '{name}'; does your Worker Deployment have pollers?"
        )
    return deployment


def version_in(deployment: Deployment | None, build_id: str) -> tuple[Deployment, Version]:
    """``deployment`` and its version ``build_id``; NotFoundError when either is missing."""
    version = deployment.versions.get(build_id) if deployment is not None else None
    if deployment is None or version is None:
        raise NotFoundError("Worker Deployment Version not found")
    return deployment, version


def _queues(deployment: Deployment | None) -> set[str]:
    if deployment is None:
        return set()
    return {task_queue for version in deployment.versions.values() for task_queue, _ in version.task_queues}


def _routes(deployment: Deployment | None) -> object:
    """What a deployment's routing depends on: the versions and queues, current and ramp."""
    if deployment is None:
        return None
    versions = sorted((v.build_id, sorted(v.task_queues)) for v in deployment.versions.values())
    return (versions, deployment.current_build, deployment.ramping_build, deployment.ramp_percentage)
