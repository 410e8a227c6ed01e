"""The same HTTP requests to Cadenza and to the real Temporal dev server's HTTP API, answers compared.

Values that always differ between two servers (run IDs, times, request IDs, links)
are normalized away; status codes, error codes and detail types, field names and
the JSON payloads are compared as they are.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from tests import servers
from tests.helpers import eventually
from tests.web.conftest import HttpPair

pytestmark = [
    pytest.mark.differential,
    pytest.mark.skipif(servers.temporal_binary() is None, reason="temporal CLI not installed"),
]

NS = "/api/v1/namespaces/default"
JSON = {"content-type": "application/json"}

VOLATILE = {
    "runId",
    "firstExecutionRunId",
    "requestId",
    "eventTime",
    "startTime",
    "executionTime",
    "link",
    "links",
    "signalLink",
}
"""Keys whose values differ between any two servers; their presence is still compared."""

Request = Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]


def normalized(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: "<volatile>" if key in VOLATILE else normalized(item) for key, item in value.items()}
    if isinstance(value, list):
        return [normalized(item) for item in value]
    return value


def answer(response: httpx.Response) -> tuple[int, Any]:
    return response.status_code, normalized(response.json())


def error_shape(response: httpx.Response) -> tuple[int, int, list[str]]:
    """An error's HTTP status, code and detail types (messages are each server's own words)."""
    body = response.json()
    return response.status_code, body["code"], [detail["@type"] for detail in body.get("details") or []]


@pytest.fixture(scope="module")
def both(http_pair: HttpPair) -> tuple[httpx.AsyncClient, httpx.AsyncClient]:
    """(Cadenza, Temporal): HTTP clients of the two servers."""
    return http_pair.ours, http_pair.real


async def on_both(
    both: tuple[httpx.AsyncClient, httpx.AsyncClient], request: Request
) -> tuple[httpx.Response, httpx.Response]:
    ours, real = both
    return await asyncio.gather(request(ours), request(real))


@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [
        ("GET", "/api/v1/no/such/route", {}),
        ("GET", "/api/v1/no/such/route", JSON),
        ("DELETE", f"{NS}/workflows/some-id", {}),
        ("PUT", f"{NS}/workflows/some-id", JSON),
        ("GET", "/api/v1/no/such/route?pretty", {}),
    ],
)
async def test_routing_errors_are_the_same(
    both: tuple[httpx.AsyncClient, httpx.AsyncClient], method: str, path: str, headers: dict[str, str]
) -> None:
    ours, real = await on_both(both, lambda http: http.request(method, path, headers=headers))
    assert (ours.status_code, ours.text) == (real.status_code, real.text)


async def test_a_body_over_4_mb_is_refused_the_same(
    both: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    body = b'{"input": ["' + b"x" * (4 * 1024 * 1024) + b'"]}'
    ours, real = await on_both(
        both, lambda http: http.post(f"{NS}/workflows/big", content=body, headers=JSON)
    )
    assert answer(ours) == answer(real)


@pytest.mark.parametrize("body", [b"{not json", b'{"workflowType": {"name": 5}}', b'{"noSuchField": 1}'])
async def test_bad_json_is_refused_the_same(
    both: tuple[httpx.AsyncClient, httpx.AsyncClient], body: bytes
) -> None:
    ours, real = await on_both(
        both, lambda http: http.post(f"{NS}/workflows/bad", content=body, headers=JSON)
    )
    assert error_shape(ours) == error_shape(real)


async def test_starts_and_their_errors_answer_the_same(
    both: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    workflow_id = f"wf-{uuid.uuid4().hex[:8]}"
    start = {"workflowType": {"name": "Nobody"}, "taskQueue": {"name": "nobody"}, "requestId": "one"}
    ours, real = await on_both(both, lambda http: http.post(f"{NS}/workflows/{workflow_id}", json=start))
    assert answer(ours) == answer(real)
    again = {**start, "requestId": "two"}
    ours, real = await on_both(both, lambda http: http.post(f"{NS}/workflows/{workflow_id}", json=again))
    assert error_shape(ours) == error_shape(real)
    ours, real = await on_both(both, lambda http: http.get(f"{NS}/workflows/{workflow_id}-missing"))
    assert error_shape(ours) == error_shape(real)


PAYLOADS = ["text", {"b": [], "a": {}, "n": 1.0, "big": 12345678901234567890}, None, [1, [2, []]], 0.5]


@pytest.mark.parametrize(
    ("params", "headers"),
    [({}, JSON), ({"noPayloadShorthand": ""}, JSON), ({"pretty": ""}, JSON), ({}, {})],
)
async def test_payloads_are_written_the_same(
    both: tuple[httpx.AsyncClient, httpx.AsyncClient], params: dict[str, str], headers: dict[str, str]
) -> None:
    workflow_id = f"wf-{uuid.uuid4().hex[:8]}"
    start = {
        "workflowType": {"name": "Nobody"},
        "taskQueue": {"name": "nobody"},
        "input": PAYLOADS,
        "memo": {"fields": {"note": "hi", "empty": [], "none": None}},
    }
    ours, real = await on_both(both, lambda http: http.post(f"{NS}/workflows/{workflow_id}", json=start))
    assert (ours.status_code, real.status_code) == (200, 200)
    ours, real = await on_both(
        both, lambda http: http.get(f"{NS}/workflows/{workflow_id}/history", params=params, headers=headers)
    )
    assert ours.status_code == real.status_code == 200
    assert ours.headers["content-type"] == real.headers["content-type"]
    started_ours, started_real = (r.json()["history"]["events"][0] for r in (ours, real))
    attributes = "workflowExecutionStartedEventAttributes"
    for key in ("input", "memo"):
        assert started_ours[attributes][key] == started_real[attributes][key]


async def test_requests_without_a_json_content_type_are_read_the_same(
    both: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    workflow_id = f"wf-{uuid.uuid4().hex[:8]}"
    shorthand = b'{"workflowType": {"name": "Nobody"}, "taskQueue": {"name": "nobody"}, "input": ["x"]}'
    ours, real = await on_both(
        both, lambda http: http.post(f"{NS}/workflows/{workflow_id}", content=shorthand)
    )
    assert ours.status_code == real.status_code
    if real.status_code != 200:
        assert error_shape(ours) == error_shape(real)


def reading(path: str, params: dict[str, str]) -> Request:
    return lambda http: http.get(path, params=params)


def counting(query: dict[str, str], headers: dict[str, str]) -> Request:
    return lambda http: http.get(f"{NS}/workflow-count", params=query, headers=headers)


async def test_counts_and_query_parameters_answer_the_same(
    both: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    workflow_id = f"wf-{uuid.uuid4().hex[:8]}"
    start = {"workflowType": {"name": "Nobody"}, "taskQueue": {"name": "nobody"}}
    await on_both(both, lambda http: http.post(f"{NS}/workflows/{workflow_id}", json=start))
    query = {"query": f"WorkflowId = '{workflow_id}'"}

    async def counted() -> None:
        ours, real = await on_both(both, lambda http: http.get(f"{NS}/workflow-count", params=query))
        assert answer(ours) == answer(real) == (200, {"count": "1"})

    await eventually(counted)
    for headers in ({}, JSON):
        ours, real = await on_both(both, counting(query, headers))
        assert answer(ours) == answer(real)
    ours, real = await on_both(both, lambda http: http.get(f"{NS}/workflows", params={"pageSize": "many"}))
    assert error_shape(ours) == error_shape(real)


@pytest.mark.parametrize(
    "params",
    [
        {"pageSize": "many"},
        {"pageSize": "99999999999"},
        {"nextPageToken": "!!"},
        [("query", "a"), ("query", "b")],
    ],
)
async def test_bad_query_parameters_are_refused_the_same(
    both: tuple[httpx.AsyncClient, httpx.AsyncClient], params: Any
) -> None:
    ours, real = await on_both(both, lambda http: http.get(f"{NS}/workflows", params=params))
    assert (ours.status_code, ours.text) == (real.status_code, real.text)


async def test_a_form_posted_to_a_get_route_is_that_get(
    both: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    workflow_id = f"wf-{uuid.uuid4().hex[:8]}"
    start = {"workflowType": {"name": "Nobody"}, "taskQueue": {"name": "nobody"}}
    await on_both(both, lambda http: http.post(f"{NS}/workflows/{workflow_id}", json=start))
    form = {"query": f"WorkflowId = '{workflow_id}'"}

    async def counted() -> None:
        ours, real = await on_both(both, lambda http: http.post(f"{NS}/workflow-count", data=form))
        assert answer(ours) == answer(real) == (200, {"count": "1"})

    await eventually(counted)


async def test_signals_and_histories_answer_the_same(
    both: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    workflow_id = f"wf-{uuid.uuid4().hex[:8]}"
    workflow = f"{NS}/workflows/{workflow_id}"
    start = {"workflowType": {"name": "Nobody"}, "taskQueue": {"name": "nobody"}, "input": ["in"]}
    await on_both(both, lambda http: http.post(workflow, json=start))
    signal = {"input": [{"x": [1, 2]}, None], "header": {"fields": {"h": "v"}}}
    ours, real = await on_both(both, lambda http: http.post(f"{workflow}/signal/go", json=signal))
    assert answer(ours) == answer(real)
    for params in ({}, {"noPayloadShorthand": ""}):
        ours, real = await on_both(both, reading(f"{workflow}/history", params))
        events_ours, events_real = (r.json()["history"]["events"] for r in (ours, real))
        assert [e["eventType"] for e in events_ours] == [e["eventType"] for e in events_real]
        signaled = "workflowExecutionSignaledEventAttributes"
        (ours_signal,) = (e[signaled] for e in events_ours if signaled in e)
        (real_signal,) = (e[signaled] for e in events_real if signaled in e)
        assert normalized(ours_signal) == normalized(real_signal)
    ours, real = await on_both(both, lambda http: http.get(workflow))
    info_ours, info_real = (r.json()["workflowExecutionInfo"] for r in (ours, real))
    for key in ("type", "status", "taskQueue", "historyLength"):
        assert info_ours[key] == info_real[key]
