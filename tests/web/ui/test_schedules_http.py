"""The schedule and task-queue pages over plain HTTP: they show what DescribeSchedule,
ListSchedules and DescribeTaskQueue say; each action changes the schedule as its RPC does;
refused actions change nothing; read-only mode hides and refuses them."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from urllib.parse import quote

import httpx
import pytest
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import RateLimit
from temporalio.api.workflowservice.v1 import UpdateTaskQueueConfigRequest
from temporalio.client import (
    Client,
    ScheduleActionExecutionStartWorkflow,
    ScheduleDescription,
    ScheduleHandle,
)
from temporalio.service import RPCError
from temporalio.worker import Worker

from cadenza.web.ui import schedules as schedules_page
from tests.helpers import eventually
from tests.servers import in_process
from tests.web.ui import schedules_ui

HTML = {"Accept": "text/html"}


@pytest.fixture
async def http(base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        yield client


def _path(handle: ScheduleHandle) -> str:
    return f"/namespaces/default/schedules/{handle.id}"


def _row(page: str, schedule_id: str) -> str:
    """The list's row of one schedule, as HTML."""
    match = re.search(rf'<tr data-schedule-id="{re.escape(schedule_id)}">(.*?)</tr>', page, re.S)
    assert match, f"no row for {schedule_id}"
    return match.group(1)


async def test_the_list_shows_state_spec_and_next_runs(
    http: httpx.AsyncClient, sdk_client: Client, task_queue: str
) -> None:
    hourly = await schedules_ui.hourly(sdk_client, task_queue)
    paused = await schedules_ui.hourly(sdk_client, task_queue, paused=True, note="on hold")
    weekdays = await schedules_ui.weekdays(sdk_client, task_queue)
    page = await http.get("/namespaces/default/schedules", headers=HTML)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    row = _row(page.text, hourly.id)
    assert "Running" in row and "every 1h (offset 5m)" in row and "Greeter" in row
    assert len(re.findall(r"<div>\d{4}-\d\d-\d\d \d\d:05:00\.000 UTC</div>", row)) == 3
    assert 'title="on hold">Paused' in _row(page.text, paused.id)
    assert "at 0 30 9 * * Mon-Fri" in _row(page.text, weekdays.id)
    filtered = await http.get(
        "/namespaces/default/schedules", params={"query": "TemporalSchedulePaused = true"}, headers=HTML
    )
    assert paused.id in filtered.text and hourly.id not in filtered.text
    # The same paths still answer the HTTP API's clients with its JSON.
    api = await http.get("/namespaces/default/schedules")
    assert any(entry["scheduleId"] == hourly.id for entry in api.json()["schedules"])
    described = await http.get(_path(hourly))
    assert described.json()["schedule"]["action"]["startWorkflow"]["workflowType"]["name"] == "Greeter"
    for handle in (hourly, paused, weekdays):
        await handle.delete()


async def test_the_detail_shows_spec_action_policies_and_upcoming_runs(
    http: httpx.AsyncClient, sdk_client: Client, task_queue: str
) -> None:
    handle = await schedules_ui.hourly(sdk_client, task_queue)
    page = await http.get(_path(handle), headers=HTML)
    assert page.status_code == 200
    text = page.text
    assert '<span class="state" data-field="state">Running</span>' in text
    assert "<code>every 1h (offset 5m)</code>" in text
    assert '<dd data-field="workflow-type">Greeter</dd>' in text
    assert '<dd data-field="overlap">Buffer One</dd>' in text
    assert f'href="/namespaces/default/task-queues/{task_queue}"' in text
    assert '"name": "Cron"' in html.unescape(text)  # the action's input, decoded
    upcoming = re.search(r'<ol data-field="upcoming">(.*?)</ol>', text, re.S)
    assert upcoming and len(re.findall(r":05:00\.000 UTC</li>", upcoming.group(1))) == 10
    missing = await http.get("/namespaces/default/schedules/no-such-schedule", headers=HTML)
    assert missing.status_code == 404
    await handle.delete()


async def test_actions_pause_trigger_backfill_and_delete(
    http: httpx.AsyncClient, sdk_client: Client, task_queue: str, ui_worker: Worker
) -> None:
    handle = await schedules_ui.hourly(sdk_client, task_queue)
    actions = f"{_path(handle)}/actions"
    paused = await http.post(f"{actions}/pause", data={"note": "maintenance", "confirm": "yes"})
    assert paused.status_code == 303 and paused.headers["location"].startswith(_path(handle))
    state = (await handle.describe()).schedule.state
    assert state.paused and state.note == "maintenance"
    page = await http.get(paused.headers["location"], headers=HTML)
    assert '<span class="state" data-field="state">Paused</span>' in page.text and "maintenance" in page.text

    assert (await http.post(f"{actions}/unpause", data={"confirm": "yes"})).status_code == 303
    assert not (await handle.describe()).schedule.state.paused

    assert (await http.post(f"{actions}/trigger", data={"confirm": "yes"})).status_code == 303
    described = await eventually(_has_actions(handle, 1))
    started = described.info.recent_actions[0].action
    assert isinstance(started, ScheduleActionExecutionStartWorkflow)
    result = await sdk_client.get_workflow_handle(
        started.workflow_id, run_id=started.first_execution_run_id
    ).result()
    assert result == {"greeting": "Hello, Cron!"}
    page = await http.get(_path(handle), headers=HTML)
    link = f"/workflows/{quote(started.workflow_id, safe='')}/{started.first_execution_run_id}/history"
    assert f'href="/namespaces/default{link}"' in page.text
    listed = await http.get("/namespaces/default/schedules", headers=HTML)
    assert f'href="/namespaces/default{link}"' in _row(listed.text, handle.id)  # its last action

    backfill = {
        "start": "2024-01-01T00:00",
        "end": "2024-01-01T02:30",
        "overlap": "ALLOW_ALL",
        "confirm": "yes",
    }
    assert (await http.post(f"{actions}/backfill", data=backfill)).status_code == 303
    await eventually(_has_actions(handle, 4))  # the trigger, then 00:05, 01:05 and 02:05 of the range

    deleted = await http.post(f"{actions}/delete", data={"confirm": "yes"})
    assert deleted.status_code == 303 and deleted.headers["location"].startswith(
        "/namespaces/default/schedules?"
    )
    with pytest.raises(RPCError):
        await handle.describe()
    listed = await http.get(deleted.headers["location"], headers=HTML)
    assert f"schedule {handle.id} deleted" in listed.text


def _has_actions(handle: ScheduleHandle, count: int) -> Callable[[], Awaitable[ScheduleDescription]]:
    async def check() -> ScheduleDescription:
        described = await handle.describe()
        assert described.info.num_actions >= count
        return described

    return check


async def test_refused_schedule_actions_change_nothing(
    http: httpx.AsyncClient, sdk_client: Client, task_queue: str
) -> None:
    handle = await schedules_ui.hourly(sdk_client, task_queue)
    actions = f"{_path(handle)}/actions"
    assert (await http.post(f"{actions}/pause", data={"note": "x"})).status_code == 400
    elsewhere = await http.post(
        f"{actions}/delete", data={"confirm": "yes"}, headers={"Origin": "http://evil.example"}
    )
    assert elsewhere.status_code == 403
    assert (await http.post(f"{actions}/explode", data={"confirm": "yes"})).status_code == 400
    bad_policy = await http.post(f"{actions}/trigger", data={"overlap": "SOMETIMES", "confirm": "yes"})
    assert bad_policy.status_code == 400 and "SOMETIMES" in bad_policy.text
    backwards = {"start": "2024-01-02T00:00", "end": "2024-01-01T00:00", "confirm": "yes"}
    assert (await http.post(f"{actions}/backfill", data=backwards)).status_code == 400
    not_a_time = {"start": "soon", "end": "2024-01-01T00:00", "confirm": "yes"}
    assert (await http.post(f"{actions}/backfill", data=not_a_time)).status_code == 400
    missing = await http.post(
        "/namespaces/default/schedules/nothing-here/actions/pause", data={"confirm": "yes"}
    )
    assert missing.status_code == 404
    described = await handle.describe()
    assert not described.schedule.state.paused and described.info.num_actions == 0
    await handle.delete()


async def test_read_only_hides_and_refuses_schedule_actions(task_queue: str) -> None:
    async with in_process(http_port=0, ui_read_only=True) as server:
        assert server.server.addresses is not None
        client = await Client.connect(server.address)
        handle = await schedules_ui.hourly(client, task_queue)
        async with httpx.AsyncClient(base_url=f"http://{server.server.addresses.http}") as http:
            page = await http.get(_path(handle), headers=HTML)
            assert page.status_code == 200 and "/actions/" not in page.text
            for action in ("pause", "trigger", "delete"):
                refused = await http.post(f"{_path(handle)}/actions/{action}", data={"confirm": "yes"})
                assert refused.status_code == 403
        described = await handle.describe()
        assert not described.schedule.state.paused and described.info.num_actions == 0


async def test_the_task_queue_page_shows_its_pollers_and_backlog(
    http: httpx.AsyncClient, sdk_client: Client, task_queue: str, ui_worker: Worker
) -> None:
    path = f"/namespaces/default/task-queues/{task_queue}"

    async def polled() -> str:
        page = await http.get(path, headers=HTML)
        assert page.status_code == 200 and f'data-identity="{sdk_client.identity}"' in page.text
        return page.text

    text = await eventually(polled)
    workflow_side = text.split('data-queue="activity"')[0]
    assert sdk_client.identity in workflow_side and re.search(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} UTC", workflow_side
    )
    assert '<dd data-field="backlog">0</dd>' in workflow_side
    api = await http.get(path)
    assert "html" not in api.headers["content-type"]
    assert any(poller["identity"] == sdk_client.identity for poller in api.json()["pollers"])


async def test_the_task_queue_page_shows_each_sides_dispatch_rate_limit_and_its_source(
    http: httpx.AsyncClient, sdk_client: Client, task_queue: str
) -> None:
    await sdk_client.workflow_service.update_task_queue_config(
        UpdateTaskQueueConfigRequest(
            namespace="default",
            identity="ui-test",
            task_queue=task_queue,
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
            update_queue_rate_limit=UpdateTaskQueueConfigRequest.RateLimitUpdate(
                rate_limit=RateLimit(requests_per_second=7.5), reason="ui test"
            ),
        )
    )
    page = await http.get(f"/namespaces/default/task-queues/{task_queue}", headers=HTML)
    assert page.status_code == 200
    limits = dict(
        re.findall(r'data-queue="(\w+)".*?data-field="rate-limit">([^<]*)<', html.unescape(page.text), re.S)
    )
    assert limits["activity"] == "7.5 tasks/s (set through the API)"
    assert limits["workflow"].endswith(" tasks/s (the server's limit)")


async def test_bad_requests_get_a_page_saying_why(http: httpx.AsyncClient) -> None:
    for path in ("/namespaces/nowhere/schedules", "/namespaces/nowhere/task-queues/some-queue"):
        unknown = await http.get(path, headers=HTML)
        assert unknown.status_code == 404 and "nowhere" in unknown.text
    bad_query = await http.get(
        "/namespaces/default/schedules", params={"query": "WorkflowId = 'x'"}, headers=HTML
    )
    assert bad_query.status_code == 400 and "cannot filter" in bad_query.text
    bad_token = await http.get("/namespaces/default/schedules", params={"token": "%%%"}, headers=HTML)
    assert bad_token.status_code == 400
    too_long = await http.get(f"/namespaces/default/task-queues/{'q' * 2000}", headers=HTML)
    assert too_long.status_code == 400


async def test_the_list_pages_by_the_rpcs_token(
    http: httpx.AsyncClient, sdk_client: Client, task_queue: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(schedules_page, "PAGE_SIZE", 2)
    handles = [await schedules_ui.hourly(sdk_client, task_queue) for _ in range(3)]
    seen: list[str] = []
    url: str | None = "/namespaces/default/schedules"
    while url:
        page = await http.get(url, headers=HTML)
        rows = re.findall(r'<tr data-schedule-id="([^"]+)">', page.text)
        assert len(rows) <= 2  # a last page may be empty: a full page always has a next one
        seen += rows
        following = re.search(r'<a rel="next" href="([^"]+)">', page.text)
        url = html.unescape(following.group(1)) if following else None
    assert {handle.id for handle in handles} <= set(seen) and len(seen) == len(set(seen))
    for handle in handles:
        await handle.delete()
