"""Bad requests to Temporal's HTTP API get the real server's codes, and change nothing."""

from __future__ import annotations

import httpx
import pytest

NS = "/api/v1/namespaces/default"
START = {"workflowType": {"name": "Mailbox"}, "taskQueue": {"name": "nowhere"}}


def assert_error(answer: httpx.Response, http_status: int, code: int, message: str | None = None) -> None:
    assert answer.status_code == http_status, answer.text
    assert answer.headers["content-type"] == "*"  # the default marshaler's, as on the real server
    body = answer.json()
    assert body["code"] == code
    if message is not None:
        assert message in body["message"]


async def assert_no_workflow(http: httpx.AsyncClient, workflow_id: str) -> None:
    assert_error(await http.get(f"{NS}/workflows/{workflow_id}"), 404, 5)


async def test_unknown_route_is_404_with_code_5(http: httpx.AsyncClient) -> None:
    assert_error(await http.get("/api/v1/nothing/here"), 404, 5, "Not Found")


async def test_wrong_method_is_501_with_code_12(http: httpx.AsyncClient) -> None:
    assert_error(await http.delete(f"{NS}/workflows/wf"), 501, 12, "Method Not Allowed")
    assert_error(await http.put(f"{NS}/workflows/wf"), 501, 12, "Method Not Allowed")


async def test_errors_carry_temporal_details(http: httpx.AsyncClient, workflow_id: str) -> None:
    missing = await http.get(f"{NS}/workflows/{workflow_id}")
    assert_error(missing, 404, 5)
    assert missing.json()["details"][0]["@type"].endswith("temporal.api.errordetails.v1.NotFoundFailure")
    unknown_namespace = await http.get(f"/api/v1/namespaces/no-such-ns-{workflow_id}/workflows/x")
    assert_error(unknown_namespace, 404, 5)
    assert unknown_namespace.json()["details"][0]["namespace"] == f"no-such-ns-{workflow_id}"


async def test_starting_twice_is_409_already_exists(http: httpx.AsyncClient, workflow_id: str) -> None:
    first = await http.post(f"{NS}/workflows/{workflow_id}", json=START)
    assert first.status_code == 200
    again = await http.post(f"{NS}/workflows/{workflow_id}", json={**START, "requestId": "another"})
    assert_error(again, 409, 6)
    detail = again.json()["details"][0]
    assert detail["@type"].endswith("WorkflowExecutionAlreadyStartedFailure")
    assert detail["runId"] == first.json()["runId"]


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b'{"workflowType": {"name": 5}}',
        b'{"workflowType": {"name": "Mailbox"}, "noSuchField": 1}',
        b'{"workflowRunTimeout": "ten seconds"}',
        b"[" * 50_000,
    ],
)
async def test_bad_json_is_400_with_code_3_and_starts_nothing(
    http: httpx.AsyncClient, workflow_id: str, body: bytes
) -> None:
    answer = await http.post(
        f"{NS}/workflows/{workflow_id}", content=body, headers={"content-type": "application/json"}
    )
    assert_error(answer, 400, 3)
    await assert_no_workflow(http, workflow_id)


async def test_a_body_over_4_mb_is_400_with_code_3(http: httpx.AsyncClient, workflow_id: str) -> None:
    big = {**START, "input": ["x" * (4 * 1024 * 1024)]}
    answer = await http.post(f"{NS}/workflows/{workflow_id}", json=big)
    assert_error(answer, 400, 3, "http: request body too large")
    await assert_no_workflow(http, workflow_id)


async def test_bad_query_parameters_are_400_with_code_3(http: httpx.AsyncClient) -> None:
    assert_error(await http.get(f"{NS}/workflows", params={"pageSize": "many"}), 400, 3, "invalid syntax")
    assert_error(await http.get(f"{NS}/workflows", params={"query": "WorkflowId = "}), 400, 3)


async def test_handler_errors_come_through_as_over_grpc(http: httpx.AsyncClient, workflow_id: str) -> None:
    missing_type = await http.post(f"{NS}/workflows/{workflow_id}", json={"taskQueue": {"name": "q"}})
    assert_error(missing_type, 400, 3)
    await assert_no_workflow(http, workflow_id)
    # An annotated RPC Cadenza does not serve answers as it does over gRPC.
    assert_error(await http.get(f"{NS}/workflow-rules"), 501, 12, "not implemented by Cadenza")


async def test_pretty_indents_errors_too(http: httpx.AsyncClient) -> None:
    answer = await http.get("/api/v1/nothing", params={"pretty": ""})
    assert answer.text.startswith("{\n  ")
