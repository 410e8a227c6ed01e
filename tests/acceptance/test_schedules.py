"""Schedules through the official SDK's schedule API, against a live Cadenza."""

from __future__ import annotations

import asyncio
import functools
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from temporalio.api.workflowservice.v1 import (
    DescribeScheduleRequest,
    ListScheduleMatchingTimesRequest,
    UpdateScheduleRequest,
)
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionExecution,
    ScheduleActionExecutionStartWorkflow,
    ScheduleActionStartWorkflow,
    ScheduleBackfill,
    ScheduleCalendarSpec,
    ScheduleDescription,
    ScheduleHandle,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleState,
    WorkflowExecutionStatus,
)
from temporalio.worker import Worker

from tests import servers
from tests.acceptance.workflows_schedules import Fails, Quick, WaitsForFinish
from tests.helpers import eventually

WORKFLOWS = [Quick, WaitsForFinish, Fails]


def started_id(execution: ScheduleActionExecution) -> str:
    assert isinstance(execution, ScheduleActionExecutionStartWorkflow)
    return execution.workflow_id


async def next_second() -> None:
    """Wait for the wall clock to tick over, so a trigger gets a workflow ID of its own."""
    await asyncio.sleep(1.05 - time.time() % 1)


def action(workflow: str, task_queue: str, workflow_id: str) -> ScheduleActionStartWorkflow:
    return ScheduleActionStartWorkflow(workflow, id=workflow_id, task_queue=task_queue)


async def create(client: Client, schedule: Schedule, **kwargs: object) -> ScheduleHandle:
    return await client.create_schedule(f"sched-{uuid.uuid4().hex[:10]}", schedule, **kwargs)  # type: ignore[arg-type]


async def matching(client: Client, handle: ScheduleHandle, start: datetime, end: datetime) -> list[datetime]:
    request = ListScheduleMatchingTimesRequest(namespace=client.namespace, schedule_id=handle.id)
    request.start_time.FromDatetime(start)
    request.end_time.FromDatetime(end)
    response = await client.workflow_service.list_schedule_matching_times(request)
    return [t.ToDatetime(UTC) for t in response.start_time]


async def test_every_spec_kind(client: Client, task_queue: str) -> None:
    day = datetime(2030, 11, 2, tzinfo=UTC)
    spec = ScheduleSpec(
        calendars=[ScheduleCalendarSpec(hour=(ScheduleRange(9, 17, 4),), comment="office")],
        intervals=[ScheduleIntervalSpec(every=timedelta(hours=6), offset=timedelta(minutes=30))],
        cron_expressions=["15 10 * * SAT"],
        skip=[ScheduleCalendarSpec(hour=(ScheduleRange(13),))],
        start_at=day + timedelta(hours=1),
        end_at=day + timedelta(hours=20),
        time_zone_name="UTC",
    )
    handle = await create(
        client,
        Schedule(action=action("Quick", task_queue, "spec"), spec=spec, state=ScheduleState(paused=True)),
    )
    times = await matching(client, handle, day, day + timedelta(days=1))
    assert [t.strftime("%H:%M") for t in times] == ["06:30", "09:00", "10:15", "12:30", "17:00", "18:30"]
    described = await handle.describe()
    assert described.schedule.spec.cron_expressions == []  # described as calendars, as Temporal does
    assert len(described.schedule.spec.calendars) == 2
    assert described.schedule.spec.calendars[0].comment == "office"
    await handle.delete()


async def test_zone_and_jitter(client: Client, task_queue: str) -> None:
    day = datetime(2030, 11, 2, tzinfo=UTC)
    handle = await create(
        client,
        Schedule(
            action=action("Quick", task_queue, "tz"),
            spec=ScheduleSpec(
                cron_expressions=["CRON_TZ=America/New_York 30 1 * * *"], jitter=timedelta(seconds=30)
            ),
            state=ScheduleState(paused=True),
        ),
    )
    times = await matching(client, handle, day, day + timedelta(days=2))
    # Nov 3rd 2030 repeats 1:30 in New York: both run.
    nominal = [t.replace(second=0, microsecond=0).strftime("%dT%H:%M") for t in times]
    assert nominal == ["02T05:30", "03T05:30", "03T06:30"]
    assert all(t.second < 30 for t in times)
    assert (await handle.describe()).schedule.spec.time_zone_name == "America/New_York"
    await handle.delete()


async def test_trigger_pause_and_describe(client: Client, task_queue: str) -> None:
    async with Worker(client, task_queue=task_queue, workflows=WORKFLOWS):
        handle = await create(
            client,
            Schedule(
                action=action("Quick", task_queue, "trig"),
                spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(hours=1))]),
                state=ScheduleState(paused=True, note="start paused"),
            ),
        )
        await handle.trigger()
        described = await eventually(lambda: finished_actions(handle, 1))
        started = started_id(described.info.recent_actions[0].action)
        assert started.startswith("trig-20")
        info = await client.get_workflow_handle(started).describe()
        assert info.search_attributes["TemporalScheduledById"] == [handle.id]
        assert len(info.search_attributes["TemporalScheduledStartTime"]) == 1
        assert described.schedule.state.paused and described.schedule.state.note == "start paused"
        await handle.unpause(note="go")
        described = await handle.describe()
        assert not described.schedule.state.paused and described.schedule.state.note == "go"
        assert len(described.info.next_action_times) == 10
        await handle.pause()
        assert (await handle.describe()).schedule.state.paused
        await handle.delete()


async def finished_actions(handle: ScheduleHandle, count: int) -> ScheduleDescription:
    described = await handle.describe()
    assert described.info.num_actions == count
    assert not described.info.running_actions
    return described


async def test_skip_and_allow_all(client: Client, task_queue: str) -> None:
    async with Worker(client, task_queue=task_queue, workflows=WORKFLOWS):
        handle = await create(
            client,
            Schedule(
                action=action("WaitsForFinish", task_queue, "skip"),
                spec=ScheduleSpec(),
                state=ScheduleState(paused=True),
            ),
        )
        await handle.trigger()
        await next_second()
        await handle.trigger()
        described = await handle.describe()
        assert described.info.num_actions == 1 and described.info.num_actions_skipped_overlap == 1
        await next_second()
        await handle.trigger(overlap=ScheduleOverlapPolicy.ALLOW_ALL)
        described = await handle.describe()
        assert described.info.num_actions == 2
        assert len(described.info.running_actions) == 1  # ALLOW_ALL runs are not tracked
        for recent in described.info.recent_actions:
            await client.get_workflow_handle(started_id(recent.action)).signal("finish")
        await eventually(lambda: finished_actions(handle, 2))
        await handle.delete()


async def test_buffer_one_and_buffer_all(client: Client, task_queue: str) -> None:
    async with Worker(client, task_queue=task_queue, workflows=WORKFLOWS):
        for policy, buffered in (
            (ScheduleOverlapPolicy.BUFFER_ONE, 1),
            (ScheduleOverlapPolicy.BUFFER_ALL, 2),
        ):
            handle = await create(
                client,
                Schedule(
                    action=action("WaitsForFinish", task_queue, f"buf-{policy.value}"),
                    spec=ScheduleSpec(),
                    policy=SchedulePolicy(overlap=policy),
                    state=ScheduleState(paused=True),
                ),
            )
            for _ in range(3):
                await handle.trigger()
                await next_second()
            described = await handle.describe()
            assert described.info.num_actions == 1
            assert described.info.num_actions_skipped_overlap == 2 - buffered
            for done in range(1, buffered + 2):
                running = (await handle.describe()).info.running_actions
                assert len(running) == 1
                await client.get_workflow_handle(started_id(running[0])).signal("finish")
                if done <= buffered:
                    await eventually(functools.partial(started_count, handle, done + 1))
            await eventually(functools.partial(finished_actions, handle, buffered + 1))
            await handle.delete()


async def started_count(handle: ScheduleHandle, count: int) -> None:
    described = await handle.describe()
    assert described.info.num_actions == count and len(described.info.running_actions) == 1


async def test_cancel_and_terminate_other(client: Client, task_queue: str) -> None:
    async with Worker(client, task_queue=task_queue, workflows=WORKFLOWS):
        for policy, status in (
            (ScheduleOverlapPolicy.CANCEL_OTHER, WorkflowExecutionStatus.CANCELED),
            (ScheduleOverlapPolicy.TERMINATE_OTHER, WorkflowExecutionStatus.TERMINATED),
        ):
            handle = await create(
                client,
                Schedule(
                    action=action("WaitsForFinish", task_queue, f"stop-{policy.value}"),
                    spec=ScheduleSpec(),
                    policy=SchedulePolicy(overlap=policy),
                    state=ScheduleState(paused=True),
                ),
            )
            await handle.trigger()
            first = (await handle.describe()).info.running_actions[0]
            await next_second()
            await handle.trigger()
            await eventually(functools.partial(started_count, handle, 2))
            stopped = await client.get_workflow_handle(started_id(first)).describe()
            assert stopped.status == status
            await handle.delete()


async def test_backfill_runs_past_times_with_their_ids(client: Client, task_queue: str) -> None:
    async with Worker(client, task_queue=task_queue, workflows=WORKFLOWS):
        begin = datetime(2024, 1, 20, 5, 0, tzinfo=UTC)
        handle = await create(
            client,
            Schedule(
                action=action("Quick", task_queue, "bf"),
                spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(minutes=1))]),
                state=ScheduleState(paused=True),
            ),
        )
        await handle.backfill(
            ScheduleBackfill(
                start_at=begin, end_at=begin + timedelta(minutes=3), overlap=ScheduleOverlapPolicy.ALLOW_ALL
            )
        )
        described = await eventually(lambda: finished_actions(handle, 4))
        ids = sorted(started_id(a.action) for a in described.info.recent_actions)
        assert ids == [f"bf-2024-01-20T05:0{m}:00Z" for m in range(4)]
        info = await client.get_workflow_handle(ids[0]).describe()
        assert info.search_attributes["TemporalScheduledStartTime"] == [begin]
        await handle.delete()


async def test_limited_actions_and_pause_on_failure(client: Client, task_queue: str) -> None:
    async with Worker(client, task_queue=task_queue, workflows=WORKFLOWS):
        handle = await create(
            client,
            Schedule(
                action=action("Quick", task_queue, "lim"),
                spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(seconds=1))]),
                state=ScheduleState(limited_actions=True, remaining_actions=2),
            ),
        )
        described = await eventually(lambda: finished_actions(handle, 2))
        assert described.schedule.state.remaining_actions == 0
        assert described.info.next_action_times == []
        await handle.delete()

        failing = await create(
            client,
            Schedule(
                action=action("Fails", task_queue, "fail"),
                spec=ScheduleSpec(),
                policy=SchedulePolicy(pause_on_failure=True),
                state=ScheduleState(paused=False),
            ),
        )
        await failing.trigger()

        async def paused() -> str:
            state = (await failing.describe()).schedule.state
            assert state.paused
            return state.note or ""

        note = await eventually(paused)
        assert note.startswith("paused due to workflow failure: fail-20")
        assert note.endswith("broken on purpose")
        await failing.delete()


async def test_update_with_conflict_token_and_list(client: Client, task_queue: str) -> None:
    handle = await create(
        client,
        Schedule(
            action=action("Quick", task_queue, "upd"), spec=ScheduleSpec(), state=ScheduleState(paused=True)
        ),
    )
    service = client.workflow_service
    described = await service.describe_schedule(
        DescribeScheduleRequest(namespace=client.namespace, schedule_id=handle.id)
    )
    changed = described.schedule
    changed.state.notes = "fresh"
    await service.update_schedule(
        UpdateScheduleRequest(
            namespace=client.namespace,
            schedule_id=handle.id,
            schedule=changed,
            conflict_token=described.conflict_token,
            request_id=str(uuid.uuid4()),
        )
    )
    changed.state.notes = "stale"
    # Made from a description that is no longer current: dropped, as Temporal drops it.
    await service.update_schedule(
        UpdateScheduleRequest(
            namespace=client.namespace,
            schedule_id=handle.id,
            schedule=changed,
            conflict_token=described.conflict_token,
            request_id=str(uuid.uuid4()),
        )
    )
    after = await handle.describe()
    assert after.schedule.state.note == "fresh" and after.info.last_updated_at is not None
    listed = [s async for s in await client.list_schedules(f"ScheduleId = '{handle.id}'")]
    assert [s.id for s in listed] == [handle.id]
    assert listed[0].schedule is not None and listed[0].schedule.state.paused
    paused = [s.id async for s in await client.list_schedules("TemporalSchedulePaused = true")]
    assert handle.id in paused
    await handle.delete()


async def test_missed_actions_catch_up_after_restart(tmp_path: Path, task_queue: str) -> None:
    async with servers.running(tmp_path / "cadenza.db", tmp_path / "server.log") as server:
        client = await Client.connect(server.address)
        handle = await client.create_schedule(
            "catch-up",
            Schedule(
                action=action("Quick", task_queue, "cu"),
                spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(seconds=1))]),
                policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.ALLOW_ALL),
            ),
        )
        down_from = datetime.now(UTC)
        server.stop()
        await asyncio.sleep(3)
        down_to = datetime.now(UTC)
        server.start()
        await server.wait_ready()
        client = await Client.connect(server.address)
        handle = client.get_schedule_handle("catch-up")
        await handle.pause()

        async def caught_up() -> list[str]:
            described = await handle.describe()
            ids = [started_id(a.action) for a in described.info.recent_actions]
            missed = [
                i
                for i in ids
                if down_from.strftime("%Y-%m-%dT%H:%M:%SZ")
                < i.removeprefix("cu-")
                < down_to.strftime("%Y-%m-%dT%H:%M:%SZ")
            ]
            assert len(missed) >= 2
            return ids

        ids = await eventually(caught_up)
        assert len(ids) == len(set(ids))  # each time ran once
        async with Worker(client, task_queue=task_queue, workflows=WORKFLOWS):
            listed = [w async for w in client.list_workflows("TemporalScheduledById = 'catch-up'")]
            described = await handle.describe()
            assert len(listed) == described.info.num_actions
