"""Differential tests: the same scenarios on Cadenza and on the real Temporal dev server.

Histories must match event for event once values that always differ (times,
IDs, identities, stack traces) are normalized away.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from google.protobuf.json_format import MessageToDict
from temporalio.client import Client, WorkflowFailureError
from temporalio.worker import Worker

from tests import servers
from tests.acceptance import workflows as w
from tests.acceptance import workflows_time as wt

pytestmark = [
    pytest.mark.differential,
    pytest.mark.skipif(servers.temporal_binary() is None, reason="temporal CLI not installed"),
]

# Keys whose values differ between any two runs, whichever server runs them.
VOLATILE = {"eventTime", "taskId", "requestId", "identity", "originalExecutionRunId",
            "firstExecutionRunId", "historySizeBytes", "workerVersion", "stackTrace",
            "newExecutionRunId", "workflowId"}

SCENARIOS: list[tuple[Any, Any]] = [
    (w.OneActivity.run, "World"),
    (w.SequentialActivities.run, 3),
    (w.Retrying.run, "flaky"),
    (w.NonRetryable.run, "doomed"),
    (w.LimitedAttempts.run, "twice"),
    (w.Failing.run, "wf"),
    (wt.Sleeper.run, 1.0),
    (wt.ZeroTimer.run, None),
    (wt.CancelTimerEarly.run, None),
    (wt.CancelsItsActivity.run, None),
    (wt.ResumesFromHeartbeat.run, None),
    (wt.ScheduleToCloseTimeout.run, None),
]


def normalize(value: Any) -> Any:
    if isinstance(value, dict):
        out = {k: normalize(v) for k, v in value.items() if k not in VOLATILE}
        if "coreUsedFlags" in out:  # the SDK sends a set, in no particular order
            out["coreUsedFlags"] = sorted(out["coreUsedFlags"])
        if out.get("kind") == "TASK_QUEUE_KIND_STICKY":
            out["name"] = "<sticky>"
        return out
    if isinstance(value, list):
        return [normalize(v) for v in value]
    return value


@pytest.fixture(scope="module")
async def temporal_client(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Client]:
    workdir: Path = tmp_path_factory.mktemp("temporal")
    server = servers.temporal(workdir / "temporal.db", workdir / "temporal.log")
    server.start()
    try:
        await server.wait_ready()
        yield await Client.connect(server.address)
    finally:
        server.stop()


async def run_scenario(client: Client, run: Any, arg: Any) -> list[Any]:
    task_queue = f"diff-{uuid.uuid4().hex[:8]}"
    workflow_id = f"diff-{uuid.uuid4().hex[:8]}"
    async with Worker(client, task_queue=task_queue, workflows=[*w.ALL_WORKFLOWS, *wt.WORKFLOWS],
                      activities=[*w.ALL_ACTIVITIES, *wt.ACTIVITIES]):
        args = [] if arg is None else [arg]
        handle = await client.start_workflow(run, args=args, id=workflow_id, task_queue=task_queue)
        try:
            await handle.result()
        except WorkflowFailureError:
            pass
    history = await handle.fetch_history()
    events = [normalize(MessageToDict(e)) for e in history.events]
    for event in events:
        attrs = event.get("workflowExecutionStartedEventAttributes")
        if attrs:
            attrs["taskQueue"]["name"] = "<queue>"
        for key in ("activityTaskScheduledEventAttributes", "workflowTaskScheduledEventAttributes"):
            if key in event and event[key]["taskQueue"]["kind"] == "TASK_QUEUE_KIND_NORMAL":
                event[key]["taskQueue"]["name"] = "<queue>"
            if key in event and "normalName" in event[key]["taskQueue"]:
                event[key]["taskQueue"]["normalName"] = "<queue>"
    return events


@pytest.mark.parametrize(("run", "arg"), SCENARIOS, ids=[s[0].__qualname__ for s in SCENARIOS])
async def test_history_matches_real_temporal(
    client: Client, temporal_client: Client, run: Any, arg: Any
) -> None:
    expected = await run_scenario(temporal_client, run, arg)
    actual = await run_scenario(client, run, arg)
    assert [e["eventType"] for e in actual] == [e["eventType"] for e in expected]
    for mine, theirs in zip(actual, expected, strict=True):
        assert mine == theirs
