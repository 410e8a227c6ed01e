"""UpdateTaskQueueConfig and DescribeTaskQueue's config on Cadenza and on the real Temporal dev
server: the same updates give the same configs and effective rates, and the same bad updates
the same refusals."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from google.protobuf import json_format
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import (
    DescribeTaskQueueRequest,
    DescribeTaskQueueResponse,
    UpdateTaskQueueConfigRequest,
)
from temporalio.client import Client
from temporalio.service import RPCError

from tests import servers
from tests.helpers import eventually

pytestmark = [
    pytest.mark.differential,
    pytest.mark.skipif(servers.temporal_binary() is None, reason="temporal CLI not installed"),
]

ACTIVITY = TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY
UPDATES: list[dict[str, Any]] = [
    {"updateQueueRateLimit": {"rateLimit": {"requestsPerSecond": 5}, "reason": "because"}},
    {
        "updateFairnessKeyRateLimitDefault": {"rateLimit": {"requestsPerSecond": 2}, "reason": "fair"},
        "setFairnessWeightOverrides": {"a": 2, "b": 0.5},
    },
    {"updateQueueRateLimit": {}, "unsetFairnessWeightOverrides": ["b", "absent"]},
    {"updateQueueRateLimit": {"rateLimit": {"requestsPerSecond": 0}}},
    {"updateQueueRateLimit": {"rateLimit": {"requestsPerSecond": 1e9}}},
    {"updateFairnessKeyRateLimitDefault": {"reason": "r" * 1001}},
]
"""Each applied in turn to one queue, with identity ``me``; an unset is not checked, even its
reason's length."""

REFUSED: list[dict[str, Any]] = [
    {"updateQueueRateLimit": {"rateLimit": {"requestsPerSecond": -1}}},
    {"updateFairnessKeyRateLimitDefault": {"rateLimit": {"requestsPerSecond": 1}, "reason": "r" * 1001}},
    {"taskQueueType": "TASK_QUEUE_TYPE_WORKFLOW", "updateQueueRateLimit": {"rateLimit": {}}},
    {"taskQueueType": "TASK_QUEUE_TYPE_WORKFLOW", "updateFairnessKeyRateLimitDefault": {"rateLimit": {}}},
    {"setFairnessWeightOverrides": {"": 1}},
    {"setFairnessWeightOverrides": {"k" * 65: 1}},
    {"setFairnessWeightOverrides": {"a": -1}},
    {"setFairnessWeightOverrides": {"a": 1}, "unsetFairnessWeightOverrides": ["a"]},
    {"setFairnessWeightOverrides": {f"k{i}": 1 for i in range(1001)}},
    {"identity": "i" * 1001},
]


@pytest.fixture(scope="module")
async def pair(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[Client, Client]]:
    workdir = tmp_path_factory.mktemp("temporal-queue-configs")
    async with servers.temporal_dev_client(workdir) as temporal, servers.in_process() as cadenza:
        yield await Client.connect(cadenza.address), temporal


def request(task_queue: str, fields: dict[str, Any]) -> UpdateTaskQueueConfigRequest:
    base = {"namespace": "default", "identity": "me", "taskQueue": task_queue, "taskQueueType": ACTIVITY}
    return json_format.ParseDict({**base, **fields}, UpdateTaskQueueConfigRequest())


def without_times(message: Any) -> dict[str, Any]:
    shown = json_format.MessageToDict(message)
    for limit in ("queueRateLimit", "fairnessKeysRateLimitDefault"):
        shown.get(limit, {}).get("metadata", {}).pop("updateTime", None)
    return shown


async def configs_after_each_update(client: Client, task_queue: str) -> list[dict[str, Any]]:
    seen = []
    for fields in UPDATES:
        updated = await client.workflow_service.update_task_queue_config(request(task_queue, fields))

        async def described(expected: Any = updated.config) -> DescribeTaskQueueResponse:
            # The real server hands a change to its partitions a moment later: wait for it.
            answer = await client.workflow_service.describe_task_queue(
                DescribeTaskQueueRequest(
                    namespace="default",
                    task_queue=TaskQueue(name=task_queue),
                    task_queue_type=ACTIVITY,
                    report_config=True,
                )
            )
            assert without_times(answer.config) == without_times(expected)
            return answer

        found = await eventually(described, timeout=10)
        seen.append(
            {
                "answer": without_times(updated.config),
                "effective": json_format.MessageToDict(found.effective_rate_limit),
            }
        )
    return seen


async def test_updates_leave_the_same_config_and_effective_rate(pair: tuple[Client, Client]) -> None:
    ours, real = pair
    task_queue = f"configs-{uuid.uuid4().hex[:8]}"
    assert await configs_after_each_update(ours, task_queue) == await configs_after_each_update(
        real, task_queue
    )


async def refusal(client: Client, task_queue: str, fields: dict[str, Any]) -> tuple[str, str]:
    with pytest.raises(RPCError) as refused:
        await client.workflow_service.update_task_queue_config(request(task_queue, fields), retry=False)
    return refused.value.status.name, refused.value.message


@pytest.mark.parametrize("fields", REFUSED, ids=",".join)
async def test_bad_updates_are_refused_alike(pair: tuple[Client, Client], fields: dict[str, Any]) -> None:
    ours, real = pair
    task_queue = f"refused-{uuid.uuid4().hex[:8]}"
    assert await refusal(ours, task_queue, fields) == await refusal(real, task_queue, fields)
