"""The run tabs and the update, reset and start actions in headless Chromium, on real runs of the
SDK's worker; a screenshot of each tab is left in the ``screenshots`` folder."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from playwright.async_api import Dialog, Page, expect
from temporalio.client import Client
from temporalio.worker import Worker

from tests.acceptance import workflows_messages as wm
from tests.web.ui import workflows_tabs
from tests.web.ui.run_tabs_support import run_path, tabs_worker, tended_waiting

__all__ = ["tabs_worker"]


async def _accept(dialog: Dialog) -> None:
    await dialog.accept()


async def _shot(page: Page, folder: Path, name: str) -> None:
    await page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


async def test_pending_activities_call_stack_and_update(
    page: Page, base_url: str, sdk_client: Client, task_queue: str, tabs_worker: Worker, screenshots: Path
) -> None:
    handle = await tended_waiting(sdk_client, task_queue)
    page.on("dialog", _accept)
    await page.goto(base_url + run_path(handle.id, handle.result_run_id) + "/history")
    await page.get_by_role("link", name="Pending activities").click()
    activity = page.locator("article.pending-activity")
    await expect(activity.locator("[data-field=attempt]")).to_have_text("3")
    await expect(activity.locator("[data-field=maximum-attempts]")).to_have_text(
        str(workflows_tabs.MAXIMUM_ATTEMPTS)
    )
    await expect(activity.locator("[data-field=last-failure]")).to_have_text("attempt 2 failed")
    details = await activity.locator("[data-field=heartbeat-details]").inner_text()
    assert json.loads(details) == {"job": "polish", "attempt": 3}
    await _shot(page, screenshots, "workflow-pending-activities")

    await page.get_by_role("link", name="Call stack").click()
    await expect(page.locator("[data-field=call-stack]")).to_contain_text(
        "activity: stubborn (workflow: Tended"
    )
    await _shot(page, screenshots, "workflow-call-stack")

    await page.get_by_role("link", name="History").click()
    update = page.locator("form[action$='/actions/update']")
    await update.get_by_label("Name").fill("note")
    await update.get_by_label("Arguments (JSON)").fill('"first"')
    await update.get_by_label("Confirm").check()
    await update.get_by_role("button", name="Send update").click()
    await expect(page.locator("[data-field=notice]")).to_have_text("update note completed: 1")
    await handle.terminate()


async def test_relationships_reset_and_start(
    page: Page, base_url: str, sdk_client: Client, task_queue: str, tabs_worker: Worker, screenshots: Path
) -> None:
    page.on("dialog", _accept)
    parent = await sdk_client.start_workflow(
        wm.Parent.run, "Kim", id=f"parent-{uuid.uuid4().hex[:8]}", task_queue=task_queue
    )
    await parent.result()
    await page.goto(base_url + run_path(parent.id, parent.result_run_id) + "/relationships")
    await expect(page.locator("tr[data-child] [data-field=child-state]")).to_have_text("Completed")
    await _shot(page, screenshots, "workflow-relationships")
    await page.get_by_role("link", name=f"{parent.id}-child").click()
    await expect(page.locator("[data-field=parent]")).to_have_text(parent.id)

    countdown = await sdk_client.start_workflow(
        wm.Countdown.run, 2, id=f"countdown-{uuid.uuid4().hex[:8]}", task_queue=task_queue
    )
    await countdown.result()
    await page.goto(base_url + run_path(countdown.id, countdown.result_run_id) + "/relationships")
    chain = page.locator("[data-field=chain] li")
    await expect(chain).to_have_count(3)
    await expect(chain.locator("[data-field=began]")).to_have_text(
        ["first run", "continued as new", "continued as new"]
    )
    await _shot(page, screenshots, "workflow-run-chain")
    await chain.last.get_by_role("link").click()
    await expect(page.locator("[data-field=chain] li[aria-current]")).to_have_attribute(
        "data-run-id", await page.locator("[data-field=run-id]").inner_text()
    )
    await expect(page.locator("[data-field=status]")).to_have_text("Completed")

    await page.goto(base_url + run_path(parent.id, parent.result_run_id) + "/history")
    reset = page.locator("form[action$='/actions/reset']")
    await reset.get_by_label("Reason").fill("once more")
    await reset.get_by_label("Confirm").check()
    await reset.get_by_role("button", name="Reset").click()
    await expect(page.locator("[data-field=notice]")).to_contain_text("this is the new run")
    new_run = await page.locator("[data-field=run-id]").inner_text()
    assert new_run != parent.result_run_id
    await expect(page.locator("[data-field=reset-from] a")).to_have_text(parent.result_run_id or "")
    await page.goto(base_url + run_path(parent.id, parent.result_run_id) + "/relationships")
    await page.locator(f"[data-field=other-runs] [data-run-id='{new_run}'] a").click()
    await expect(page.locator("[data-field=reset-from] a")).to_have_text(parent.result_run_id or "")

    await page.goto(base_url + "/namespaces/default/workflows")
    await page.get_by_text("Start a workflow").first.click()
    form = page.locator("form[action$='/start-workflow']")
    workflow_id = f"started-{uuid.uuid4().hex[:8]}"
    await form.get_by_label("Workflow type").fill("Mailbox")
    await form.get_by_label("Workflow ID").fill(workflow_id)
    await form.get_by_label("Task queue").fill(task_queue)
    await form.get_by_label("Confirm").check()
    await _shot(page, screenshots, "workflows-start-form")
    await form.get_by_role("button", name="Start workflow").click()
    await expect(page.locator("[data-field=type]")).to_have_text("Mailbox")
    await page.goto(f"{base_url}/namespaces/default/workflows?id={workflow_id}")
    await expect(page.locator(f'tr[data-workflow-id="{workflow_id}"] .status')).to_have_text("Running")
    await sdk_client.get_workflow_handle(workflow_id).signal(wm.Mailbox.finish)
