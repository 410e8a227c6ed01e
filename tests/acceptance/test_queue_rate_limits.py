"""Task queue rate limits end to end: SDK workers asking for a rate, the `temporal task-queue
config` commands, UpdateTaskQueueConfig overriding the workers, and a config kept across a restart."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format
from temporalio.api.enums.v1 import RateLimitSource, TaskQueueType
from temporalio.api.taskqueue.v1 import RateLimit, TaskQueue
from temporalio.api.workflowservice.v1 import (
    DescribeTaskQueueRequest,
    DescribeTaskQueueResponse,
    UpdateTaskQueueConfigRequest,
)
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker

from tests import servers
from tests.acceptance import workflows_rate_limits as w
from tests.servers import ServerProcess

needs_temporal_cli = pytest.mark.skipif(
    servers.temporal_binary() is None, reason="temporal CLI not installed"
)
ACTIVITY = TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY


def cli(server: ServerProcess, *args: str) -> subprocess.CompletedProcess[str]:
    binary = servers.temporal_binary()
    assert binary is not None
    return subprocess.run(
        [binary, "--address", server.address, *args], capture_output=True, text=True, timeout=60, check=False
    )


async def describe(client: Client, task_queue: str) -> DescribeTaskQueueResponse:
    return await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace="default",
            task_queue=TaskQueue(name=task_queue),
            task_queue_type=ACTIVITY,
            report_config=True,
        )
    )


async def set_queue_rate(client: Client, task_queue: str, rate: float) -> None:
    await client.workflow_service.update_task_queue_config(
        UpdateTaskQueueConfigRequest(
            namespace="default",
            identity="test",
            task_queue=task_queue,
            task_queue_type=ACTIVITY,
            update_queue_rate_limit=UpdateTaskQueueConfigRequest.RateLimitUpdate(
                rate_limit=RateLimit(requests_per_second=rate), reason="load test"
            ),
        )
    )


@asynccontextmanager
async def workers(address: str, task_queue: str, count: int, rate: float) -> AsyncIterator[None]:
    """``count`` workers, each on a connection of its own, each asking for ``rate`` a second."""
    async with AsyncExitStack() as stack:
        for _ in range(count):
            await stack.enter_async_context(
                Worker(
                    await Client.connect(address),
                    task_queue=task_queue,
                    workflows=[w.ManyActivities],
                    activities=[w.note_start],
                    max_task_queue_activities_per_second=rate,
                )
            )
        yield


async def started_times(
    client: Client, address: str, task_queue: str, count: int, rate: float
) -> list[float]:
    w.STARTS.clear()
    async with workers(address, task_queue, 3, rate):
        await client.execute_workflow(
            w.ManyActivities.run, count, id=f"many-{uuid.uuid4().hex[:8]}", task_queue=task_queue
        )
    return sorted(w.STARTS)


@pytest.mark.timeout(60)
async def test_the_workers_rate_holds_across_several_workers(
    client: Client, cadenza_server: ServerProcess, task_queue: str
) -> None:
    # Five a second for 70 tasks: a one-second burst, then a steady pace past the window measured.
    starts = await started_times(client, cadenza_server.address, task_queue, 70, 5.0)
    first = starts[0]
    in_window = [t for t in starts if first + 1.5 <= t < first + 11.5]
    assert 48 <= len(in_window) <= 52, f"{len(in_window)} tasks handed out in 10 s at 5 a second"
    described = await describe(client, task_queue)
    assert described.effective_rate_limit.requests_per_second == 5.0
    assert described.effective_rate_limit.rate_limit_source == RateLimitSource.RATE_LIMIT_SOURCE_WORKER


@pytest.mark.timeout(60)
async def test_an_api_limit_overrides_a_stricter_worker_limit(
    client: Client, cadenza_server: ServerProcess, task_queue: str
) -> None:
    await set_queue_rate(client, task_queue, 50.0)
    # At the workers' one a second these would take 40 s; the queue's limit lets them go at once.
    starts = await started_times(client, cadenza_server.address, task_queue, 40, 1.0)
    assert starts[-1] - starts[0] < 5.0
    described = await describe(client, task_queue)
    assert described.effective_rate_limit.requests_per_second == 50.0
    assert described.effective_rate_limit.rate_limit_source == RateLimitSource.RATE_LIMIT_SOURCE_API
    assert described.config.queue_rate_limit.metadata.reason == "load test"


@needs_temporal_cli
async def test_config_set_and_get_through_the_cli(cadenza_server: ServerProcess, task_queue: str) -> None:
    await cadenza_server.wait_ready()
    queue = ["--task-queue", task_queue, "--task-queue-type", "activity"]
    assert cli(cadenza_server, "task-queue", "config", "get", *queue).stdout.strip() == (
        "No configuration found for task queue"
    )
    done = cli(
        cadenza_server,
        "task-queue", "config", "set", *queue,
        "--queue-rps-limit", "5", "--queue-rps-limit-reason", "because",
        "--fairness-key-rps-limit-default", "2", "--fairness-key-weight", "a=2",
    )  # fmt: skip
    assert done.returncode == 0 and "Successfully updated task queue configuration" in done.stdout
    shown = json.loads(cli(cadenza_server, "task-queue", "config", "get", *queue, "-o", "json").stdout)
    assert shown["queueRateLimit"]["rateLimit"] == {"requestsPerSecond": 5}
    assert shown["queueRateLimit"]["metadata"]["reason"] == "because"
    assert shown["queueRateLimit"]["metadata"]["updateIdentity"].startswith("temporal-cli:")
    assert shown["fairnessKeysRateLimitDefault"]["rateLimit"] == {"requestsPerSecond": 2}
    assert shown["fairnessWeightOverrides"] == {"a": 2}
    table = cli(cadenza_server, "task-queue", "config", "get", *queue).stdout
    assert "Queue Rate Limit" in table and "5.00 rps" in table and "because" in table

    unset = cli(cadenza_server, "task-queue", "config", "set", *queue, "--queue-rps-limit", "default")
    assert unset.returncode == 0
    assert "Not Set" in cli(cadenza_server, "task-queue", "config", "get", *queue).stdout

    refused = cli(
        cadenza_server, "task-queue", "config", "set", *queue,
        "--queue-rps-limit", "5", "--queue-rps-limit-reason", "x" * 1001,
    )  # fmt: skip
    assert refused.returncode == 1
    assert "UpdateQueueRateLimit.Reason field too long (max 1000 characters)." in refused.stderr
    shown = json.loads(cli(cadenza_server, "task-queue", "config", "get", *queue, "-o", "json").stdout)
    assert "rateLimit" not in shown["queueRateLimit"]  # the refused calls changed nothing


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"update_queue_rate_limit": {"rate_limit": {"requests_per_second": -1}}},
            "RequestsPerSecond for UpdateQueueRateLimit rate limit must be non-negative.",
        ),
        (
            {
                "update_fairness_key_rate_limit_default": {
                    "rate_limit": {"requests_per_second": 1},
                    "reason": "r" * 1001,
                }
            },
            "UpdateFairnessKeyRateLimitDefault.Reason field too long (max 1000 characters).",
        ),
        (
            {
                "task_queue_type": TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
                "update_queue_rate_limit": {"rate_limit": {"requests_per_second": 1}},
            },
            "Setting rate limit on workflow task queues is not allowed.",
        ),
        ({"task_queue_type": 99}, "unknown task queue type: 99"),
        ({"set_fairness_weight_overrides": {"k" * 65: 2.0}}, "fairness key length exceeds limit"),
        (
            {"set_fairness_weight_overrides": {"a": 0.0}},
            'invalid fairness weight weight for key "a": must be greater than zero',
        ),
        (
            {"set_fairness_weight_overrides": {"a": 2.0}, "unset_fairness_weight_overrides": ["a"]},
            'fairness weight override key "a" present in both set and unset lists',
        ),
    ],
)
async def test_bad_updates_are_refused_in_the_real_servers_words(
    client: Client, task_queue: str, change: dict[str, Any], message: str
) -> None:
    request = UpdateTaskQueueConfigRequest(
        namespace="default", task_queue=task_queue, task_queue_type=ACTIVITY
    )
    json_format.ParseDict(change, request)
    with pytest.raises(RPCError) as refused:
        await client.workflow_service.update_task_queue_config(request)
    assert refused.value.status == RPCStatusCode.INVALID_ARGUMENT and refused.value.message == message
    assert not (await describe(client, task_queue)).HasField("config")


async def test_a_config_survives_a_restart(tmp_path: Path, task_queue: str) -> None:
    async with servers.running(tmp_path / "cadenza.db", tmp_path / "server.log") as server:
        client = await Client.connect(server.address)
        await set_queue_rate(client, task_queue, 7.0)
        server.stop()
        server.start()
        await server.wait_ready()
        client = await Client.connect(server.address)
        described = await describe(client, task_queue)
    assert described.config.queue_rate_limit.rate_limit.requests_per_second == 7.0
    assert described.effective_rate_limit.requests_per_second == 7.0
    assert described.effective_rate_limit.rate_limit_source == RateLimitSource.RATE_LIMIT_SOURCE_API
