"""Workflows the schedule tests start."""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ApplicationError


@workflow.defn
class Quick:
    @workflow.run
    async def run(self) -> str:
        return "done"


@workflow.defn
class WaitsForFinish:
    """Runs until signalled; a cancellation ends it as cancelled."""

    def __init__(self) -> None:
        self._done = False

    @workflow.signal
    def finish(self) -> None:
        self._done = True

    @workflow.run
    async def run(self) -> str:
        await workflow.wait_condition(lambda: self._done)
        return "finished"


@workflow.defn
class Fails:
    @workflow.run
    async def run(self) -> str:
        raise ApplicationError("broken on purpose", non_retryable=True)
