"""The audit log over HTTP: its API route as JSON and JSON lines, and its page under the
namespace, filtered and paged; bad filters refused with a reason."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from playwright.async_api import Page
from temporalio.client import Client

from cadenza.auth.api_keys import issue_key, new_key
from cadenza.auth.principal import Role
from cadenza.web.ui.login import COOKIE
from tests.acceptance import workflows_messages as wm
from tests.helpers import eventually
from tests.servers import InProcessServer, in_process

HTML = {"Accept": "text/html"}
ROUTE = "/api/v1/cadenza/audit"


@pytest.fixture
async def audited() -> AsyncIterator[InProcessServer]:
    async with in_process(http_port=0, audit=True) as server:
        yield server


@pytest.fixture
async def http(audited: InProcessServer) -> AsyncIterator[httpx.AsyncClient]:
    assert audited.server.addresses is not None
    async with httpx.AsyncClient(base_url=f"http://{audited.server.addresses.http}", timeout=30) as client:
        yield client


@pytest.fixture
async def terminated(audited: InProcessServer, task_queue: str) -> str:
    """A workflow started and terminated, so the log has two rows; its ID."""
    client = await Client.connect(audited.address, identity="tester")
    handle = await client.start_workflow(
        wm.Mailbox.run, id=f"http-{uuid.uuid4().hex[:8]}", task_queue=task_queue
    )
    await handle.terminate("done")
    return handle.id


async def test_the_route_lists_rows_as_json_and_json_lines(http: httpx.AsyncClient, terminated: str) -> None:
    listed = await http.get(ROUTE, params={"namespace": "default", "since": "1h"})
    assert listed.status_code == 200
    records = listed.json()["records"]
    assert [(r["method"], r["workflowId"]) for r in records] == [
        ("TerminateWorkflowExecution", terminated),
        ("StartWorkflowExecution", terminated),
    ]
    assert listed.json()["nextBefore"] == records[-1]["id"]
    lines = await http.get(ROUTE, headers={"Accept": "application/x-ndjson"})
    assert lines.headers["content-type"].startswith("application/x-ndjson")
    assert [json.loads(line)["id"] for line in lines.text.splitlines()] == [r["id"] for r in records]
    older = await http.get(ROUTE, params={"before": str(records[0]["id"])})
    assert [r["method"] for r in older.json()["records"]] == ["StartWorkflowExecution"]
    assert (await http.get(ROUTE, params={"principal": "someone-else"})).json()["records"] == []

    for bad in ({"since": "yesterday-ish"}, {"limit": "0"}, {"before": "x"}):
        refused = await http.get(ROUTE, params=bad)
        assert refused.status_code == 400 and refused.json()["code"] == 3, bad
        assert next(iter(bad)) in refused.json()["message"]


async def test_the_page_shows_the_namespaces_rows_with_filters(
    http: httpx.AsyncClient, terminated: str
) -> None:
    page = await http.get("/namespaces/default/audit", headers=HTML)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "TerminateWorkflowExecution" in page.text and terminated in page.text
    assert 'href="/namespaces/default/audit"' in page.text  # the navigation links the log
    elsewhere = await http.get("/namespaces/other/audit", headers=HTML)
    assert elsewhere.status_code == 200 and terminated not in elsewhere.text
    filtered = await http.get("/namespaces/default/audit", params={"principal": "nobody"}, headers=HTML)
    assert "No audited calls match" in filtered.text
    bad = await http.get("/namespaces/default/audit", params={"since": "soon"}, headers=HTML)
    assert bad.status_code == 400 and "since" in bad.text


async def test_a_browser_filters_the_log(audited: InProcessServer, terminated: str, page: Page) -> None:
    assert audited.server.addresses is not None
    await page.goto(f"http://{audited.server.addresses.http}/namespaces/default/audit")
    rows = page.locator("table.audit tbody tr")
    assert await rows.count() == 2
    assert await rows.first.locator("[data-field=method]").inner_text() == "TerminateWorkflowExecution"
    await page.fill("input[name=principal]", "nobody")
    await page.click("button[type=submit]")
    await eventually(lambda: "principal=nobody" in page.url)
    assert "No audited calls match" in await page.locator("table.audit").inner_text()


async def test_with_auth_the_page_reads_as_the_signed_in_user() -> None:
    async with in_process(http_port=0, auth=True) as server:
        store = server.server._store
        admin = await issue_key(store, new_key("*", Role.ADMIN, time.time(), cluster_admin=True))
        writer = await issue_key(store, new_key("default", Role.WRITER, time.time()))
        assert server.server.addresses is not None
        base = f"http://{server.server.addresses.http}"
        async with httpx.AsyncClient(base_url=base, timeout=30, cookies={COOKIE: writer}) as http:
            assert (await http.get("/namespaces/default/audit", headers=HTML)).status_code == 403
        async with httpx.AsyncClient(base_url=base, timeout=30, cookies={COOKIE: admin}) as http:
            as_admin = await http.get("/namespaces/default/audit", headers=HTML)
            assert as_admin.status_code == 200
            assert "PERMISSION_DENIED" in as_admin.text and "ListAuditRecords" in as_admin.text
