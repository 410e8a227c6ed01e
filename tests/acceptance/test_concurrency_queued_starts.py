"""A client's start past a full ``queue`` workflow limit is accepted at once, its run written
and running, and its first workflow task waits, durably, until the run gets its slot."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowFailureError, WorkflowHandle
from temporalio.common import RetryPolicy
from temporalio.exceptions import CancelledError

from cadenza.concurrency import WORKFLOW_TYPE
from cadenza.timers.kinds import TimerKind
from tests import servers
from tests.acceptance import workflows_concurrency as wc
from tests.acceptance.concurrency_checks import (
    limited_server,
    most_dispatched_at_once,
    no_slot_held,
    start_holder,
    worker,
)
from tests.acceptance.test_concurrency_limits import finish, set_limit
from tests.helpers import dispatched, eventually

SHORT = timedelta(seconds=2)
"""A client's RPC timeout far shorter than any run's wait for its slot."""


async def start_limited(client: Client, queue: str, count: int) -> list[WorkflowHandle[wc.Limited, str]]:
    """Start ``count`` runs of ``Limited``, each call with a short RPC timeout."""
    return [
        await client.start_workflow(
            wc.Limited.run, f"{queue}-{i}", id=f"{queue}-{i}", task_queue=queue, rpc_timeout=SHORT
        )
        for i in range(count)
    ]


async def waiting_runs(cadenza: servers.InProcessServer) -> set[str]:
    """The workflow IDs of the runs whose first workflow task waits for a slot (stored)."""
    timers = await cadenza.server._store.list_timers()
    return {t.workflow_id for t in timers if t.kind == TimerKind.AWAIT_SLOT}


async def test_starts_past_a_queue_limit_return_at_once_and_run_one_at_a_time() -> None:
    async with limited_server("queued", "Limited", 1) as (cadenza, client, queue, key):
        handles = await start_limited(client, queue, 4)  # no worker yet: the first keeps its slot
        for handle in handles:
            described = await handle.describe()
            assert described.status == WorkflowExecutionStatus.RUNNING
            assert described.run_id == handle.result_run_id
        assert [await dispatched(handle) for handle in handles] == [True, False, False, False]
        assert await waiting_runs(cadenza) == {handle.id for handle in handles[1:]}
        assert cadenza.server.concurrency.running(key) == 1
        async with worker(client, queue):
            assert [await handle.result() for handle in handles] == [handle.id for handle in handles]
        assert await most_dispatched_at_once(handles) == 1
        assert await waiting_runs(cadenza) == set()
        await eventually(lambda: no_slot_held(cadenza, key))


async def test_runs_waiting_for_a_slot_still_wait_after_a_restart(tmp_path: Path) -> None:
    queue = f"queued-{uuid.uuid4().hex[:6]}"
    async with servers.in_process(tmp_path / "cadenza.db") as cadenza:
        client = await Client.connect(cadenza.address)
        await set_limit(cadenza, WORKFLOW_TYPE, "Limited", 1)
        handles = await start_limited(client, queue, 3)
        assert await waiting_runs(cadenza) == {handle.id for handle in handles[1:]}
    async with servers.in_process(tmp_path / "cadenza.db") as cadenza:
        client = await Client.connect(cadenza.address)
        handles = [client.get_workflow_handle(handle.id) for handle in handles]
        assert await waiting_runs(cadenza) == {handle.id for handle in handles[1:]}
        async with worker(client, queue):
            assert [await handle.result() for handle in handles] == [handle.id for handle in handles]
        assert await most_dispatched_at_once(handles) == 1


async def test_a_signal_with_start_past_a_queue_limit_returns_at_once_and_waits() -> None:
    async with limited_server("queued", "Waits", 1) as (_, client, queue, _), worker(client, queue):
        holder = await start_holder(client, queue)
        signalled = await client.start_workflow(
            wc.Waits.run,
            id=f"{queue}-signalled",
            task_queue=queue,
            start_signal="finish",
            rpc_timeout=SHORT,
        )
        assert not await dispatched(signalled)  # the signal does not dispatch it either
        await finish(client, holder)
        assert await signalled.result() == "done"


async def test_a_waiting_run_terminated_stops_waiting_and_one_cancelled_closes_once_it_runs() -> None:
    """A cancel request is recorded on the waiting run, which keeps waiting: its first workflow
    task, once it has its slot, carries the request, and the run closes cancelled."""
    async with limited_server("queued", "Waits", 1) as (cadenza, client, queue, key):
        async with worker(client, queue):
            holder = await start_holder(client, queue)
            terminated, cancelled = [
                await client.start_workflow(wc.Waits.run, id=f"{queue}-{name}", task_queue=queue)
                for name in ("terminated", "cancelled")
            ]
            await terminated.terminate()
            await cancelled.cancel()
            await eventually(lambda: _waiting_is(cadenza, {cancelled.id}))
            assert not await dispatched(cancelled)
            assert (await cancelled.describe()).status == WorkflowExecutionStatus.RUNNING
            await finish(client, holder)
            with pytest.raises(WorkflowFailureError) as failed:
                await cancelled.result()
            assert isinstance(failed.value.cause, CancelledError)
            assert not await dispatched(terminated)
        await eventually(lambda: no_slot_held(cadenza, key))


async def _waiting_is(cadenza: servers.InProcessServer, workflow_ids: set[str]) -> bool:
    return await waiting_runs(cadenza) == workflow_ids


async def test_a_run_timed_out_while_waiting_is_retried_still_waiting() -> None:
    """The retry of a run that timed out waiting has no slot to inherit: it waits too."""
    async with limited_server("queued", "Limited", 1) as (cadenza, client, queue, _):
        (holder,) = await start_limited(client, queue, 1)  # no worker: it keeps its slot
        retried = await client.start_workflow(
            wc.Limited.run,
            "retried",
            id=f"{queue}-retried",
            task_queue=queue,
            run_timeout=timedelta(seconds=1),
            retry_policy=RetryPolicy(maximum_attempts=2),
        )

        async def second_attempt_waits() -> bool:
            run_id = (await retried.describe()).run_id
            timers = await cadenza.server._store.list_timers()
            waits = any(t.run_id == run_id and t.kind == TimerKind.AWAIT_SLOT for t in timers)
            return run_id != retried.result_run_id and waits

        await eventually(second_attempt_waits)
        assert not await dispatched(client.get_workflow_handle(retried.id))
        await holder.terminate()
        async with worker(client, queue):
            assert await client.get_workflow_handle(retried.id).result() == "retried"
