"""Workflows that talk: signals, queries, updates, children, continue-as-new."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow


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
            Child.run, name, id=f"{workflow.info().workflow_id}-child",
            execution_timeout=timedelta(seconds=30))
        return f"parent got {result}"


WORKFLOWS = [Mailbox, Countdown, Child, Parent]
