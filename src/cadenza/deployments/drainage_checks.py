"""Counts the pinned runs of every draining version when its check is due, and records what it
found, so DescribeWorkerDeploymentVersion shows a version draining, then drained.

Temporal runs one drainage workflow per draining version; here one loop looks at every
deployment in memory each ``INTERVAL`` and counts (in visibility) only for versions whose
check is due. A change is stored like any other change of the deployment, conditionally on
its revision, so replicas sharing a database may both count without harm.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from cadenza.clock import Clock
from cadenza.conflicts import retrying_conflicts
from cadenza.deployments import drainage
from cadenza.deployments.model import Deployment
from cadenza.deployments.registry import WorkerDeployments
from cadenza.periodic import Periodic

logger = logging.getLogger(__name__)

INTERVAL = 1.0
"""Seconds between two looks for due checks (a look without one due reads memory only)."""

CountRuns = Callable[[str, str], Awaitable[int]]
"""Counts the runs a visibility filter (second) matches in a namespace (first, its ID)."""


class DrainageChecks:
    """Moves draining versions to drained once no running run is pinned to them."""

    def __init__(
        self, deployments: WorkerDeployments, count: CountRuns, clock: Clock, grace: float, refresh: float
    ) -> None:
        self._deployments = deployments
        self._count = count
        self._clock = clock
        self._grace = grace
        self._refresh = refresh
        self._rounds = Periodic(
            self.check_due, INTERVAL, name="cadenza-drainage", what="checking version drainage", logger=logger
        )

    def start(self) -> None:
        self._rounds.start()

    async def stop(self) -> None:
        await self._rounds.stop()

    async def check_due(self) -> None:
        """Count the pinned runs of each version whose check is due, and record the count."""
        now = self._clock.now()
        for namespace_id, deployment in self._deployments.every():
            for version in list(deployment.versions.values()):
                if drainage.due(version, now, self._grace, self._refresh):
                    query = drainage.pinned_runs_query(deployment.name, version.build_id)
                    running = await self._count(namespace_id, query)
                    await self._record(namespace_id, deployment.name, version.build_id, running)

    async def _record(self, namespace_id: str, name: str, build_id: str, running: int) -> None:
        now = self._clock.now()

        def change(stored: Deployment | None) -> Deployment | None:
            version = stored.versions.get(build_id) if stored is not None else None
            if version is not None:
                drainage.counted(version, running, now)
            return stored

        await retrying_conflicts(lambda: self._deployments.update(namespace_id, name, change), "drainage")
