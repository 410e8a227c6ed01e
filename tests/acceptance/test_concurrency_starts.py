"""Workflow concurrency limits count every run, however it starts: a parent's children, a
schedule's runs, update-with-start; and a run that continues as new keeps its one slot."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType, StartChildWorkflowExecutionFailedCause
from temporalio.api.errordetails.v1 import MultiOperationExecutionFailure
from temporalio.api.workflowservice.v1 import DescribeScheduleRequest, ExecuteMultiOperationRequest
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    WithStartWorkflowOperation,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError, RPCStatusCode

from cadenza.concurrency import WORKFLOW_TYPE
from cadenza.timers.kinds import TimerKind
from tests import servers
from tests.acceptance import raw_calls
from tests.acceptance import workflows_concurrency as wc
from tests.acceptance.concurrency_checks import (
    limited_server,
    most_at_once,
    no_slot_held,
    start_holder,
    worker,
)
from tests.acceptance.test_concurrency_limits import finish, refused_start, set_limit
from tests.helpers import eventually

CHILD_EXISTS = (
    StartChildWorkflowExecutionFailedCause.START_CHILD_WORKFLOW_EXECUTION_FAILED_CAUSE_WORKFLOW_ALREADY_EXISTS
)


async def test_children_past_a_queue_limit_wait_for_slots_and_all_complete() -> None:
    async with limited_server("fan", "Limited", 2) as (cadenza, client, queue, key):
        async with worker(client, queue):
            results = await client.execute_workflow(
                wc.FanOut.run, args=[queue, 6, "Limited"], id=f"{queue}-parent", task_queue=queue
            )
        children = [f"{queue}-{i}" for i in range(6)]
        assert results == children
        assert await most_at_once(client, children) == 2
        await eventually(lambda: no_slot_held(cadenza, key))


async def test_a_child_past_a_reject_limit_fails_to_start() -> None:
    async with limited_server("fan", "Waits", 1, "reject") as (cadenza, client, queue, key):
        async with worker(client, queue):
            holder = await start_holder(client, queue)
            parent = await client.start_workflow(
                wc.FanOut.run, args=[queue, 2, "Waits"], id=f"{queue}-parent", task_queue=queue
            )
            assert await parent.result() == [f"refused {queue}-0", f"refused {queue}-1"]
            events = [event async for event in parent.fetch_history_events()]
            failed = [
                event.start_child_workflow_execution_failed_event_attributes.cause
                for event in events
                if event.event_type == EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED
            ]
            assert failed == [CHILD_EXISTS, CHILD_EXISTS]
            with pytest.raises(RPCError):  # a refused child was never written
                await client.get_workflow_handle(f"{queue}-0").describe()
            assert cadenza.server.concurrency.running(key) == 1
            await finish(client, holder)
        await eventually(lambda: no_slot_held(cadenza, key))


async def test_a_child_waiting_for_a_slot_still_waits_after_a_restart(tmp_path: Path) -> None:
    """The wait is durable: the parent's outbox entry outlives the server, and meanwhile the
    parent's workflow tasks go on (it answers a query)."""
    queue = f"fan-{uuid.uuid4().hex[:6]}"
    async with servers.in_process(tmp_path / "cadenza.db") as cadenza:
        client = await Client.connect(cadenza.address)
        await set_limit(cadenza, WORKFLOW_TYPE, "Waits", 1)
        async with worker(client, queue):
            holder = await start_holder(client, queue)
            parent = await client.start_workflow(
                wc.FanOut.run, args=[queue, 1, "Waits"], id=f"{queue}-parent", task_queue=queue
            )

            async def child_initiated() -> bool:
                described = await parent.describe()
                return len(described.raw_description.pending_children) == 1

            await eventually(child_initiated)
            assert await parent.query("__stack_trace")  # a workflow task answers it
            with pytest.raises(RPCError):
                await client.get_workflow_handle(f"{queue}-0").describe()
    async with servers.in_process(tmp_path / "cadenza.db") as cadenza:
        client = await Client.connect(cadenza.address)
        async with worker(client, queue):
            await finish(client, holder)
            child = client.get_workflow_handle(f"{queue}-0")
            await eventually(lambda: exists(client, child.id))
            await finish(client, child.id)
            assert await client.get_workflow_handle(f"{queue}-parent").result() == ["done"]


async def test_a_child_waiting_for_a_slot_is_dropped_when_its_parent_ends() -> None:
    async with limited_server("fan", "Waits", 1) as (cadenza, client, queue, key), worker(client, queue):
        holder = await start_holder(client, queue)
        parent = await client.start_workflow(
            wc.FanOut.run, args=[queue, 1, "Waits"], id=f"{queue}-parent", task_queue=queue
        )
        await eventually(lambda: child_start_pending(cadenza, parent.id))
        await parent.terminate()
        await finish(client, holder)
        await eventually(lambda: child_start_pending(cadenza, parent.id, False))
        assert not await exists(client, f"{queue}-0")
        await eventually(lambda: no_slot_held(cadenza, key))


async def child_start_pending(cadenza: servers.InProcessServer, parent_id: str, pending: bool = True) -> bool:
    """Whether the parent's outbox holds a child's start (``pending``), or holds none."""
    timers = await cadenza.server._store.list_timers()
    held = any(t.workflow_id == parent_id and t.kind == TimerKind.START_CHILD for t in timers)
    return held == pending


async def exists(client: Client, workflow_id: str) -> bool:
    try:
        await client.get_workflow_handle(workflow_id).describe()
    except RPCError as error:
        assert error.status == RPCStatusCode.NOT_FOUND
        return False
    return True


def every_second_allowing_overlap(queue: str) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(wc.Waits.run, id=f"{queue}-run", task_queue=queue),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(seconds=1))]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.ALLOW_ALL),
    )


async def scheduled_runs(client: Client, schedule_id: str, running_only: bool = False) -> list[str]:
    query = f"TemporalScheduledById = '{schedule_id}'"
    if running_only:
        query += " AND ExecutionStatus = 'Running'"
    return [execution.id async for execution in client.list_workflows(query)]


async def buffered(client: Client, schedule_id: str) -> int:
    described = await client.workflow_service.describe_schedule(
        DescribeScheduleRequest(namespace="default", schedule_id=schedule_id)
    )
    return described.info.buffer_size


async def test_a_schedules_runs_wait_for_a_queue_limit() -> None:
    async with limited_server("sched", "Waits", 1) as (_, client, queue, _), worker(client, queue):
        schedule = await client.create_schedule(queue, every_second_allowing_overlap(queue))

        async def one_running_and_two_waiting() -> bool:
            running = await scheduled_runs(client, queue, running_only=True)
            return len(running) == 1 and await buffered(client, queue) >= 2

        await eventually(one_running_and_two_waiting)
        for _ in range(2):  # each run closing lets the next waiting start go
            (running,) = await scheduled_runs(client, queue, running_only=True)
            await finish(client, running)

            async def another_running(done: str = running) -> bool:
                now = await scheduled_runs(client, queue, running_only=True)
                return len(now) == 1 and now != [done]

            await eventually(another_running)
        await schedule.delete()
        await eventually(lambda: all_terminated(client, queue))
        runs = await scheduled_runs(client, queue)
        assert len(runs) >= 3
        assert await most_at_once(client, runs) == 1


async def all_terminated(client: Client, schedule_id: str) -> bool:
    """Terminate the schedule's running runs; whether none was left."""
    running = await scheduled_runs(client, schedule_id, running_only=True)
    for workflow_id in running:
        await client.get_workflow_handle(workflow_id).terminate()
    return not running


async def test_a_schedules_start_past_a_reject_limit_is_dropped(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="cadenza.schedules.taking")
    async with (
        limited_server("sched", "Waits", 1, "reject") as (_, client, queue, _),
        worker(client, queue),
    ):
        schedule = await client.create_schedule(queue, every_second_allowing_overlap(queue))

        def refused_twice() -> bool:
            refusals = [r for r in caplog.records if "concurrency limit" in r.getMessage()]
            return len(refusals) >= 2

        await eventually(refused_twice)
        described = await schedule.describe()
        assert described.info.num_actions == 1  # the refused starts are no actions
        assert await buffered(client, queue) == 0  # nor do they wait
        assert len(await scheduled_runs(client, queue)) == 1
        await schedule.delete()
        await eventually(lambda: all_terminated(client, queue))


def updatable(workflow_id: str, queue: str) -> WithStartWorkflowOperation[wc.Updatable, int]:
    return WithStartWorkflowOperation(
        wc.Updatable.run,
        id=workflow_id,
        task_queue=queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )


async def test_update_with_start_waits_for_a_queue_limit_and_is_refused_by_a_reject_one() -> None:
    async with limited_server("uws", "Updatable", 1) as (cadenza, client, queue, key):
        async with worker(client, queue):
            bump = wc.Updatable.bump
            first = updatable(f"{queue}-a", queue)
            assert await client.execute_update_with_start_workflow(bump, start_workflow_operation=first) == 1
            second = updatable(f"{queue}-b", queue)
            waiting = asyncio.create_task(
                client.execute_update_with_start_workflow(bump, start_workflow_operation=second)
            )
            assert await client.get_workflow_handle(f"{queue}-a").execute_update(bump) == 2
            assert not waiting.done()  # its start waits for the slot the first holds
            with pytest.raises(RPCError):
                await client.get_workflow_handle(f"{queue}-b").describe()
            await (await first.workflow_handle()).signal(wc.Updatable.finish)
            assert await asyncio.wait_for(waiting, 30) == 1

            await set_limit(cadenza, WORKFLOW_TYPE, "Updatable", 1, "reject")
            request = ExecuteMultiOperationRequest(namespace="default")
            start = raw_calls.start_request(f"{queue}-c", queue)
            start.workflow_type.name = "Updatable"
            request.operations.add().start_workflow.CopyFrom(start)
            update = request.operations.add().update_workflow
            update.namespace = "default"
            update.workflow_execution.workflow_id = f"{queue}-c"
            update.request.meta.update_id = "u1"
            update.request.input.name = "bump"
            with pytest.raises(RPCError) as refused:
                await client.workflow_service.execute_multi_operation(request, retry=False)
            assert refused.value.status == RPCStatusCode.RESOURCE_EXHAUSTED
            failure = MultiOperationExecutionFailure()
            assert refused.value.grpc_status.details[0].Unpack(failure)
            start_status = failure.statuses[0]
            assert start_status.code == RPCStatusCode.RESOURCE_EXHAUSTED
            assert "workflow-type 'Updatable' concurrency limit (1 running) reached" in start_status.message
            with pytest.raises(RPCError):  # nothing was written
                await client.get_workflow_handle(f"{queue}-c").describe()
            assert cadenza.server.concurrency.running(key) == 1
            second_handle = await second.workflow_handle()
            await second_handle.signal(wc.Updatable.finish)
            assert await second_handle.result() == 1
        await eventually(lambda: no_slot_held(cadenza, key))


async def test_a_signal_with_start_through_nexus_waits_for_a_queue_limit() -> None:
    async with limited_server("sws", "Waits", 1) as (_, client, queue, _), worker(client, queue):
        holder = await start_holder(client, queue)
        caller = await client.start_workflow(
            wc.SignalsWithStart.run, f"{queue}-0", id=f"{queue}-caller", task_queue=queue
        )

        async def operation_retried() -> bool:
            pending = (await caller.describe()).raw_description.pending_nexus_operations
            return bool(pending) and pending[0].attempt >= 2

        await eventually(operation_retried)
        assert not await exists(client, f"{queue}-0")
        await finish(client, holder)
        assert await caller.result() == f"{queue}-0"
        assert await client.get_workflow_handle(f"{queue}-0").result() == "done"


async def test_a_run_continued_as_new_keeps_its_one_slot() -> None:
    async with limited_server("can", "Continues", 1, "reject") as (cadenza, client, queue, key):
        slots = cadenza.server.concurrency
        async with worker(client, queue):
            handle = await client.start_workflow(wc.Continues.run, 2, id=f"{queue}-0", task_queue=queue)
            first_run = (await handle.describe()).run_id
            for _ in range(2):
                before = (await client.get_workflow_handle(handle.id).describe()).run_id
                await client.get_workflow_handle(handle.id).signal(wc.Continues.next)

                async def continued(before: str = before) -> bool:
                    return (await client.get_workflow_handle(handle.id).describe()).run_id != before

                await eventually(continued)
                assert slots.running(key) == 1  # neither freed nor taken again
                stored = await cadenza.server._store.list_slots()
                assert [s.workflow_id for s in stored if s.name == "Continues"] == [handle.id]
                refused = await refused_start(client, f"{queue}-1", queue, "Continues")
                assert refused.status == RPCStatusCode.RESOURCE_EXHAUSTED
            assert (await client.get_workflow_handle(handle.id).describe()).run_id != first_run
            await client.get_workflow_handle(handle.id).signal(wc.Continues.next)
            assert await client.get_workflow_handle(handle.id).result() == "done"
            await eventually(lambda: slots.running(key) == 0)
            other = await client.start_workflow(wc.Continues.run, 0, id=f"{queue}-1", task_queue=queue)
            await other.signal(wc.Continues.next)
            assert await other.result() == "done"
