"""The graph and timeline pages over real HTTP: drawn for a run, a clear 404 for a run or
namespace that does not exist, nothing but GET drawn, odd workflow IDs escaped, and a running
activity with the attempt under way."""

from __future__ import annotations

import re
from urllib.parse import quote

import httpx
from temporalio.client import Client

from tests.helpers import Registered, eventually, worker_for
from tests.web import workflows_drawn as wd

ODD_ID = 'a b/<script>"x"'


async def finished_packer(client: Client, task_queue: str) -> str:
    """Run the child workflow alone under ``ODD_ID``; its run ID."""
    async with worker_for(client, task_queue, Registered(wd.WORKFLOWS, wd.ACTIVITIES)):
        handle = await client.start_workflow(wd.Packer.run, ["a"], id=ODD_ID, task_queue=task_queue)
        await handle.result()
    assert handle.result_run_id is not None
    return handle.result_run_id


async def test_both_pages_draw_the_run(http: httpx.AsyncClient, sdk_client: Client, task_queue: str) -> None:
    run_id = await finished_packer(sdk_client, task_queue)
    base = f"/namespaces/default/workflows/{quote(ODD_ID, safe='')}/{run_id}"
    graph = await http.get(f"{base}/graph")
    assert graph.status_code == 200 and graph.headers["content-type"].startswith("text/html")
    assert graph.text.count('class="cz-node ') == 2 and 'class="cz-drawing cz-graph"' in graph.text
    assert "<script>" not in graph.text and "a b/&lt;script&gt;&#34;x&#34;" in graph.text
    timeline = await http.get(f"{base}/timeline")
    assert timeline.status_code == 200 and 'class="cz-drawing cz-timeline"' in timeline.text
    # The same menus as the run's other pages: the relative links resolve beside the drawing.
    for tab in ("history", "pending-activities", "call-stack", "relationships", "history.json"):
        assert f'<a href="{tab}"' in graph.text and f'<a href="{tab}"' in timeline.text
    assert (await http.get(f"{base}/history.json")).json()["events"]
    assert '<a href="/namespaces/default/schedules">Schedules</a>' in graph.text


async def test_a_missing_run_or_namespace_is_a_404_and_a_bad_run_id_a_400(http: httpx.AsyncClient) -> None:
    missing_run = await http.get(
        "/namespaces/default/workflows/nobody/0190d8e4-0000-7000-8000-000000000000/graph"
    )
    assert missing_run.status_code == 404
    assert 'role="alert"' in missing_run.text and "not found" in missing_run.text
    missing_namespace = await http.get("/namespaces/no-such-ns/workflows/w/r/timeline")
    assert missing_namespace.status_code == 404 and "no-such-ns" in missing_namespace.text
    bad_run = await http.get("/namespaces/default/workflows/w/not-a-run-id/graph")
    assert bad_run.status_code == 400 and "Invalid RunId" in bad_run.text


async def test_only_get_is_served(http: httpx.AsyncClient) -> None:
    # Any other method falls through to Temporal's HTTP API, which knows no such route.
    answer = await http.post("/namespaces/default/workflows/w/r/graph")
    assert (answer.status_code, answer.json()["code"]) == (404, 5)


async def test_a_running_activity_shows_the_attempt_under_way_and_its_last_failure(
    http: httpx.AsyncClient, sdk_client: Client, task_queue: str
) -> None:
    async with worker_for(sdk_client, task_queue, Registered(wd.WORKFLOWS, wd.ACTIVITIES)):
        handle = await sdk_client.start_workflow(
            wd.KeepsCharging.run, "order-9", id=task_queue, task_queue=task_queue
        )

        async def retried() -> bool:
            pending = (await handle.describe()).raw_description.pending_activities
            return bool(pending) and pending[0].attempt >= 3

        await eventually(retried)
        page = await http.get(
            f"/namespaces/default/workflows/{task_queue}/{handle.first_execution_run_id}/graph"
        )
        await handle.terminate("enough")
    assert page.status_code == 200
    attempts = re.search(r"(\d+) attempts", page.text)
    assert attempts is not None and int(attempts.group(1)) >= 3
    assert "last failure: card declined for order-9" in page.text
