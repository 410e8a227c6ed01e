"""Nexus operations whose caller's replica is not the one their handler worker polls.

The caller's workflow worker polls replica A, so A commits the scheduled operation and sends
its requests; the handler worker, in a namespace of its own, polls only replica B. Requests
reach B through the database, and answers reach A whichever replica they arrive at. With A
killed while a request is out, B takes over A's outbox entry once A's lease runs out and
sends the request again; with B killed while its handler works on a request, the answer
reaches A once B is back, or A sends the request again. Either way the caller's operation
starts and completes once.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest
from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import EventType
from temporalio.api.nexus.v1 import (
    Failure as NexusFailure,
)
from temporalio.api.nexus.v1 import (
    HandlerError,
    Response,
    StartOperationResponse,
)
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import (
    PollNexusTaskQueueRequest,
    PollNexusTaskQueueResponse,
    RespondNexusTaskCompletedRequest,
    RespondNexusTaskFailedRequest,
)
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle
from temporalio.worker import Worker

from tests import servers
from tests.acceptance import workflows_nexus as wn
from tests.acceptance.test_nexus_operations import endpoint_for, handler_namespace, of_type, release
from tests.helpers import eventually
from tests.integration.replica_servers import replicas

pytestmark = [pytest.mark.replicas, pytest.mark.timeout(120)]


@dataclass
class Pair:
    """Two replicas on one database; the callers' side (A) and the handlers' side (B)."""

    a: servers.ServerProcess
    b: servers.ServerProcess
    caller: Client
    """Of namespace ``default``, through A."""
    handler_a: Client
    handler_b: Client
    """Of the handlers' namespace, through A and through B."""
    endpoint: str
    queue: str
    """The handlers' Nexus task queue; the callers' queue is ``callers-<queue>``."""
    url: str

    @property
    def callers(self) -> str:
        return f"callers-{self.queue}"

    def caller_worker(self) -> Worker:
        return Worker(
            self.caller,
            task_queue=self.callers,
            workflows=wn.CALLERS,
            graceful_shutdown_timeout=timedelta(seconds=1),
        )

    def handler_worker(self) -> Worker:
        """The handler's worker, polling B only."""
        return Worker(
            self.handler_b,
            task_queue=self.queue,
            workflows=wn.HANDLER_WORKFLOWS,
            nexus_service_handlers=[wn.GreetingHandler()],
            graceful_shutdown_timeout=timedelta(seconds=1),
        )

    async def call(self, operation: str, name: str) -> WorkflowHandle[wn.CallGreeting, str]:
        return await self.caller.start_workflow(
            wn.CallGreeting.run,
            args=[self.endpoint, operation, name],
            id=f"{name}-caller",
            task_queue=self.callers,
        )

    async def until_no_stored_requests(self) -> None:
        async def none_left() -> None:
            conn = await asyncpg.connect(self.url)
            try:
                assert await conn.fetchval("SELECT count(*) FROM queries") == 0
            finally:
                await conn.close()

        await eventually(none_left, timeout=15)


@pytest.fixture
async def pair(postgres_database: str, tmp_path: Path) -> AsyncIterator[Pair]:
    async with replicas(postgres_database, tmp_path, 2) as (a, b):
        caller = await Client.connect(a.address)
        namespace = await handler_namespace(caller)
        queue = f"nexus-{uuid.uuid4().hex[:8]}"
        endpoint = await endpoint_for(caller, namespace, queue)
        yield Pair(
            a,
            b,
            caller,
            await Client.connect(a.address, namespace=namespace),
            await Client.connect(b.address, namespace=namespace),
            endpoint,
            queue,
            postgres_database,
        )


async def test_a_synchronous_operation_answers_from_a_handler_on_another_replica(pair: Pair) -> None:
    async with pair.caller_worker(), pair.handler_worker():
        handles = [await pair.call("hello", f"ada-{i}") for i in range(3)]
        assert [await h.result() for h in handles] == [f"hello, ada-{i}" for i in range(3)]
        history = await handles[0].fetch_history()
        assert len(of_type(history, EventType.EVENT_TYPE_NEXUS_OPERATION_COMPLETED)) == 1
    await pair.until_no_stored_requests()


async def test_a_workflow_backed_operation_completes_across_replicas(pair: Pair) -> None:
    async with pair.caller_worker(), pair.handler_worker():
        name = f"grace-{uuid.uuid4().hex[:8]}"
        handle = await pair.call("hello_later", name)
        await release(pair.handler_b, name)
        assert await handle.result() == f"hello later, {name}"
        history = await handle.fetch_history()
        assert len(of_type(history, EventType.EVENT_TYPE_NEXUS_OPERATION_STARTED)) == 1
        assert len(of_type(history, EventType.EVENT_TYPE_NEXUS_OPERATION_COMPLETED)) == 1


async def test_a_cancel_request_reaches_a_handler_on_another_replica(pair: Pair) -> None:
    async with pair.caller_worker(), pair.handler_worker():
        name = f"cancel-{uuid.uuid4().hex[:8]}"
        handle = await pair.caller.start_workflow(
            wn.CancelGreeting.run, args=[pair.endpoint, name], id=f"{name}-caller", task_queue=pair.callers
        )
        assert await handle.result() == "NexusOperationError: CancelledError"
        history = await handle.fetch_history()
        # The handler's answer to the cancel request races the operation's canceled completion
        # (and with it the caller's close), so it is recorded at most once, never twice.
        assert len(of_type(history, EventType.EVENT_TYPE_NEXUS_OPERATION_CANCEL_REQUEST_COMPLETED)) <= 1
        assert len(of_type(history, EventType.EVENT_TYPE_NEXUS_OPERATION_CANCELED)) == 1
        description = await pair.handler_b.get_workflow_handle(name).describe()
        assert description.status is not None and description.status.name == "CANCELED"


async def poll_through(client: Client, queue: str) -> PollNexusTaskQueueResponse:
    """One Nexus task from ``queue``, polled through ``client``'s replica."""
    request = PollNexusTaskQueueRequest(
        namespace=client.namespace, identity="raw", task_queue=TaskQueue(name=queue)
    )
    for _ in range(3):  # long polls: the request reaches this replica within one
        response = await client.workflow_service.poll_nexus_task_queue(request)
        if response.task_token:
            return response
    raise AssertionError(f"no Nexus task reached {queue}")


async def test_an_answer_may_reach_either_replica(pair: Pair) -> None:
    """Handed out by B and answered through A (the caller's), then handed out by A and
    answered through B: both reach the caller."""
    async with pair.caller_worker():
        handle = await pair.call("hello", "turing")
        task = await poll_through(pair.handler_b, pair.queue)
        assert task.request.start_operation.operation == "hello"
        sync = StartOperationResponse.Sync(
            payload=Payload(metadata={"encoding": b"json/plain"}, data=b'"hi"')
        )
        await pair.handler_a.workflow_service.respond_nexus_task_completed(
            RespondNexusTaskCompletedRequest(
                namespace=pair.handler_a.namespace,
                identity="raw",
                task_token=task.task_token,
                response=Response(start_operation=StartOperationResponse(sync_success=sync)),
            )
        )
        assert await handle.result() == "hi"

        refused = await pair.call("hello", "hopper")
        task = await poll_through(pair.handler_a, pair.queue)
        await pair.handler_b.workflow_service.respond_nexus_task_failed(
            RespondNexusTaskFailedRequest(
                namespace=pair.handler_b.namespace,
                identity="raw",
                task_token=task.task_token,
                error=HandlerError(error_type="BAD_REQUEST", failure=NexusFailure(message="no hoppers")),
            )
        )
        with pytest.raises(WorkflowFailureError):
            await refused.result()
        history = await refused.fetch_history()
        (failed,) = of_type(history, EventType.EVENT_TYPE_NEXUS_OPERATION_FAILED)
        assert "no hoppers" in str(failed)
    await pair.until_no_stored_requests()


@pytest.mark.crash
async def test_a_caller_replica_killed_with_a_request_out_is_taken_over(pair: Pair) -> None:
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(pair.handler_worker())
        await stack.enter_async_context(pair.caller_worker())
        name = f"midway-{uuid.uuid4().hex[:8]}"
        handle = await pair.call("hello_later_slowly", name)
        on_b = (await Client.connect(pair.b.address)).get_workflow_handle(handle.id)

        async def scheduled() -> bool:
            history = await on_b.fetch_history()
            return bool(of_type(history, EventType.EVENT_TYPE_NEXUS_OPERATION_SCHEDULED))

        await eventually(scheduled)
        pair.a.kill()  # the handler is between taking A's request and starting its workflow

        async def started() -> bool:  # B sends the request again once A's lease runs out
            history = await on_b.fetch_history()
            return bool(of_type(history, EventType.EVENT_TYPE_NEXUS_OPERATION_STARTED))

        await eventually(started, timeout=60)
        pair.a.start()  # the caller's worker polls A
        await pair.a.wait_ready()
        await release(pair.handler_b, name)
        assert await on_b.result() == f"hello later, {name}"
        history = await on_b.fetch_history()
        assert len(of_type(history, EventType.EVENT_TYPE_NEXUS_OPERATION_STARTED)) == 1
        assert len(of_type(history, EventType.EVENT_TYPE_NEXUS_OPERATION_COMPLETED)) == 1
        runs = [w async for w in pair.handler_b.list_workflows(f"WorkflowId = '{name}'")]
        assert len(runs) == 1


@pytest.mark.crash
async def test_a_handler_replica_killed_with_a_request_taken_answers_once(pair: Pair) -> None:
    async with pair.caller_worker(), pair.handler_worker():
        name = f"handler-down-{uuid.uuid4().hex[:8]}"
        handle = await pair.call("hello_later_slowly", name)

        async def taken() -> None:  # B handed the request to its handler, which takes 2 s to answer
            conn = await asyncpg.connect(pair.url)
            try:
                assert await conn.fetchval("SELECT count(*) FROM queries WHERE claimed_by <> ''") == 1
            finally:
                await conn.close()

        await eventually(taken)
        pair.b.kill()
        pair.b.start()  # the handler's worker polls B
        await pair.b.wait_ready()
        await release(pair.handler_b, name)
        assert await handle.result() == f"hello later, {name}"
        history = await handle.fetch_history()
        assert len(of_type(history, EventType.EVENT_TYPE_NEXUS_OPERATION_STARTED)) == 1
        assert len(of_type(history, EventType.EVENT_TYPE_NEXUS_OPERATION_COMPLETED)) == 1
        runs = [w async for w in pair.handler_b.list_workflows(f"WorkflowId = '{name}'")]
        assert len(runs) == 1
    await pair.until_no_stored_requests()
