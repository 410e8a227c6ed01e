"""Fair dispatch beside the real Temporal server, with fairness on and one partition there
(Cadenza's queues have one): weights 3:1 dispatch in the same ``aaab`` pattern on both."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.common import Priority

from tests import servers
from tests.acceptance.test_priority import ran, run_backlog, start_noted

pytestmark = [
    pytest.mark.differential,
    pytest.mark.skipif(servers.temporal_binary() is None, reason="temporal CLI not installed"),
    pytest.mark.timeout(240),
]

FAIRNESS_ON = {
    "matching.useNewMatcher": "true",
    "matching.enableFairness": "true",
    "matching.numTaskqueueReadPartitions": "1",
    "matching.numTaskqueueWritePartitions": "1",
}


@pytest.fixture
async def fair_temporal(tmp_path: Path) -> AsyncIterator[Client]:
    async with servers.temporal_dev_client(tmp_path, FAIRNESS_ON) as client:
        yield client


async def three_to_one(client: Client, task_queue: str) -> str:
    prefix = f"{uuid.uuid4().hex[:8]}-"
    labels: list[tuple[str, Priority]] = []
    for i in range(150):
        labels.append((f"a{i}", Priority(fairness_key="a", fairness_weight=3.0)))
        if i < 50:
            labels.append((f"b{i}", Priority(fairness_key="b", fairness_weight=1.0)))
    handles = await start_noted(client, task_queue, prefix, labels)
    await run_backlog(client, task_queue, handles)
    return "".join(label[0] for label in ran(prefix))


async def test_weights_three_to_one_dispatch_as_on_temporal(
    client: Client, fair_temporal: Client, task_queue: str
) -> None:
    on_cadenza = await three_to_one(client, task_queue)
    on_temporal = await three_to_one(fair_temporal, task_queue)
    assert on_cadenza == on_temporal == "aaab" * 50
