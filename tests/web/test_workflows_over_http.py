"""Workflows driven through Temporal's HTTP API: real HTTP requests to a real server, whose worker
is the official SDK's on its gRPC port."""

from __future__ import annotations

import base64
from typing import Any

import httpx
from temporalio.client import Client
from temporalio.worker import Worker

from tests.helpers import eventually
from tests.web.workflows_http import WaitsForItsActivity, finished_elsewhere

NS = "/api/v1/namespaces/default"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


async def start_mailbox(http: httpx.AsyncClient, workflow_id: str, task_queue: str) -> str:
    answer = await http.post(
        f"{NS}/workflows/{workflow_id}",
        json={"workflowType": {"name": "Mailbox"}, "taskQueue": {"name": task_queue}},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["started"] is True
    run_id: str = answer.json()["runId"]
    return run_id


async def ok(answer: Any) -> Any:
    response: httpx.Response = await answer
    assert response.status_code == 200, response.text
    return response.json()


async def test_start_signal_query_update_describe_and_history(
    http: httpx.AsyncClient, sdk_client: Client, mailbox_worker: Worker, workflow_id: str, task_queue: str
) -> None:
    run_id = await start_mailbox(http, workflow_id, task_queue)
    workflow = f"{NS}/workflows/{workflow_id}"
    signaled = await ok(http.post(f"{workflow}/signal/deliver", json={"input": ["hello"]}))
    assert signaled["link"]["workflowEvent"]["runId"] == run_id
    assert await ok(http.post(f"{workflow}/query/count", json={})) == {"queryResult": [1]}
    update = await ok(
        http.post(
            f"{workflow}/update/deliver_and_count",
            json={
                "request": {"meta": {"updateId": "u1"}, "input": {"args": ["again"]}},
                "waitPolicy": {"lifecycleStage": "UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED"},
            },
        )
    )
    assert update["outcome"] == {"success": [2]}
    described = await ok(http.get(workflow))
    info = described["workflowExecutionInfo"]
    assert info["execution"] == {"workflowId": workflow_id, "runId": run_id}
    assert info["status"] == "WORKFLOW_EXECUTION_STATUS_RUNNING"
    assert info["type"] == {"name": "Mailbox"}

    history = await ok(http.get(f"{workflow}/history"))
    signaled = next(
        e for e in history["history"]["events"] if e["eventType"] == "EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED"
    )
    assert signaled["workflowExecutionSignaledEventAttributes"]["input"] == ["hello"]
    assert isinstance(signaled["eventId"], str)  # int64 as a string
    full = await ok(http.get(f"{workflow}/history", params={"noPayloadShorthand": ""}))
    signaled = next(e for e in full["history"]["events"] if e["eventId"] == signaled["eventId"])
    assert signaled["workflowExecutionSignaledEventAttributes"]["input"] == {
        "payloads": [{"metadata": {"encoding": b64("json/plain")}, "data": b64('"hello"')}]
    }

    await ok(http.post(f"{workflow}/signal/finish", json={}))
    assert await sdk_client.get_workflow_handle(workflow_id).result() == ["hello", "again"]


async def test_list_and_count_by_query_parameters(
    http: httpx.AsyncClient, workflow_id: str, task_queue: str
) -> None:
    await start_mailbox(http, workflow_id, task_queue)
    query = {"query": f"WorkflowId = '{workflow_id}'"}

    async def listed() -> list[Any]:
        executions: list[Any] = (await ok(http.get(f"{NS}/workflows", params=query))).get("executions", [])
        assert executions
        return executions

    (execution,) = await eventually(listed)
    assert execution["execution"]["workflowId"] == workflow_id
    assert execution["taskQueue"] == task_queue
    assert await ok(http.get(f"{NS}/workflow-count", params=query)) == {"count": "1"}


async def test_cancel_and_terminate(
    http: httpx.AsyncClient, mailbox_worker: Worker, workflow_id: str, task_queue: str
) -> None:
    await start_mailbox(http, workflow_id, task_queue)
    await start_mailbox(http, f"{workflow_id}-t", task_queue)
    assert await ok(http.post(f"{NS}/workflows/{workflow_id}/cancel", json={"reason": "enough"})) == {}
    assert await ok(http.post(f"{NS}/workflows/{workflow_id}-t/terminate", json={"reason": "stop"})) == {}

    async def status_of(wid: str) -> str:
        described = await ok(http.get(f"{NS}/workflows/{wid}"))
        status: str = described["workflowExecutionInfo"]["status"]
        return status

    async def closed() -> None:
        assert await status_of(workflow_id) == "WORKFLOW_EXECUTION_STATUS_CANCELED"
        assert await status_of(f"{workflow_id}-t") == "WORKFLOW_EXECUTION_STATUS_TERMINATED"

    await eventually(closed)


async def test_schedules(http: httpx.AsyncClient, workflow_id: str, task_queue: str) -> None:
    schedule = f"{NS}/schedules/sched-{workflow_id}"
    created = await ok(
        http.post(
            schedule,
            json={
                "schedule": {
                    "spec": {"interval": [{"interval": "3600s"}]},
                    "action": {
                        "startWorkflow": {
                            "workflowId": workflow_id,
                            "workflowType": {"name": "Mailbox"},
                            "taskQueue": {"name": task_queue},
                            "input": ["from a schedule"],
                        }
                    },
                    "state": {"paused": True, "notes": "by HTTP"},
                },
                "requestId": "r1",
            },
        )
    )
    assert "conflictToken" in created
    described = await ok(http.get(schedule))
    assert described["schedule"]["action"]["startWorkflow"]["input"] == ["from a schedule"]
    state = described["schedule"]["state"]
    assert (state["paused"], state["notes"]) == (True, "by HTTP")

    async def listed() -> None:
        schedules = (await ok(http.get(f"{NS}/schedules"))).get("schedules", [])
        assert f"sched-{workflow_id}" in [s["scheduleId"] for s in schedules]

    await eventually(listed)
    assert await ok(http.delete(schedule)) == {}
    gone = await http.get(schedule)
    assert (gone.status_code, gone.json()["code"]) == (404, 5)


async def test_namespaces(http: httpx.AsyncClient, workflow_id: str) -> None:
    name = f"ns-{workflow_id}"
    registered = await http.post(
        "/api/v1/namespaces", json={"namespace": name, "workflowExecutionRetentionPeriod": "86400s"}
    )
    assert (registered.status_code, registered.json()) == (200, {})
    described = await ok(http.get(f"/api/v1/namespaces/{name}"))
    assert described["namespaceInfo"]["name"] == name
    assert described["namespaceInfo"]["state"] == "NAMESPACE_STATE_REGISTERED"
    assert described["config"]["workflowExecutionRetentionTtl"] == "86400s"
    listed = await ok(http.get("/api/v1/namespaces"))
    assert {"default", name} <= {n["namespaceInfo"]["name"] for n in listed["namespaces"]}
    again = await http.post(
        "/api/v1/namespaces", json={"namespace": name, "workflowExecutionRetentionPeriod": "86400s"}
    )
    assert (again.status_code, again.json()["code"]) == (409, 6)


async def test_search_attributes_and_system_info(http: httpx.AsyncClient) -> None:
    attributes = await ok(http.get(f"{NS}/search-attributes"))
    assert attributes["systemAttributes"]["WorkflowId"] == "INDEXED_VALUE_TYPE_KEYWORD"
    info = await ok(http.get("/api/v1/system-info"))
    assert "capabilities" in info


async def test_an_activity_completed_over_http(
    http: httpx.AsyncClient, sdk_client: Client, workflow_id: str, task_queue: str
) -> None:
    worker = Worker(
        sdk_client, task_queue=task_queue, workflows=[WaitsForItsActivity], activities=[finished_elsewhere]
    )
    async with worker:
        handle = await sdk_client.start_workflow(
            WaitsForItsActivity.run, id=workflow_id, task_queue=task_queue
        )

        async def activity_started() -> None:
            described = await ok(http.get(f"{NS}/workflows/{workflow_id}"))
            pending = described.get("pendingActivities", [])
            assert [p["state"] for p in pending] == ["PENDING_ACTIVITY_STATE_STARTED"]

        await eventually(activity_started)
        heartbeat = f"{NS}/workflows/{workflow_id}/activities/outside/heartbeat"
        assert await ok(http.post(heartbeat, json={"details": ["halfway"]})) == {}
        completed = f"{NS}/workflows/{workflow_id}/activities/outside/complete"
        assert await ok(http.post(completed, json={"result": ["done over HTTP"]})) == {}
        assert await handle.result() == "done over HTTP"


async def test_large_requests_and_answers(http: httpx.AsyncClient, workflow_id: str, task_queue: str) -> None:
    """Bodies and answers past 64 KB are read and written as JSON off the event loop, the same."""
    large = "x" * 300_000
    start = {
        "workflowType": {"name": "Mailbox"},
        "taskQueue": {"name": task_queue},
        "input": [large, {"n": 1}],
    }
    assert (await http.post(f"{NS}/workflows/{workflow_id}", json=start)).status_code == 200
    history = await ok(http.get(f"{NS}/workflows/{workflow_id}/history", params={"pretty": ""}))
    started = history["history"]["events"][0]["workflowExecutionStartedEventAttributes"]
    assert started["input"] == [large, {"n": 1}]
