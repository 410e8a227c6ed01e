"""A run whose workflow ID holds slashes, query and fragment characters, spaces, quotes and
non-Latin letters is reached from the list, and every link, form and download of its page names
it: its tabs answer, its history downloads, its live-update poll answers, and an action posted
to its form reaches it. A run's URL without a tab opens its history, as in Temporal's UI."""

from __future__ import annotations

import html
import json
import re
import uuid
from collections.abc import AsyncIterator
from urllib.parse import quote

import httpx
import markupsafe
import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

HTML = {"Accept": "text/html"}
ODD_IDS = ("orders/2024 #7?x=1&y=%41", 'заказ "5"')


@pytest.fixture
async def http(base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        yield client


def _hrefs(page: str, pattern: str) -> list[str]:
    return [html.unescape(found) for found in re.findall(pattern, page)]


@pytest.mark.parametrize("odd", ODD_IDS)
async def test_every_link_and_form_of_a_run_names_an_odd_workflow_id(
    http: httpx.AsyncClient, sdk_client: Client, task_queue: str, odd: str
) -> None:
    workflow_id = f"{odd}-{uuid.uuid4().hex[:6]}"
    handle = await sdk_client.start_workflow("Nobody", id=workflow_id, task_queue=task_queue)
    listed = await http.get("/namespaces/default/workflows", params={"id": workflow_id}, headers=HTML)
    [link] = _hrefs(listed.text, r'<td><a href="([^"]+/history)">')
    page = await http.get(link, headers=HTML)
    assert page.status_code == 200 and 'data-field="type">Nobody<' in page.text
    assert str(markupsafe.escape(workflow_id)) in page.text
    compact = page.text.split('data-field="compact-events"')[1].split("</ol>")[0]
    assert '<span class="event-type">WorkflowExecutionStarted</span>' in compact

    tabs = _hrefs(page.text.split('class="tabs"')[1].split("</nav>")[0], r'href="([^"]+)"')
    assert {tab.rsplit("/", 1)[1] for tab in tabs} == {
        "history",
        "timeline",
        "graph",
        "pending-activities",
        "call-stack",
        "relationships",
        "history.json",
    }
    for tab in tabs:
        if tab.endswith("/call-stack"):
            continue  # no worker polls the queue: the page waits for one before it says so
        answer = await http.get(tab, headers=HTML)
        assert answer.status_code == 200, tab
        if tab.endswith("/history.json"):
            assert answer.json()["events"][0]["eventType"] == "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED"
            disposition = answer.headers["content-disposition"]
            assert (
                disposition.startswith('attachment; filename="')
                and quote(workflow_id, safe="") in disposition
            )
        elif not tab.endswith("/graph") and not tab.endswith("/timeline"):
            assert str(markupsafe.escape(workflow_id)) in answer.text, tab

    [wait] = _hrefs(page.text, r'data-wait="([^"]+)"')
    news = await http.get(wait, params={"after": "0"})
    assert news.status_code == 200 and json.loads(news.text)["running"] is True

    [signal] = _hrefs(page.text, r'<form method="post" action="([^"]+/actions/signal)"')
    sent = await http.post(signal, data={"name": "go", "input": '"now"', "confirm": "yes"})
    assert sent.status_code == 303
    after = await http.get(sent.headers["location"], headers=HTML)
    assert after.status_code == 200 and 'data-field="notice">signal go sent<' in after.text
    events = [event.event_type async for event in handle.fetch_history_events()]
    assert EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED in events
    await handle.terminate()


@pytest.mark.parametrize("odd", ("plain", *ODD_IDS))
async def test_a_run_without_a_tab_opens_its_history(
    http: httpx.AsyncClient, sdk_client: Client, task_queue: str, odd: str
) -> None:
    workflow_id = f"{odd}-{uuid.uuid4().hex[:6]}"
    handle = await sdk_client.start_workflow("Nobody", id=workflow_id, task_queue=task_queue)
    listed = await http.get("/namespaces/default/workflows", params={"id": workflow_id}, headers=HTML)
    [history] = _hrefs(listed.text, r'<td><a href="([^"]+/history)">')
    bare = history.removesuffix("/history")
    assert bare.endswith(f"/{handle.result_run_id}")

    moved = await http.get(bare, headers=HTML)
    assert (moved.status_code, moved.headers["location"]) == (302, history)
    page = await http.get(moved.headers["location"], headers=HTML)
    assert page.status_code == 200 and str(markupsafe.escape(workflow_id)) in page.text
    # Not a browser: the path is still the HTTP API's, which has no call there.
    assert (await http.get(bare)).status_code == 404
    await handle.terminate()
