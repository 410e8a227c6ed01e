"""A version's drainage: once it no longer takes new work, whether runs pinned to it still
run (pure).

As on Temporal, a version that stops being current or ramping is draining from then on. After
a grace period (for recently started runs to reach visibility) and then at every refresh,
the running runs pinned to it are counted; at none it is drained, and no longer counted.
Becoming current or ramping again clears its drainage.
"""

from __future__ import annotations

from temporalio.api.enums.v1 import VersionDrainageStatus

from cadenza.deployments.model import DRAINED, DRAINING, Version

STATUS_DRAINING = VersionDrainageStatus.VERSION_DRAINAGE_STATUS_DRAINING
STATUS_DRAINED = VersionDrainageStatus.VERSION_DRAINAGE_STATUS_DRAINED


def begin(version: Version, now: float) -> None:
    """The version stops taking new work: it drains from now on."""
    version.status = DRAINING
    version.drainage_status = STATUS_DRAINING
    version.drainage_changed_time = version.drainage_checked_time = now


def end(version: Version) -> None:
    """The version takes new work again: it has no drainage."""
    version.drainage_status = 0
    version.drainage_changed_time = version.drainage_checked_time = 0.0


def due(version: Version, now: float, grace: float, refresh: float) -> bool:
    """Whether the version's pinned runs are to be counted now."""
    if version.status != DRAINING or version.drainage_status != STATUS_DRAINING:
        return False
    first = version.drainage_checked_time == version.drainage_changed_time
    return now >= version.drainage_checked_time + (grace if first else refresh)


def counted(version: Version, running_pinned: int, now: float) -> None:
    """Record a count of the running runs pinned to a draining version: at none it is drained."""
    if version.status != DRAINING:
        return  # it took new work again since the count began
    version.drainage_checked_time = now
    if running_pinned == 0:
        version.status = DRAINED
        version.drainage_status = STATUS_DRAINED
        version.drainage_changed_time = now


def pinned_runs_query(deployment_name: str, build_id: str) -> str:
    """The visibility filter of the running runs pinned to a version, as Temporal counts them."""
    shown = f"{deployment_name}:{build_id}"
    return (
        f"TemporalWorkerDeploymentVersion = '{_quoted(shown)}' AND "
        "TemporalWorkflowVersioningBehavior = 'Pinned' AND ExecutionStatus = 'Running'"
    )


def _quoted(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")
