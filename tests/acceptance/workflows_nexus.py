"""A Nexus service, its handler, and the caller workflows the Nexus acceptance tests run."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import nexusrpc
import nexusrpc.handler
from temporalio import nexus, workflow


@nexusrpc.service
class Greeting:
    hello: nexusrpc.Operation[str, str]
    """Answers at once."""
    hello_later: nexusrpc.Operation[str, str]
    """Starts a ``GreetWhenReleased`` workflow, named after its input, and answers when it closes."""
    stall: nexusrpc.Operation[str, str]
    """Takes longer than any caller waits."""
    hello_in_two_runs: nexusrpc.Operation[str, str]
    """Starts a workflow that continues as new once before it answers."""
    hello_later_slowly: nexusrpc.Operation[str, str]
    """As ``hello_later``, but takes two seconds to start its workflow."""
    hello_later_held: nexusrpc.Operation[str, str]
    """As ``hello_later``, but its workflow, once asked to cancel, ends canceled only when released:
    the handler's answer to a cancel is recorded before the run's close, in that order."""


@workflow.defn
class GreetWhenReleased:
    def __init__(self) -> None:
        self.released = False

    @workflow.run
    async def run(self, name: str) -> str:
        await workflow.wait_condition(lambda: self.released)
        return f"hello later, {name}"

    @workflow.signal
    def release(self) -> None:
        self.released = True


@workflow.defn
class CanceledWhenReleased:
    def __init__(self) -> None:
        self.released = False

    @workflow.run
    async def run(self, name: str) -> str:
        try:
            await workflow.wait_condition(lambda: self.released)
        except asyncio.CancelledError:
            self.released = False  # a release before the cancel does not count
            await workflow.wait_condition(lambda: self.released)
            raise
        return f"hello later, {name}"

    @workflow.signal
    def release(self) -> None:
        self.released = True


@workflow.defn
class GreetInTwoRuns:
    @workflow.run
    async def run(self, name: str) -> str:
        if not name.endswith("!"):
            workflow.continue_as_new(name + "!")
        return f"hello again, {name}"


@nexusrpc.handler.service_handler(service=Greeting)
class GreetingHandler:
    @nexusrpc.handler.sync_operation
    async def hello(self, ctx: nexusrpc.handler.StartOperationContext, name: str) -> str:
        return f"hello, {name}"

    @nexus.workflow_run_operation
    async def hello_later(
        self, ctx: nexus.WorkflowRunOperationContext, name: str
    ) -> nexus.WorkflowHandle[str]:
        return await ctx.start_workflow(GreetWhenReleased.run, name, id=name)

    @nexus.workflow_run_operation
    async def hello_in_two_runs(
        self, ctx: nexus.WorkflowRunOperationContext, name: str
    ) -> nexus.WorkflowHandle[str]:
        return await ctx.start_workflow(GreetInTwoRuns.run, name, id=name)

    @nexus.workflow_run_operation
    async def hello_later_slowly(
        self, ctx: nexus.WorkflowRunOperationContext, name: str
    ) -> nexus.WorkflowHandle[str]:
        await asyncio.sleep(2)
        return await ctx.start_workflow(GreetWhenReleased.run, name, id=name)

    @nexus.workflow_run_operation
    async def hello_later_held(
        self, ctx: nexus.WorkflowRunOperationContext, name: str
    ) -> nexus.WorkflowHandle[str]:
        return await ctx.start_workflow(CanceledWhenReleased.run, name, id=name)

    @nexusrpc.handler.sync_operation
    async def stall(self, ctx: nexusrpc.handler.StartOperationContext, name: str) -> str:
        await asyncio.sleep(30)
        return name


@workflow.defn
class CallGreeting:
    @workflow.run
    async def run(self, endpoint: str, operation: str, name: str) -> str:
        client = workflow.create_nexus_client(service=Greeting, endpoint=endpoint)
        timeout = timedelta(seconds=2) if operation == "stall" else None
        result: str = await client.execute_operation(
            getattr(Greeting, operation), name, schedule_to_close_timeout=timeout
        )
        return result


@workflow.defn
class CancelGreeting:
    @workflow.run
    async def run(self, endpoint: str, name: str) -> str:
        client = workflow.create_nexus_client(service=Greeting, endpoint=endpoint)
        handle = await client.start_operation(Greeting.hello_later, name)
        handle.cancel()
        try:
            await handle
        except Exception as error:  # the SDK raises a NexusOperationError whose cause says why
            return f"{type(error).__name__}: {type(error.__cause__).__name__}"
        return "not canceled"


@workflow.defn
class Mailbox:
    """Collects signals until one says ``close``."""

    def __init__(self) -> None:
        self.letters: list[str] = []

    @workflow.run
    async def run(self, owner: str) -> list[str]:
        await workflow.wait_condition(lambda: "close" in self.letters)
        return [owner, *self.letters]

    @workflow.signal
    def post(self, letter: str) -> None:
        self.letters.append(letter)


@workflow.defn
class PostThroughTheSystem:
    """Signal-with-starts a ``Mailbox`` twice through the system Nexus endpoint."""

    @workflow.run
    async def run(self, mailbox_id: str) -> str:
        for letter in ("hello", "close"):
            handle = await workflow.signal_with_start_workflow(
                Mailbox.run,
                "ada",
                id=mailbox_id,
                task_queue=workflow.info().task_queue,
                signal=Mailbox.post,
                signal_args=[letter],
            )
        return handle.id


CALLERS = [CallGreeting, CancelGreeting, PostThroughTheSystem, Mailbox]
HANDLER_WORKFLOWS = [GreetWhenReleased, CanceledWhenReleased, GreetInTwoRuns]
