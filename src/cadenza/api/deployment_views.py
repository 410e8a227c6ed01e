"""A Worker Deployment and its versions as the protobuf messages the deployment RPCs answer with."""

from __future__ import annotations

from google.protobuf.timestamp_pb2 import Timestamp
from temporalio.api.common.v1 import Payload
from temporalio.api.deployment.v1 import message_pb2 as dpb
from temporalio.api.enums.v1 import RoutingConfigUpdateState
from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv1

from cadenza.deployments import names
from cadenza.deployments.model import Deployment, Version
from cadenza.history.machine.encoded import decode_blob
from cadenza.history.machine.events import timestamp

COMPLETED = RoutingConfigUpdateState.ROUTING_CONFIG_UPDATE_STATE_COMPLETED


def _time(seconds: float) -> Timestamp | None:
    return timestamp(seconds) if seconds else None


def version_ref(deployment: str, build_id: str) -> dpb.WorkerDeploymentVersion:
    return dpb.WorkerDeploymentVersion(deployment_name=deployment, build_id=build_id)


def _name(deployment: Deployment, build_id: str) -> str:
    if not build_id or build_id == names.UNVERSIONED:
        return names.UNVERSIONED
    return names.version_name(deployment.name, build_id)


def build_name(deployment_name: str, build_id: str) -> str:
    """A ramp's version as Temporal names it: empty when nothing ramps."""
    if not build_id:
        return ""
    return (
        names.UNVERSIONED if build_id == names.UNVERSIONED else names.version_name(deployment_name, build_id)
    )


def routing_config(deployment: Deployment) -> dpb.RoutingConfig:
    config = dpb.RoutingConfig(
        current_version=_name(deployment, deployment.current_build),
        ramping_version=build_name(deployment.name, deployment.ramping_build),
        ramping_version_percentage=deployment.ramp_percentage,
        current_version_changed_time=_time(deployment.current_changed_time),
        ramping_version_changed_time=_time(deployment.ramping_changed_time),
        ramping_version_percentage_changed_time=_time(deployment.ramp_percentage_changed_time),
        revision_number=deployment.revision,
    )
    if deployment.current_build:
        config.current_deployment_version.CopyFrom(version_ref(deployment.name, deployment.current_build))
    if deployment.ramping_build in deployment.versions:
        config.ramping_deployment_version.CopyFrom(version_ref(deployment.name, deployment.ramping_build))
    return config


def version_summary(
    deployment: Deployment, version: Version
) -> dpb.WorkerDeploymentInfo.WorkerDeploymentVersionSummary:
    return dpb.WorkerDeploymentInfo.WorkerDeploymentVersionSummary(
        version=_name(deployment, version.build_id),
        status=version.status,  # type: ignore[arg-type]
        deployment_version=version_ref(deployment.name, version.build_id),
        create_time=_time(version.create_time),
        current_since_time=_time(version.current_since),
        ramping_since_time=_time(version.ramping_since),
        routing_update_time=_time(version.routing_changed_time),
        first_activation_time=_time(version.first_activation_time),
        last_current_time=_time(version.last_current_time),
        last_deactivation_time=_time(version.last_deactivation_time),
        drainage_status=version.drainage_status,  # type: ignore[arg-type]
    )


def deployment_info(deployment: Deployment) -> dpb.WorkerDeploymentInfo:
    versions = sorted(deployment.versions.values(), key=lambda v: v.create_time)
    return dpb.WorkerDeploymentInfo(
        name=deployment.name,
        version_summaries=[version_summary(deployment, v) for v in versions],
        create_time=_time(deployment.create_time),
        routing_config=routing_config(deployment),
        last_modifier_identity=deployment.last_modifier_identity,
        routing_config_update_state=COMPLETED,
    )


def deployment_summary(deployment: Deployment) -> wsv1.ListWorkerDeploymentsResponse.WorkerDeploymentSummary:
    summary = wsv1.ListWorkerDeploymentsResponse.WorkerDeploymentSummary(
        name=deployment.name,
        create_time=_time(deployment.create_time),
        routing_config=routing_config(deployment),
    )
    if deployment.versions:
        latest = max(deployment.versions.values(), key=lambda v: v.create_time)
        summary.latest_version_summary.CopyFrom(version_summary(deployment, latest))
    for build_id, target in (
        (deployment.current_build, summary.current_version_summary),
        (deployment.ramping_build, summary.ramping_version_summary),
    ):
        if build_id in deployment.versions:
            target.CopyFrom(version_summary(deployment, deployment.versions[build_id]))
    return summary


def version_info(deployment: Deployment, version: Version) -> dpb.WorkerDeploymentVersionInfo:
    info = dpb.WorkerDeploymentVersionInfo(
        version=_name(deployment, version.build_id),
        status=version.status,  # type: ignore[arg-type]
        deployment_version=version_ref(deployment.name, version.build_id),
        create_time=_time(version.create_time),
        routing_changed_time=_time(version.routing_changed_time),
        current_since_time=_time(version.current_since),
        ramping_since_time=_time(version.ramping_since),
        ramp_percentage=version.ramp_percentage,
        task_queue_infos=[
            dpb.WorkerDeploymentVersionInfo.VersionTaskQueueInfo(name=name, type=kind)  # type: ignore[arg-type]
            for name, kind in version.task_queues
        ],
        last_modifier_identity=version.last_modifier_identity,
    )
    if version.metadata:
        info.metadata.CopyFrom(metadata(version))
    if version.drainage_status:
        info.drainage_info.CopyFrom(
            dpb.VersionDrainageInfo(
                status=version.drainage_status,  # type: ignore[arg-type]
                last_changed_time=_time(version.drainage_changed_time),
                last_checked_time=_time(version.drainage_checked_time),
            )
        )
    return info


def metadata(version: Version) -> dpb.VersionMetadata:
    result = dpb.VersionMetadata()
    for key, blob in version.metadata.items():
        payload = Payload()
        payload.ParseFromString(decode_blob(blob))
        result.entries[key].CopyFrom(payload)
    return result
