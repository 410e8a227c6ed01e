"""Workflows the UI's tests run: one completes, one fails; the running ones are the Mailbox."""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ApplicationError


@workflow.defn
class Greeter:
    """Completes with a greeting built from its input."""

    @workflow.run
    async def run(self, person: dict[str, str]) -> dict[str, str]:
        return {"greeting": f"Hello, {person['name']}!"}


@workflow.defn
class Broken:
    """Fails at once, with a failure that is not retried."""

    @workflow.run
    async def run(self) -> None:
        raise ApplicationError("broken on purpose", non_retryable=True)
