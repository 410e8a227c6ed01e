"""The UI in headless Chromium: each page shows what the server holds, each action has its
effect, and a running workflow's page follows its history live. A screenshot of each main page
is left in the ``screenshots`` folder."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Dialog, Download, Page, expect
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle, WorkflowHistory
from temporalio.worker import Replayer, Worker

from tests.acceptance import workflows_messages as wm
from tests.web.ui import workflows_ui

Handle = WorkflowHandle[Any, Any]


async def _downloaded(download: Download) -> str:
    """The text of a file the browser downloaded."""
    return await asyncio.to_thread(Path(await download.path()).read_text)


async def _shot(page: Page, folder: Path, name: str) -> None:
    await page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


async def _accept(dialog: Dialog) -> None:
    await dialog.accept()


async def _run_three(client: Client, task_queue: str) -> tuple[Handle, Handle, Handle]:
    """A completed, a failed and a running workflow."""
    tag = uuid.uuid4().hex[:8]
    greeted = await client.start_workflow(
        workflows_ui.Greeter.run, {"name": "Ada"}, id=f"greet-{tag}", task_queue=task_queue
    )
    await greeted.result()
    broken = await client.start_workflow(workflows_ui.Broken.run, id=f"broken-{tag}", task_queue=task_queue)
    try:
        await broken.result()
    except Exception:  # the failure is what this workflow is for
        pass
    waiting = await client.start_workflow(
        wm.Mailbox.run, id=f"mailbox-{tag}", task_queue=task_queue, memo={"owner": "ops"}
    )
    return greeted, broken, waiting


def _path(handle: Handle) -> str:
    return f"/namespaces/default/workflows/{handle.id}/{handle.result_run_id}"


async def test_namespace_pages(page: Page, base_url: str, screenshots: Path) -> None:
    await page.goto(base_url + "/")
    assert page.url == base_url + "/namespaces/default/workflows"
    await page.goto(base_url + "/namespaces")
    await expect(page.get_by_role("link", name="default", exact=True).first).to_be_visible()
    await _shot(page, screenshots, "namespaces")
    await page.goto(base_url + "/namespaces/default")
    await expect(page.locator("[data-field=retention]")).to_have_text("1 day, 0:00:00")
    await expect(page.get_by_role("cell", name="WorkflowType", exact=True)).to_be_visible()
    await _shot(page, screenshots, "namespace")


async def test_pages_follow_a_dark_system_setting_and_the_keyboard(
    browser: Browser, base_url: str, screenshots: Path
) -> None:
    context = await browser.new_context(color_scheme="dark")
    try:
        dark = await context.new_page()
        await dark.goto(base_url + "/namespaces/default/workflows")
        background = await dark.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(15, 18, 22)"
        await _shot(dark, screenshots, "workflows-dark")
        await dark.keyboard.press("Tab")
        await expect(dark.get_by_role("link", name="Skip to content")).to_be_focused()
        await dark.keyboard.press("Enter")
        await dark.keyboard.press("Tab")
        await expect(dark.locator("input[name=query]")).to_be_focused()
    finally:
        await context.close()


async def test_pages_load_nothing_from_elsewhere_and_are_light_by_default(
    page: Page, base_url: str, sdk_client: Client, task_queue: str, ui_worker: Worker
) -> None:
    """No CDN: everything a page asks for (styles, scripts, fonts, images) comes from the server."""
    greeted = await sdk_client.start_workflow(
        workflows_ui.Greeter.run, {"name": "Ada"}, id=f"greet-{uuid.uuid4().hex[:8]}", task_queue=task_queue
    )
    await greeted.result()
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    run = _path(greeted)
    for path in (
        "/namespaces",
        "/namespaces/default",
        "/namespaces/default/workflows",
        f"{run}/history",
        f"{run}/graph",
        f"{run}/timeline",
        f"{run}/relationships",
        "/namespaces/default/schedules",
        f"/namespaces/default/task-queues/{task_queue}",
    ):
        answer = await page.goto(base_url + path, wait_until="networkidle")
        assert answer is not None and answer.status == 200, path
    assert await page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(255, 255, 255)"
    assert any(url.endswith("/static/ui.css") for url in asked)
    assert [url for url in asked if not url.startswith(base_url + "/")] == []


async def test_workflow_list_filters_counts_and_export(
    page: Page, base_url: str, sdk_client: Client, task_queue: str, ui_worker: Worker, screenshots: Path
) -> None:
    greeted, broken, waiting = await _run_three(sdk_client, task_queue)
    mine = f'TaskQueue = "{task_queue}"'
    await page.goto(f"{base_url}/namespaces/default/workflows?query={mine}")
    rows = page.locator("table.workflows tbody tr")
    await expect(rows).to_have_count(3)
    for handle, status in ((greeted, "Completed"), (broken, "Failed"), (waiting, "Running")):
        row = page.locator(f'tr[data-workflow-id="{handle.id}"]')
        await expect(row.locator(".status")).to_have_text(status)
    for status in ("All", "Completed", "Failed", "Running"):
        expected = "3" if status == "All" else "1"
        await expect(page.locator(f'.counts [data-status="{status}"] strong')).to_have_text(expected)
    await _shot(page, screenshots, "workflows")

    await page.select_option("select[name=status]", "Failed")
    await page.get_by_role("button", name="Filter").click()
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_have_attribute("data-workflow-id", broken.id)
    assert "status=Failed" in page.url  # the filter is in the URL, to be shared

    await page.goto(f"{base_url}/namespaces/default/workflows?query={mine}&type=Greeter")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_have_attribute("data-workflow-id", greeted.id)

    async with page.expect_download() as csv_download:
        await page.get_by_role("link", name="CSV").click()
    text = await _downloaded(await csv_download.value)
    assert greeted.id in text and "Completed" in text and broken.id not in text
    exported = await page.request.get(f"{base_url}/namespaces/default/workflows.json?query={mine}")
    assert {item["execution"]["workflowId"] for item in await exported.json()} == {
        greeted.id,
        broken.id,
        waiting.id,
    }
    await waiting.signal(wm.Mailbox.finish)


async def test_completed_and_failed_workflow_pages(
    page: Page, base_url: str, sdk_client: Client, task_queue: str, ui_worker: Worker, screenshots: Path
) -> None:
    greeted, broken, waiting = await _run_three(sdk_client, task_queue)
    await page.goto(base_url + _path(greeted) + "/history")
    await expect(page.locator("[data-field=status]")).to_have_text("Completed")
    await expect(page.locator("[data-field=type]")).to_have_text("Greeter")
    await expect(page.locator("[data-field=task-queue]")).to_have_text(task_queue)
    assert json.loads(await page.get_by_label("input", exact=True).inner_text()) == {"name": "Ada"}
    assert json.loads(await page.get_by_label("result", exact=True).inner_text()) == {
        "greeting": "Hello, Ada!"
    }
    raw = page.locator("[data-field=outcome] details").first
    await raw.locator("summary").click()
    assert json.loads(await raw.locator("pre.raw").inner_text())["metadata"]["encoding"] == "anNvbi9wbGFpbg=="
    await expect(page.locator("tbody[data-field=events] .event-type").last).to_have_text(
        "WorkflowExecutionCompleted"
    )
    await expect(page.get_by_role("link", name="Graph")).to_have_attribute("href", _path(greeted) + "/graph")
    await _shot(page, screenshots, "workflow-completed")

    async with page.expect_download() as history_download:
        await page.get_by_role("link", name="Download history.json").click()
    history = WorkflowHistory.from_json(greeted.id, await _downloaded(await history_download.value))
    await Replayer(workflows=[workflows_ui.Greeter]).replay_workflow(history)

    await page.goto(base_url + _path(broken) + "/history")
    await expect(page.locator("[data-field=status]")).to_have_text("Failed")
    await expect(page.locator("[data-field=outcome] .failure")).to_contain_text("broken on purpose")
    await _shot(page, screenshots, "workflow-failed")
    await waiting.signal(wm.Mailbox.finish)


async def test_live_updates_and_actions(
    page: Page, base_url: str, sdk_client: Client, task_queue: str, ui_worker: Worker, screenshots: Path
) -> None:
    _, _, waiting = await _run_three(sdk_client, task_queue)
    page.on("dialog", _accept)
    await page.goto(base_url + _path(waiting) + "/history")
    await expect(page.locator("[data-field=status]")).to_have_text("Running")
    await expect(page.locator("dd", has_text='"ops"')).to_be_visible()  # the memo, decoded

    # An event the SDK causes appears without a reload, and what is being typed stays.
    signal = page.locator("form[action$='/actions/signal']")
    await signal.get_by_label("Name").fill("deliver")
    await waiting.signal(wm.Mailbox.deliver, "from the SDK")
    await expect(page.locator("tbody[data-field=events]")).to_contain_text("WorkflowExecutionSignaled")
    await expect(signal.get_by_label("Name")).to_have_value("deliver")
    await _shot(page, screenshots, "workflow-running")

    await signal.get_by_label("Input (JSON)").fill('"from the UI"')
    await signal.get_by_label("Confirm").check()
    await signal.get_by_role("button", name="Send signal").click()
    await expect(page.locator("[data-field=notice]")).to_have_text("signal deliver sent")

    query = page.locator("form[action$='/actions/query']")
    await query.get_by_label("Name").fill("count")
    await query.get_by_role("button", name="Run query").click()
    await expect(page.locator("[data-field=notice]")).to_have_text("query count answered: 2")

    terminate = page.locator("form[action$='/actions/terminate']")
    await terminate.get_by_label("Reason").fill("enough")
    await terminate.get_by_label("Confirm").check()
    await terminate.get_by_role("button", name="Terminate").click()
    await expect(page.locator("[data-field=status]")).to_have_text("Terminated")
    description = await waiting.describe()
    assert description.status == WorkflowExecutionStatus.TERMINATED

    _, _, other = await _run_three(sdk_client, task_queue)
    await page.goto(base_url + _path(other) + "/history")
    cancel = page.locator("form[action$='/actions/cancel']")
    await cancel.get_by_label("Confirm").check()
    await cancel.get_by_role("button", name="Request cancellation").click()
    await expect(page.locator("[data-field=notice]")).to_have_text("cancellation requested")
    await expect(page.locator("[data-field=status]")).to_have_text("Canceled")  # live, once the worker acts
    assert (await other.describe()).status == WorkflowExecutionStatus.CANCELED


async def test_a_child_and_its_parent_link_to_each_other(
    page: Page, base_url: str, sdk_client: Client, task_queue: str, ui_worker: Worker
) -> None:
    parent = await sdk_client.start_workflow(
        wm.Parent.run, "Kim", id=f"parent-{uuid.uuid4().hex[:8]}", task_queue=task_queue
    )
    assert await parent.result() == "parent got child Kim"
    child = sdk_client.get_workflow_handle(f"{parent.id}-child")
    child_run = (await child.describe()).run_id
    await page.goto(f"{base_url}/namespaces/default/workflows/{child.id}/{child_run}/history")
    assert json.loads(await page.get_by_label("result", exact=True).inner_text()) == "child Kim"
    await page.get_by_role("link", name=parent.id, exact=True).click()
    await expect(page.locator("[data-field=type]")).to_have_text("Parent")
    await expect(page.locator("tbody[data-field=events]")).to_contain_text("ChildWorkflowExecutionCompleted")
    await expect(page.locator("[data-field=child]")).to_have_text(f"{child.id} (Child)")
