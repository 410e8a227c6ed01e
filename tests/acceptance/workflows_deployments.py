"""Workflows of versioned workers: each answers with the build of the worker that finished it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv1
from temporalio.client import Client
from temporalio.common import VersioningBehavior, WorkerDeploymentVersion
from temporalio.worker import UnsandboxedWorkflowRunner, Worker, WorkerDeploymentConfig

from tests.helpers import eventually

NAMESPACE = "default"


class _WaitsToFinish:
    def __init__(self) -> None:
        self.finishing = False

    @workflow.signal
    def finish(self) -> None:
        self.finishing = True

    @workflow.query
    def version(self) -> str:
        """The build of the worker answering."""
        version = workflow.info().get_current_deployment_version()
        return version.build_id if version else ""

    async def finished_on(self) -> str:
        await workflow.wait_condition(lambda: self.finishing)
        version = workflow.info().get_current_deployment_version()
        return version.build_id if version else ""


@workflow.defn(name="Pinned", versioning_behavior=VersioningBehavior.PINNED)
class Pinned(_WaitsToFinish):
    @workflow.run
    async def run(self) -> str:
        return await self.finished_on()


@workflow.defn(name="Upgrading", versioning_behavior=VersioningBehavior.AUTO_UPGRADE)
class Upgrading(_WaitsToFinish):
    @workflow.run
    async def run(self) -> str:
        return await self.finished_on()


@activity.defn(name="echo")
async def echo(text: str) -> str:
    return text


@workflow.defn(name="PinnedCaller", versioning_behavior=VersioningBehavior.PINNED)
class PinnedCaller:
    """Runs an activity on another task queue, whose workers belong to no deployment."""

    @workflow.run
    async def run(self, activity_queue: str) -> str:
        return await workflow.execute_activity(
            echo, "echoed", task_queue=activity_queue, start_to_close_timeout=timedelta(seconds=30)
        )


@workflow.defn(name="Child", versioning_behavior=VersioningBehavior.AUTO_UPGRADE)
class Child:
    @workflow.run
    async def run(self) -> str:
        version = workflow.info().get_current_deployment_version()
        return version.build_id if version else ""


@workflow.defn(name="PinnedParent", versioning_behavior=VersioningBehavior.PINNED)
class PinnedParent:
    @workflow.run
    async def run(self) -> str:
        return await workflow.execute_child_workflow(Child.run, id=f"{workflow.info().workflow_id}-child")


WORKFLOWS = [Pinned, Upgrading, PinnedCaller, Child, PinnedParent]


def new_deployment() -> str:
    return f"dep-{uuid.uuid4().hex[:10]}"


def versioned_worker(client: Client, task_queue: str, deployment: str, build_id: str) -> Worker:
    return Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        workflow_runner=UnsandboxedWorkflowRunner(),
        deployment_config=WorkerDeploymentConfig(
            version=WorkerDeploymentVersion(deployment, build_id), use_worker_versioning=True
        ),
    )


@asynccontextmanager
async def versions(
    client: Client, task_queue: str, deployment: str, *build_ids: str
) -> AsyncIterator[list[Worker]]:
    """One running worker per build, each version known to the server before the block runs."""
    workers = [versioned_worker(client, task_queue, deployment, build_id) for build_id in build_ids]
    for worker in workers:
        await worker.__aenter__()
    try:
        for build_id in build_ids:
            await eventually(lambda build_id=build_id: visible(client, deployment, build_id))  # type: ignore[misc]
        yield workers
    finally:
        for worker in reversed(workers):
            await worker.__aexit__(None, None, None)


async def describe(client: Client, deployment: str) -> wsv1.DescribeWorkerDeploymentResponse:
    return await client.workflow_service.describe_worker_deployment(
        wsv1.DescribeWorkerDeploymentRequest(namespace=NAMESPACE, deployment_name=deployment)
    )


async def visible(client: Client, deployment: str, build_id: str) -> bool:
    try:
        described = await describe(client, deployment)
    except Exception:  # not yet registered: NOT_FOUND
        return False
    return any(
        summary.deployment_version.build_id == build_id
        for summary in described.worker_deployment_info.version_summaries
    )


async def set_current(
    client: Client, deployment: str, build_id: str
) -> wsv1.SetWorkerDeploymentCurrentVersionResponse:
    return await client.workflow_service.set_worker_deployment_current_version(
        wsv1.SetWorkerDeploymentCurrentVersionRequest(
            namespace=NAMESPACE, deployment_name=deployment, build_id=build_id, identity="tests"
        )
    )


async def set_ramping(
    client: Client, deployment: str, build_id: str, percentage: float
) -> wsv1.SetWorkerDeploymentRampingVersionResponse:
    return await client.workflow_service.set_worker_deployment_ramping_version(
        wsv1.SetWorkerDeploymentRampingVersionRequest(
            namespace=NAMESPACE, deployment_name=deployment, build_id=build_id, percentage=percentage
        )
    )
