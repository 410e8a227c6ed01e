"""A Worker Deployment and its versions as values, stored as one JSON document (pure)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import orjson
from temporalio.api.enums.v1 import WorkerDeploymentVersionStatus

INACTIVE = WorkerDeploymentVersionStatus.WORKER_DEPLOYMENT_VERSION_STATUS_INACTIVE
CURRENT = WorkerDeploymentVersionStatus.WORKER_DEPLOYMENT_VERSION_STATUS_CURRENT
RAMPING = WorkerDeploymentVersionStatus.WORKER_DEPLOYMENT_VERSION_STATUS_RAMPING
DRAINING = WorkerDeploymentVersionStatus.WORKER_DEPLOYMENT_VERSION_STATUS_DRAINING
DRAINED = WorkerDeploymentVersionStatus.WORKER_DEPLOYMENT_VERSION_STATUS_DRAINED


@dataclass
class Version:
    """One build of a deployment, known from the first poll of a worker running it."""

    build_id: str
    create_time: float
    task_queues: list[tuple[str, int]] = field(default_factory=list)
    """(task queue name, TaskQueueType) of every queue its workers polled."""
    metadata: dict[str, str] = field(default_factory=dict)
    """Key to base64 of the serialized ``Payload``, as UpdateWorkerDeploymentVersionMetadata set."""
    status: int = INACTIVE
    routing_changed_time: float = 0.0
    current_since: float = 0.0
    ramping_since: float = 0.0
    first_activation_time: float = 0.0
    last_current_time: float = 0.0
    last_deactivation_time: float = 0.0
    ramp_percentage: float = 0.0
    last_modifier_identity: str = ""
    drainage_status: int = 0
    """``VersionDrainageStatus`` since the version stopped taking new work; 0 while it takes it."""
    drainage_changed_time: float = 0.0
    drainage_checked_time: float = 0.0
    """When the drainage status last changed, and when the version's pinned runs were last counted."""

    def polls(self, task_queue: str) -> bool:
        return any(name == task_queue for name, _ in self.task_queues)


@dataclass
class Deployment:
    """A deployment: its versions by build ID and which of them gets new work."""

    name: str
    create_time: float
    versions: dict[str, Version] = field(default_factory=dict)
    current_build: str = ""
    """The current version's build ID; empty: new work goes to unversioned workers."""
    ramping_build: str = ""
    ramp_percentage: float = 0.0
    current_changed_time: float = 0.0
    ramping_changed_time: float = 0.0
    ramp_percentage_changed_time: float = 0.0
    revision: int = 0
    """Counts the routing changes; the conflict token callers send back names it."""
    last_modifier_identity: str = ""

    def to_bytes(self) -> bytes:
        return orjson.dumps(asdict(self))

    @classmethod
    def from_bytes(cls, data: bytes) -> Deployment:
        raw: dict[str, Any] = orjson.loads(data)
        versions = raw.pop("versions", {})
        deployment = cls(**raw)
        for build_id, version in versions.items():
            queues = [(name, int(kind)) for name, kind in version.pop("task_queues", [])]
            deployment.versions[build_id] = Version(task_queues=queues, **version)
        return deployment

    def conflict_token(self) -> bytes:
        return self.revision.to_bytes(8, "big")
