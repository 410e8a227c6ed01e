"""The run tabs and the update, reset and start actions over plain HTTP, on real runs of the SDK's
worker: pending activities with their failure and heartbeat, the call stack (or why there is
none), parent, children and the continue-as-new chain; bad forms change nothing; read-only mode
hides and refuses the new actions."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from temporalio.client import Client
from temporalio.common import RetryPolicy
from temporalio.worker import Worker

from tests.acceptance import workflows_messages as wm
from tests.servers import in_process
from tests.web.ui import workflows_tabs, workflows_ui
from tests.web.ui.run_tabs_support import run_path, tabs_worker, tended_waiting

HTML = {"Accept": "text/html"}
__all__ = ["tabs_worker"]


@pytest.fixture
async def http(base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        yield client


def field(page: str, name: str) -> list[str]:
    """The texts of the elements marked ``data-field=name``."""
    return [match.strip() for match in re.findall(rf'data-field="{name}"[^>]*>([^<]*)<', page)]


async def test_pending_activities_show_attempt_failure_and_heartbeat(
    http: httpx.AsyncClient, sdk_client: Client, task_queue: str, tabs_worker: Worker
) -> None:
    handle = await tended_waiting(sdk_client, task_queue)
    page = await http.get(run_path(handle.id, handle.result_run_id) + "/pending-activities")
    assert page.status_code == 200
    assert 'aria-current="page">Pending activities' in page.text
    assert field(page.text, "state") == ["Started"]
    assert field(page.text, "attempt") == ["3"]
    assert field(page.text, "maximum-attempts") == [str(workflows_tabs.MAXIMUM_ATTEMPTS)]
    assert field(page.text, "last-failure") == ["attempt 2 failed"]
    details = field(page.text, "heartbeat-details")[0].replace("&#34;", '"')
    assert json.loads(details) == {"job": "polish", "attempt": 3}
    assert field(page.text, "last-worker") == [sdk_client.identity]
    assert all(
        field(page.text, name)[0].endswith("UTC") for name in ("scheduled", "started", "last-heartbeat")
    )
    assert "stubborn" in page.text

    stack = await http.get(run_path(handle.id, handle.result_run_id) + "/call-stack")
    assert stack.status_code == 200 and "activity: stubborn (workflow: Tended" in stack.text

    await handle.terminate("done looking")
    closed = await http.get(run_path(handle.id, handle.result_run_id) + "/pending-activities")
    assert field(closed.text, "none") == ["No pending activities: this run is closed."]
    stack = await http.get(run_path(handle.id, handle.result_run_id) + "/call-stack")
    assert "This run is closed" in stack.text


async def test_call_stack_says_when_no_worker_answers(http: httpx.AsyncClient, sdk_client: Client) -> None:
    handle = await sdk_client.start_workflow(
        workflows_ui.Greeter.run,
        {"name": "Nobody"},
        id=f"alone-{uuid.uuid4().hex[:8]}",
        task_queue="no-worker",
    )
    stack = await http.get(run_path(handle.id, handle.result_run_id) + "/call-stack")
    assert stack.status_code == 200 and "No worker answered" in stack.text
    await handle.terminate()


async def test_relationships_show_the_chain_and_the_family(
    http: httpx.AsyncClient, sdk_client: Client, task_queue: str, tabs_worker: Worker
) -> None:
    countdown = await sdk_client.start_workflow(
        wm.Countdown.run, 2, id=f"countdown-{uuid.uuid4().hex[:8]}", task_queue=task_queue
    )
    await countdown.result()
    runs = [countdown.result_run_id]
    for _ in range(2):
        history = await sdk_client.get_workflow_handle(countdown.id, run_id=runs[-1]).fetch_history()
        runs.append(
            history.events[-1].workflow_execution_continued_as_new_event_attributes.new_execution_run_id
        )
    page = await http.get(run_path(countdown.id, runs[1]) + "/relationships")
    assert page.status_code == 200
    assert re.findall(r'<li data-run-id="([^"]+)"', page.text)[:3] == runs
    assert field(page.text, "began")[:3] == ["first run", "continued as new", "continued as new"]
    for other in (runs[0], runs[2]):
        assert f'href="{run_path(countdown.id, other)}/relationships"' in page.text

    retried = await sdk_client.start_workflow(
        workflows_tabs.FailsOnce.run,
        id=f"retried-{uuid.uuid4().hex[:8]}",
        task_queue=task_queue,
        retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=100), maximum_attempts=2),
    )
    assert await retried.result() == "second attempt"
    first = await http.get(run_path(retried.id, retried.first_execution_run_id) + "/relationships")
    assert field(first.text, "began") == ["first run", "retry"]

    parent = await sdk_client.start_workflow(
        wm.Parent.run, "Kim", id=f"parent-{uuid.uuid4().hex[:8]}", task_queue=task_queue
    )
    await parent.result()
    child_run = (await sdk_client.get_workflow_handle(f"{parent.id}-child").describe()).run_id
    family = await http.get(run_path(parent.id, parent.result_run_id) + "/relationships")
    assert f'href="{run_path(parent.id + "-child", child_run)}/relationships"' in family.text
    assert field(family.text, "child-state") == ["Completed"]
    child = await http.get(run_path(f"{parent.id}-child", child_run) + "/relationships")
    assert f'href="{run_path(parent.id, parent.result_run_id)}/relationships"' in child.text


async def test_update_reset_and_start_take_effect(
    http: httpx.AsyncClient, sdk_client: Client, task_queue: str, tabs_worker: Worker
) -> None:
    mailbox = await sdk_client.start_workflow(
        wm.Mailbox.run, id=f"mailbox-{uuid.uuid4().hex[:8]}", task_queue=task_queue
    )
    actions = run_path(mailbox.id, mailbox.result_run_id) + "/actions"
    updated = await http.post(
        f"{actions}/update", data={"name": "deliver_and_count", "input": '"hi"', "confirm": "yes"}
    )
    assert updated.status_code == 200
    assert field(updated.text, "notice") == ["update deliver_and_count completed: 1"]
    rejected = await http.post(
        f"{actions}/update", data={"name": "deliver_and_count", "input": '""', "confirm": "yes"}
    )
    assert field(rejected.text, "notice") == ["update deliver_and_count failed: empty message"]
    assert await mailbox.query(wm.Mailbox.count) == 1

    await mailbox.signal(wm.Mailbox.finish)
    await mailbox.result()
    for bad in ({"event_id": "x"}, {"event_id": "1"}, {"event_id": "9999"}):
        refused = await http.post(f"{actions}/reset", data={**bad, "confirm": "yes"})
        assert refused.status_code == 400
    reset = await http.post(f"{actions}/reset", data={"event_id": "4", "reason": "again", "confirm": "yes"})
    assert reset.status_code == 303
    new_run = reset.headers["location"].split("/")[-2]
    assert new_run != mailbox.result_run_id
    relations = await http.get(
        f"{reset.headers['location'].split('?')[0].removesuffix('/history')}/relationships"
    )
    assert f'href="{run_path(mailbox.id, mailbox.result_run_id)}/relationships"' in relations.text
    old = await http.get(run_path(mailbox.id, mailbox.result_run_id) + "/relationships")
    assert f'href="{run_path(mailbox.id, new_run)}/relationships"' in old.text

    start = {
        "workflow_type": "Greeter",
        "task_queue": task_queue,
        "input": '{"name": "Zed"}',
        "confirm": "yes",
    }
    missing = await http.post("/namespaces/default/start-workflow", data=start)
    assert missing.status_code == 400 and "workflow id" in missing.text
    workflow_id = f"started-{uuid.uuid4().hex[:8]}"
    started = await http.post(
        "/namespaces/default/start-workflow", data={**start, "workflow_id": workflow_id}
    )
    assert started.status_code == 303 and f"/workflows/{workflow_id}/" in started.headers["location"]
    assert await sdk_client.get_workflow_handle(workflow_id).result() == {"greeting": "Hello, Zed!"}
    running = {**start, "workflow_type": "Mailbox", "input": "", "workflow_id": f"{workflow_id}-mailbox"}
    assert (await http.post("/namespaces/default/start-workflow", data=running)).status_code == 303
    again = await http.post("/namespaces/default/start-workflow", data=running)
    assert again.status_code == 409 and "already" in again.text.lower()
    await sdk_client.get_workflow_handle(running["workflow_id"]).signal(wm.Mailbox.finish)


async def test_read_only_hides_and_refuses_the_new_actions(sdk_client: Client, task_queue: str) -> None:
    async with in_process(http_port=0, ui_read_only=True) as server:
        assert server.server.addresses is not None
        client = await Client.connect(server.address)
        async with (
            Worker(client, task_queue=task_queue, workflows=[wm.Mailbox]),
            httpx.AsyncClient(base_url=f"http://{server.server.addresses.http}") as http,
        ):
            handle = await client.start_workflow(
                wm.Mailbox.run, id=f"ro-{uuid.uuid4().hex[:8]}", task_queue=task_queue
            )
            listed = await http.get("/namespaces/default/workflows", headers=HTML)
            assert "start-workflow" not in listed.text
            actions = run_path(handle.id, handle.result_run_id) + "/actions"
            form = {"name": "deliver_and_count", "input": '"x"', "event_id": "4", "confirm": "yes"}
            for path in (f"{actions}/update", f"{actions}/reset", "/namespaces/default/start-workflow"):
                refused = await http.post(
                    path,
                    data={**form, "workflow_type": "Mailbox", "workflow_id": "x", "task_queue": task_queue},
                )
                assert refused.status_code == 403
            assert await handle.query(wm.Mailbox.count) == 0
            assert len([run async for run in client.list_workflows(f'WorkflowId = "{handle.id}"')]) == 1
            await handle.terminate()
