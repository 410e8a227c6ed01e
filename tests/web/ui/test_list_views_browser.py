"""The workflow list's views in headless Chromium: a column chosen, the list sorted by start
time one way then the other, saved as a view and reopened from the saved views beside the
list. A screenshot of the list is left in the ``screenshots`` folder."""

from __future__ import annotations

import uuid
from pathlib import Path
from urllib.parse import quote

from playwright.async_api import Dialog, Page, expect
from temporalio.client import Client
from temporalio.worker import Worker

from tests.web.ui import workflows_ui


async def _accept(dialog: Dialog) -> None:
    await dialog.accept()


async def test_a_column_chosen_and_an_order_saved_as_a_view_come_back_when_it_is_opened(
    page: Page, base_url: str, sdk_client: Client, task_queue: str, ui_worker: Worker, screenshots: Path
) -> None:
    prefix = f"view-{uuid.uuid4().hex[:6]}"
    ids = []
    for index in range(3):
        handle = await sdk_client.start_workflow(
            workflows_ui.Greeter.run, {"name": "Ada"}, id=f"{prefix}-{index}", task_queue=task_queue
        )
        await handle.result()
        ids.append(handle.id)
    page.on("dialog", _accept)
    query = quote(f'WorkflowId STARTS_WITH "{prefix}"')
    await page.goto(f"{base_url}/namespaces/default/workflows?query={query}")
    rows = page.locator("table.workflows tbody tr")

    await page.locator("details.columns summary").click()
    await page.locator("details.columns").get_by_label("Task queue", exact=True).check()
    await page.get_by_role("button", name="Show columns").click()
    await expect(page.locator("th[data-column=TaskQueue]")).to_be_visible()
    await expect(rows.first.locator("td[data-column=TaskQueue]")).to_have_text(task_queue)

    await page.locator("th[data-column=StartTime] a").click()
    await expect(page.locator("th[data-column=StartTime]")).to_have_attribute("aria-sort", "descending")
    await expect(rows.first).to_have_attribute("data-workflow-id", ids[-1])
    await page.locator("th[data-column=StartTime] a").click()
    await expect(page.locator("th[data-column=StartTime]")).to_have_attribute("aria-sort", "ascending")
    await expect(rows.first).to_have_attribute("data-workflow-id", ids[0])

    name = f"Oldest greeters {prefix}"
    save = page.locator("form[action$='/saved-views']")
    await save.get_by_label("Name").fill(name)
    await save.get_by_label("Confirm").check()
    await save.get_by_role("button", name="Save view").click()
    await expect(page.locator(f'li[data-view="{name}"] a')).to_have_attribute("aria-current", "true")

    await page.goto(f"{base_url}/namespaces/default/workflows")
    await expect(page.locator("th[data-column=TaskQueue]")).to_have_count(0)
    await page.get_by_role("link", name=name).click()
    await expect(page.locator("th[data-column=TaskQueue]")).to_be_visible()
    await expect(page.locator("th[data-column=StartTime]")).to_have_attribute("aria-sort", "ascending")
    await expect(rows).to_have_count(3)
    await expect(rows.first).to_have_attribute("data-workflow-id", ids[0])
    await page.screenshot(path=str(screenshots / "workflow-list-views.png"), full_page=True)
