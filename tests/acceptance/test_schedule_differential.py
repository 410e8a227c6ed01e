"""Schedule specs on Cadenza and on the real Temporal dev server: the same matching times
around daylight-saving changes, and the same refusals of specs out of range."""

from __future__ import annotations

import calendar
import uuid

import pytest
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp
from temporalio.api.common.v1 import WorkflowType
from temporalio.api.schedule.v1 import (
    IntervalSpec,
    Range,
    Schedule,
    ScheduleAction,
    ScheduleSpec,
    ScheduleState,
    StructuredCalendarSpec,
)
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflow.v1 import NewWorkflowExecutionInfo
from temporalio.api.workflowservice.v1 import (
    CreateScheduleRequest,
    ListScheduleMatchingTimesRequest,
)
from temporalio.client import Client
from temporalio.service import RPCError

from tests import servers

pytestmark = [
    pytest.mark.differential,
    pytest.mark.skipif(servers.temporal_binary() is None, reason="temporal CLI not installed"),
]


async def create(client: Client, spec: ScheduleSpec) -> str:
    """The schedule's ID, or the refusal's status and message."""
    schedule_id = f"diff-{uuid.uuid4().hex[:10]}"
    body = Schedule(
        spec=spec,
        state=ScheduleState(paused=True),
        action=ScheduleAction(
            start_workflow=NewWorkflowExecutionInfo(
                workflow_id="diff-wf",
                workflow_type=WorkflowType(name="Anything"),
                task_queue=TaskQueue(name="diff-q"),
            )
        ),
    )
    try:
        await client.workflow_service.create_schedule(
            CreateScheduleRequest(
                namespace="default", schedule_id=schedule_id, schedule=body, request_id=str(uuid.uuid4())
            )
        )
    except RPCError as error:
        return f"{error.status.name}: {error.message}"
    return schedule_id


async def matching_times(client: Client, spec: ScheduleSpec, start: int, hours: int) -> list[int]:
    schedule_id = await create(client, spec)
    answer = await client.workflow_service.list_schedule_matching_times(
        ListScheduleMatchingTimesRequest(
            namespace="default",
            schedule_id=schedule_id,
            start_time=Timestamp(seconds=start),
            end_time=Timestamp(seconds=start + hours * 3600),
        )
    )
    return [t.seconds for t in answer.start_time]


def hourly_calendar(zone: str) -> ScheduleSpec:
    return ScheduleSpec(
        timezone_name=zone,
        structured_calendar=[
            StructuredCalendarSpec(
                second=[Range(start=0)],
                minute=[Range(start=0)],
                hour=[Range(start=0, end=23)],
                day_of_month=[Range(start=1, end=31)],
                month=[Range(start=1, end=12)],
                day_of_week=[Range(start=0, end=6)],
            )
        ],
    )


@pytest.mark.parametrize(
    ("zone", "evening"),
    [
        ("Europe/Berlin", (2026, 10, 24, 20)),  # east of UTC: the repeated hour fires once
        ("America/New_York", (2026, 11, 1, 2)),  # west of UTC: it fires twice
        ("Australia/Sydney", (2026, 4, 4, 12)),
    ],
)
async def test_times_across_a_fall_back_match_real_temporal(
    client: Client, temporal_client: Client, zone: str, evening: tuple[int, int, int, int]
) -> None:
    start = calendar.timegm((*evening, 0, 0))
    for spec in (
        hourly_calendar(zone),
        ScheduleSpec(cron_string=["*/20 * * * *"], timezone_name=zone),
        ScheduleSpec(cron_string=["0 2 * * *"], timezone_name=zone),
    ):
        expected = await matching_times(temporal_client, spec, start, 10)
        assert await matching_times(client, spec, start, 10) == expected


@pytest.mark.parametrize(
    "spec",
    [
        ScheduleSpec(interval=[IntervalSpec(interval=Duration(seconds=10**12))]),
        ScheduleSpec(interval=[IntervalSpec(interval=Duration(seconds=60), phase=Duration(seconds=10**12))]),
        ScheduleSpec(cron_string=["61 * * * *"]),
        ScheduleSpec(cron_string=["5-2 * * * *"]),
    ],
)
async def test_specs_out_of_range_are_refused_as_by_real_temporal(
    client: Client, temporal_client: Client, spec: ScheduleSpec
) -> None:
    expected = await create(temporal_client, spec)
    assert expected.startswith("INVALID_ARGUMENT")
    # Go's protobuf errors put a space or, by a choice fixed per build, a no-break space
    # after "proto:" (so that nobody parses them): the wording is what is compared.
    assert await create(client, spec) == expected.replace("\u00a0", " ")
