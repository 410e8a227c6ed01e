"""Workflows that talk: signals, queries, updates, children, continue-as-new."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError, ChildWorkflowError


@workflow.defn
class Mailbox:
    """Collects signals until told to finish; answers queries about what it holds."""

    def __init__(self) -> None:
        self.messages: list[str] = []
        self.done = False

    @workflow.run
    async def run(self) -> list[str]:
        await workflow.wait_condition(lambda: self.done)
        return self.messages

    @workflow.signal
    def deliver(self, message: str) -> None:
        self.messages.append(message)

    @workflow.signal
    def finish(self) -> None:
        self.done = True

    @workflow.query
    def count(self) -> int:
        return len(self.messages)

    @workflow.update
    def deliver_and_count(self, message: str) -> int:
        self.messages.append(message)
        return len(self.messages)

    @deliver_and_count.validator
    def check(self, message: str) -> None:
        if not message:
            raise ValueError("empty message")

    @workflow.update(unfinished_policy=workflow.HandlerUnfinishedPolicy.ABANDON)
    async def wait_for_finish(self) -> str:
        """Accepted at once, but never done before the workflow finishes."""
        await workflow.wait_condition(lambda: False)
        return "unreachable"


@workflow.defn
class Countdown:
    """Continues as new until the counter reaches zero."""

    @workflow.run
    async def run(self, remaining: int) -> str:
        if remaining > 0:
            workflow.continue_as_new(remaining - 1)
        return f"done after run {workflow.info().run_id != workflow.info().first_execution_run_id}"


@workflow.defn
class Child:
    @workflow.run
    async def run(self, name: str) -> str:
        return f"child {name}"


@workflow.defn
class Parent:
    @workflow.run
    async def run(self, name: str) -> str:
        result = await workflow.execute_child_workflow(
            Child.run,
            name,
            id=f"{workflow.info().workflow_id}-child",
            execution_timeout=timedelta(seconds=30),
        )
        return f"parent got {result}"


WORKFLOWS = [Mailbox, Countdown, Child, Parent]


@workflow.defn
class FailingChild:
    @workflow.run
    async def run(self) -> str:
        raise ApplicationError("child says no", type="ChildError")


@workflow.defn
class ParentOfFailingChild:
    @workflow.run
    async def run(self) -> str:
        try:
            await workflow.execute_child_workflow(FailingChild.run, id=f"{workflow.info().workflow_id}-c")
        except ChildWorkflowError as err:
            assert isinstance(err.cause, ApplicationError)
            return f"child failed: {err.cause.message}"
        return "impossible"


@workflow.defn
class AbandonsOrTerminates:
    """Starts a long child with the given close policy, then completes at once."""

    @workflow.run
    async def run(self, policy: str) -> str:
        await workflow.start_child_workflow(
            Mailbox.run,
            id=f"{workflow.info().workflow_id}-child",
            parent_close_policy=workflow.ParentClosePolicy[policy],
        )
        return "parent done"


@workflow.defn
class Messenger:
    """Signals another workflow, then asks a missing one to cancel."""

    @workflow.run
    async def run(self, target: str) -> str:
        await workflow.get_external_workflow_handle(target).signal(Mailbox.deliver, "from a workflow")
        await workflow.get_external_workflow_handle(target).signal(Mailbox.finish)
        try:
            await workflow.get_external_workflow_handle("no-such-workflow").cancel()
        except ApplicationError as err:
            return f"cancel failed: {err.message}"
        return "cancel delivered"


WORKFLOWS.extend([FailingChild, ParentOfFailingChild, AbandonsOrTerminates, Messenger])
