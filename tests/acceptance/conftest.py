"""The SDK worker the acceptance tests run their workflows on: one per test, on its task queue."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from temporalio.client import Client
from temporalio.worker import Worker

from tests.acceptance import workflows_messages as wm
from tests.helpers import Registered, worker_for


@pytest.fixture
def registered() -> Registered:
    """The messages workflows; a module overrides this fixture to run others."""
    return Registered(wm.WORKFLOWS)


@pytest.fixture
async def worker(client: Client, task_queue: str, registered: Registered) -> AsyncIterator[Worker]:
    async with worker_for(client, task_queue, registered) as running:
        yield running
