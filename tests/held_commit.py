"""A server whose store holds one chosen commit open, as slow storage would.

Like the real stores, a held commit is carried out even if its caller goes away
meanwhile: once a change is handed to the database, the database finishes it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from temporalio.client import Client

from tests import servers
from tests.helpers import Registered, worker_for


class HeldCommit:
    """Holds the commit of the first write ``matches`` picks until ``release`` is set."""

    def __init__(self, commit: Callable[..., Awaitable[None]], matches: Callable[[Any], bool]) -> None:
        self._commit = commit
        self._matches = matches
        self.holding = asyncio.Event()
        self.release = asyncio.Event()
        self._detached: set[asyncio.Task[None]] = set()

    async def __call__(self, write: Any, *more: Any) -> None:
        if self.release.is_set() or not self._matches(write):
            await self._commit(write, *more)
            return
        self.holding.set()
        job = asyncio.create_task(self._commit_when_released(write, *more))
        self._detached.add(job)
        job.add_done_callback(self._detached.discard)
        await asyncio.shield(job)  # a cancelled caller leaves the job to finish, as a database does

    async def _commit_when_released(self, write: Any, *more: Any) -> None:
        await self.release.wait()
        await self._commit(write, *more)


@contextlib.asynccontextmanager
async def held_server(
    monkeypatch: pytest.MonkeyPatch,
    matches: Callable[[Any], bool],
    task_queue: str,
    registered: Registered,
    method: str = "commit",
) -> AsyncIterator[tuple[Client, HeldCommit]]:
    """An in-process server whose store holds the first write ``matches`` picks, with a worker.

    ``method`` names the store's write to hold: an execution's ``commit`` or ``write_schedule``.
    """
    async with servers.in_process() as server:
        store = server.server._store
        held = HeldCommit(getattr(store, method), matches)
        monkeypatch.setattr(store, method, held)
        client = await Client.connect(server.address)
        async with worker_for(client, task_queue, registered):
            yield client, held
