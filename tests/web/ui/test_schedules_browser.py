"""The schedule and task-queue pages in headless Chromium: the list and the detail show the
schedule, pausing shows it paused, triggering starts a workflow the page links to, deleting
takes it off the list; the task queue shows its worker. A screenshot of each page is left in
the ``screenshots`` folder."""

from __future__ import annotations

import uuid
from pathlib import Path

from playwright.async_api import Dialog, Page, expect
from temporalio.client import Client, ScheduleHandle
from temporalio.worker import Worker

from tests.helpers import eventually
from tests.web.ui import schedules_ui, workflows_ui


async def _accept(dialog: Dialog) -> None:
    await dialog.accept()


async def _took_an_action(handle: ScheduleHandle) -> bool:
    return (await handle.describe()).info.num_actions > 0


async def _polled_by(page: Page, url: str, identity: str) -> bool:
    """Whether the queue's HTTP API answer (the page's path without Accept: text/html) lists the poller."""
    answer = await page.request.get(url, headers={"Accept": "application/json"})
    return any(poller["identity"] == identity for poller in (await answer.json()).get("pollers", []))


async def _shot(page: Page, folder: Path, name: str) -> None:
    await page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


async def test_a_schedule_paused_triggered_and_deleted_from_its_page(
    page: Page, base_url: str, sdk_client: Client, task_queue: str, ui_worker: Worker, screenshots: Path
) -> None:
    handle = await schedules_ui.hourly(sdk_client, task_queue)
    page.on("dialog", _accept)
    await page.goto(base_url + "/namespaces/default/workflows")
    await page.get_by_role("link", name="Schedules", exact=True).click()
    row = page.locator(f'tr[data-schedule-id="{handle.id}"]')
    await expect(row.locator("[data-field=state]")).to_have_text("Running")
    await expect(row.locator("[data-field=spec]")).to_have_text("every 1h (offset 5m)")
    await expect(row.locator("[data-field=next-runs] div")).to_have_count(3)
    await _shot(page, screenshots, "schedules")

    await row.get_by_role("link", name=handle.id).click()
    await expect(page.locator("[data-field=overlap]")).to_have_text("Buffer One")
    await expect(page.locator("[data-field=upcoming] li")).to_have_count(10)
    pause = page.locator("form[action$='/actions/pause']")
    await pause.get_by_label("Note").fill("quiet hours")
    await pause.get_by_label("Confirm").check()
    await pause.get_by_role("button", name="Pause").click()
    await expect(page.locator("[data-field=state]")).to_have_text("Paused")
    await expect(page.locator("[data-field=notes]")).to_have_text("quiet hours")
    assert (await handle.describe()).schedule.state.paused

    trigger = page.locator("form[action$='/actions/trigger']")
    await trigger.get_by_label("Confirm").check()
    await trigger.get_by_role("button", name="Trigger").click()
    await expect(page.locator("[data-field=notice]")).to_have_text("triggered")
    # The scheduler takes the action just after the call: once it has, the page shows it.
    await eventually(lambda: _took_an_action(handle))
    await page.reload()
    recent = page.locator("[data-field=recent] a")
    await expect(recent).to_have_count(1)
    await _shot(page, screenshots, "schedule")
    await recent.first.click()
    await expect(page.locator("[data-field=type]")).to_have_text("Greeter")
    await expect(page.locator("[data-field=status]")).to_have_text("Completed")

    await page.goto(base_url + f"/namespaces/default/schedules/{handle.id}")
    delete = page.locator("form[action$='/actions/delete']")
    await delete.get_by_label("Confirm").check()
    await delete.get_by_role("button", name="Delete schedule").click()
    await expect(page.locator("[data-field=notice]")).to_have_text(f"schedule {handle.id} deleted")
    await expect(page.locator(f'tr[data-schedule-id="{handle.id}"]')).to_have_count(0)


async def test_the_task_queue_of_a_workflow_shows_its_worker(
    page: Page, base_url: str, sdk_client: Client, task_queue: str, ui_worker: Worker, screenshots: Path
) -> None:
    handle = await sdk_client.start_workflow(
        workflows_ui.Greeter.run, {"name": "Queue"}, id=f"greet-{uuid.uuid4().hex[:8]}", task_queue=task_queue
    )
    await handle.result()
    queue_url = base_url + f"/namespaces/default/task-queues/{task_queue}"
    await eventually(lambda: _polled_by(page, queue_url, sdk_client.identity))
    await page.goto(base_url + f"/namespaces/default/workflows/{handle.id}/{handle.result_run_id}/history")
    await page.locator("[data-field=task-queue] a").click()
    assert page.url == queue_url
    workflow_side = page.locator("[data-queue=workflow]")
    await expect(workflow_side.locator(f'tr[data-identity="{sdk_client.identity}"]')).to_have_count(1)
    await expect(workflow_side.locator("[data-field=backlog]")).to_have_text("0")
    await expect(page.locator("[data-queue=activity] [data-field=poller-count]")).to_have_text("0")
    await _shot(page, screenshots, "task-queue")
