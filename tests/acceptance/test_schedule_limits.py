"""Schedules under bad or huge input: every request does bounded work, the server keeps
serving, and what Temporal refuses is refused with its words (checked against the real
server: the answers quoted here are the ones it gives)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp
from temporalio.api.common.v1 import WorkflowType
from temporalio.api.enums.v1 import ScheduleOverlapPolicy
from temporalio.api.schedule.v1 import (
    BackfillRequest,
    IntervalSpec,
    Range,
    Schedule,
    ScheduleAction,
    SchedulePatch,
    ScheduleSpec,
    ScheduleState,
    StructuredCalendarSpec,
)
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflow.v1 import NewWorkflowExecutionInfo
from temporalio.api.workflowservice.v1 import (
    CreateScheduleRequest,
    DescribeScheduleRequest,
    DescribeScheduleResponse,
    GetSystemInfoRequest,
    ListScheduleMatchingTimesRequest,
    ListSchedulesRequest,
    ListWorkflowExecutionsRequest,
    PatchScheduleRequest,
    StartWorkflowExecutionRequest,
)
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from tests import servers
from tests.helpers import eventually

YEAR_ONE = -62_135_596_800
LAST_SECOND = 253_402_300_799
PROMPTLY = timedelta(seconds=10)
"""A generous deadline for one RPC: a stalled server misses it, a busy one does not."""


def schedule(spec: ScheduleSpec, task_queue: str = "limits-q") -> Schedule:
    return Schedule(
        spec=spec,
        action=ScheduleAction(
            start_workflow=NewWorkflowExecutionInfo(
                workflow_id=f"wf-{uuid.uuid4().hex[:8]}",
                workflow_type=WorkflowType(name="Anything"),
                task_queue=TaskQueue(name=task_queue),
            )
        ),
    )


async def create(client: Client, spec: ScheduleSpec, paused: bool = True) -> str:
    schedule_id = f"limits-{uuid.uuid4().hex[:10]}"
    body = schedule(spec)
    body.state.CopyFrom(ScheduleState(paused=paused))
    await client.workflow_service.create_schedule(
        CreateScheduleRequest(
            namespace="default", schedule_id=schedule_id, schedule=body, request_id=str(uuid.uuid4())
        ),
        timeout=PROMPTLY,
    )
    return schedule_id


def every(seconds: int) -> ScheduleSpec:
    return ScheduleSpec(interval=[IntervalSpec(interval=Duration(seconds=seconds))])


async def refused(call: object) -> RPCError:
    with pytest.raises(RPCError) as caught:
        await call  # type: ignore[misc]
    assert caught.value.status == RPCStatusCode.INVALID_ARGUMENT, caught.value.message
    return caught.value


async def test_a_backfill_over_all_of_time_is_paced_while_the_server_keeps_serving(tmp_path: Path) -> None:
    async with servers.running(tmp_path / "backfill.db", tmp_path / "server.log") as server:
        client = await Client.connect(server.address)
        service = client.workflow_service
        schedule_id = await create(client, every(1))
        backfill = BackfillRequest(overlap_policy=ScheduleOverlapPolicy.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL)
        backfill.start_time.seconds, backfill.end_time.seconds = YEAR_ONE, LAST_SECOND
        await service.patch_schedule(
            PatchScheduleRequest(
                namespace="default", schedule_id=schedule_id, patch=SchedulePatch(backfill_request=[backfill])
            ),
            timeout=PROMPTLY,
        )

        # While the backfill runs, pass after pass, everything else is answered.
        async def thirty_actions_while_answering() -> DescribeScheduleResponse:
            described = await service.describe_schedule(
                DescribeScheduleRequest(namespace="default", schedule_id=schedule_id), timeout=PROMPTLY
            )
            await service.list_schedules(ListSchedulesRequest(namespace="default"), timeout=PROMPTLY)
            await service.list_workflow_executions(
                ListWorkflowExecutionsRequest(namespace="default"), timeout=PROMPTLY
            )
            await service.start_workflow_execution(
                StartWorkflowExecutionRequest(
                    namespace="default",
                    workflow_id=f"other-{uuid.uuid4().hex[:8]}",
                    workflow_type=WorkflowType(name="Other"),
                    task_queue=TaskQueue(name="other-q"),
                    request_id=str(uuid.uuid4()),
                ),
                timeout=PROMPTLY,
            )
            assert described.info.action_count >= 30
            return described

        # Ten actions a pass, from the epoch on (nothing matches before it, as on Temporal).
        described = await eventually(thirty_actions_while_answering, timeout=60, interval=0.2)
        first = described.info.recent_actions[0].start_workflow_result.workflow_id
        assert "-1970-01-01T00:00:" in first
        server.stop()  # SIGTERM, with SIGKILL only if it is ignored for 15 s
        assert server.returncode == 0


async def test_spec_durations_out_of_range_are_refused_and_the_namespace_stays_readable(
    client: Client,
) -> None:
    error = await refused(create(client, every(10**12)))
    assert error.message == (
        "Invalid schedule spec: interval is not a valid duration: proto: "
        "duration (seconds:1000000000000) exceeds +10000 years"
    )
    # Accepted, as Temporal accepts it: its first time would fall after 2100, so there is none.
    far = await create(client, every(10**11))
    described = await client.workflow_service.describe_schedule(
        DescribeScheduleRequest(namespace="default", schedule_id=far), timeout=PROMPTLY
    )
    assert list(described.info.future_action_times) == []
    listed = await client.workflow_service.list_schedules(
        ListSchedulesRequest(namespace="default"), timeout=PROMPTLY
    )
    assert far in [entry.schedule_id for entry in listed.schedules]


async def test_matching_times_from_before_year_one_begin_at_the_epoch(client: Client) -> None:
    schedule_id = await create(client, every(3600))
    answer = await client.workflow_service.list_schedule_matching_times(
        ListScheduleMatchingTimesRequest(
            namespace="default",
            schedule_id=schedule_id,
            start_time=Timestamp(seconds=-(10**15)),
            end_time=Timestamp(seconds=10800),
        ),
        timeout=PROMPTLY,
    )
    assert [t.seconds for t in answer.start_time] == [3600, 7200, 10800]


async def test_a_spec_excluding_every_time_is_described_promptly(client: Client) -> None:
    every_hour = StructuredCalendarSpec(
        second=[Range(start=0)],
        minute=[Range(start=0)],
        hour=[Range(start=0, end=23)],
        day_of_month=[Range(start=1, end=31)],
        month=[Range(start=1, end=12)],
        day_of_week=[Range(start=0, end=6)],
    )
    schedule_id = await create(
        client, ScheduleSpec(structured_calendar=[every_hour], exclude_structured_calendar=[every_hour])
    )
    described = await client.workflow_service.describe_schedule(
        DescribeScheduleRequest(namespace="default", schedule_id=schedule_id), timeout=PROMPTLY
    )
    assert list(described.info.future_action_times) == []
    error = await refused(
        client.workflow_service.list_schedule_matching_times(
            ListScheduleMatchingTimesRequest(
                namespace="default",
                schedule_id=schedule_id,
                start_time=Timestamp(seconds=0),
                end_time=Timestamp(seconds=LAST_SECOND),
            ),
            timeout=PROMPTLY,
        )
    )
    assert "too many exclusions" in error.message


async def test_a_patch_request_without_a_patch_is_refused(client: Client) -> None:
    schedule_id = await create(client, every(3600))
    error = await refused(
        client.workflow_service.patch_schedule(
            PatchScheduleRequest(namespace="default", schedule_id=schedule_id), timeout=PROMPTLY
        )
    )
    assert error.message == "Patch is not set on request."


@pytest.mark.parametrize(
    ("cron", "message"),
    [
        ("0 0 31 2 *", "invalid CronSchedule, no time can be found to satisfy the schedule"),
        ("0 0 * * * *", "invalid CronSchedule."),
        ("99 * * * *", "invalid CronSchedule."),
    ],
)
async def test_a_cron_schedule_that_cannot_run_is_refused_at_start(
    client: Client, workflow_id: str, cron: str, message: str
) -> None:
    error = await refused(
        client.workflow_service.start_workflow_execution(
            StartWorkflowExecutionRequest(
                namespace="default",
                workflow_id=workflow_id,
                workflow_type=WorkflowType(name="Anything"),
                task_queue=TaskQueue(name="cron-q"),
                cron_schedule=cron,
                request_id=str(uuid.uuid4()),
            ),
            timeout=PROMPTLY,
        )
    )
    assert error.message == message


async def test_system_info_advertises_schedules(client: Client) -> None:
    info = await client.workflow_service.get_system_info(GetSystemInfoRequest())
    assert info.capabilities.supports_schedules


async def test_a_schedule_over_the_blob_limit_is_refused(client: Client) -> None:
    # About 2.6 MB of calendars: the real server refuses it with these words.
    every_day = StructuredCalendarSpec(
        second=[Range(start=0)],
        minute=[Range(start=0)],
        hour=[Range(start=3)],
        day_of_month=[Range(start=1, end=31)],
        month=[Range(start=1, end=12)],
        day_of_week=[Range(start=0, end=6)],
    )
    error = await refused(create(client, ScheduleSpec(structured_calendar=[every_day] * 100_000)))
    assert error.message == "Blob data size exceeds limit."
