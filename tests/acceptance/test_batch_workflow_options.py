"""Batches that change workflows' options, through the SDK's client and through the `temporal`
CLI: every matched run gets the override, runs it cannot apply to count as failures, and the
batch refuses a request without options or mask."""

from __future__ import annotations

import pytest
from temporalio.api.enums.v1 import BatchOperationType, VersioningBehavior
from temporalio.api.workflow.v1 import VersioningOverride
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from tests import servers
from tests.acceptance import batch_options as bo
from tests.acceptance import raw_calls as raw
from tests.acceptance import workflows_deployments as wd
from tests.acceptance.test_batch_cli import cli, described, started_job
from tests.helpers import eventually
from tests.servers import ServerProcess

pytestmark = pytest.mark.timeout(120)

UPDATE_OPTIONS = BatchOperationType.BATCH_OPERATION_TYPE_UPDATE_WORKFLOW_EXECUTION_OPTIONS
PINNED = VersioningBehavior.VERSIONING_BEHAVIOR_PINNED


async def _override(client: Client, workflow_id: str) -> VersioningOverride:
    return (await raw.info(client, workflow_id)).versioning_info.versioning_override


async def _overrides(client: Client, workflow_ids: list[str]) -> list[VersioningOverride]:
    return [await _override(client, workflow_id) for workflow_id in workflow_ids]


async def test_a_batch_pins_the_matched_runs_and_counts_those_it_cannot_pin(client: Client) -> None:
    s = bo.Scenario(client)
    everyone = s.pinned_ids + s.upgrading_ids
    async with wd.versions(client, s.task_queue, s.deployment, "1.0"):
        await s.start_runs()
        # A version no worker of the task queue runs: every run refuses it.
        assert await s.batch("absent", bo.override_op(bo.pinned(s.deployment, "7.7"))) == (
            UPDATE_OPTIONS,
            4,
            0,
            4,
        )
        assert not any(o.ByteSize() for o in await _overrides(client, everyone))
        # Without a version, a run is pinned where it runs: only runs pinned already can be.
        assert await s.batch("in-place", bo.override_op(bo.pinned())) == (UPDATE_OPTIONS, 4, 2, 2)
        for workflow_id in s.pinned_ids:
            assert (await _override(client, workflow_id)).pinned.version.build_id == "1.0"
        assert not any(o.ByteSize() for o in await _overrides(client, s.upgrading_ids))
        assert await s.batch("pin", bo.override_op(bo.pinned(s.deployment, "1.0"))) == (
            UPDATE_OPTIONS,
            4,
            4,
            0,
        )
        for workflow_id in everyone:
            override = await _override(client, workflow_id)
            assert override.pinned.version.deployment_name == s.deployment
            assert override.pinned_version == f"{s.deployment}.1.0"
        await s.terminate()
    events = await raw.history(client, s.upgrading_ids[0])
    [updated] = [e for e in events if e.HasField("workflow_execution_options_updated_event_attributes")]
    assert updated.workflow_execution_options_updated_event_attributes.identity == "batcher"


async def test_a_batch_without_options_or_mask_is_refused(client: Client) -> None:
    op = bo.override_op(bo.pinned("d", "1.0"))
    no_mask, no_options = type(op)(), type(op)()
    no_mask.workflow_execution_options.CopyFrom(op.workflow_execution_options)
    no_options.update_mask.CopyFrom(op.update_mask)
    for operation, message in (
        (no_mask, "must provide UpdateMask"),
        (no_options, "must provide UpdateOptions"),
    ):
        request = bo.start_request("refused", visibility_query="WorkflowType = 'X'")
        request.update_workflow_options_operation.CopyFrom(operation)
        with pytest.raises(RPCError) as refused:
            await client.workflow_service.start_batch_operation(request)
        assert (refused.value.status, refused.value.message) == (RPCStatusCode.INVALID_ARGUMENT, message)


@pytest.mark.skipif(servers.temporal_binary() is None, reason="temporal CLI not installed")
async def test_the_cli_changes_the_override_of_the_runs_a_query_matches(
    client: Client, cadenza_server: ServerProcess
) -> None:
    s = bo.Scenario(client)
    options = ("workflow", "update-options", "--query", s.query, "--reason", "rollback", "--yes")
    async with wd.versions(client, s.task_queue, s.deployment, "1.0"):
        await s.start_runs()
        pin = ("--versioning-override-behavior", "pinned", "--versioning-override-deployment-name")
        pinning = started_job(
            cli(cadenza_server, *options, *pin, s.deployment, "--versioning-override-build-id", "1.0")
        )

        def completed(job_id: str) -> dict[str, str]:
            shown = described(cadenza_server, job_id)
            assert shown["state"] == "BATCH_OPERATION_STATE_COMPLETED"
            return shown

        shown = await eventually(lambda: completed(pinning))
        assert shown["operationType"] == "BATCH_OPERATION_TYPE_UPDATE_WORKFLOW_EXECUTION_OPTIONS"
        assert (shown["totalOperationCount"], shown["completeOperationCount"]) == ("4", "4")
        assert shown["reason"] == "rollback"
        for workflow_id in s.pinned_ids + s.upgrading_ids:
            info = (await raw.info(client, workflow_id)).versioning_info
            assert info.versioning_override.pinned.version.build_id == "1.0"
            assert info.behavior == PINNED or workflow_id in s.upgrading_ids

        upgrading = started_job(
            cli(cadenza_server, *options, "--versioning-override-behavior", "auto_upgrade")
        )
        await eventually(lambda: completed(upgrading))
        for workflow_id in s.pinned_ids + s.upgrading_ids:
            assert (await _override(client, workflow_id)).auto_upgrade
        await s.terminate()
