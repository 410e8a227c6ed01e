"""The graph page in real headless Chromium: a finished run drawn with the right nodes, its child
workflow a link into the child's own graph, and the timeline beside it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client

from tests.helpers import Registered, worker_for
from tests.servers import in_process
from tests.web import workflows_drawn as wd
from tests.web.drawn_runs import run_drawn

CHROMIUM = Path("/usr/bin/chromium")

playwright_api = pytest.importorskip("playwright.async_api")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed")


async def screenshot(page: Any, name: str) -> None:
    """A full-page screenshot into ``CADENZA_SCREENSHOTS`` (made if missing), when it names a folder."""
    folder = os.environ.get("CADENZA_SCREENSHOTS")
    if folder:
        await page.screenshot(path=os.path.join(folder, f"{name}.png"), full_page=True)


async def test_the_graph_page_draws_the_run_and_links_its_child() -> None:
    async with in_process(http_port=0) as server:
        assert server.server.addresses is not None
        base = f"http://{server.server.addresses.http}"
        client = await Client.connect(server.address)
        async with worker_for(client, "drawn-browser", Registered(wd.WORKFLOWS, wd.ACTIVITIES)):
            handle = await run_drawn(client, "drawn/browser", "drawn-browser")
        child_run = (await client.get_workflow_handle("drawn/browser-packer").describe()).run_id
        async with playwright_api.async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=str(CHROMIUM))
            try:
                page = await browser.new_page()
                run = handle.result_run_id
                await page.goto(f"{base}/namespaces/default/workflows/drawn%2Fbrowser/{run}/graph")
                nodes = page.locator("svg.cz-graph g.cz-node")
                labels = await nodes.locator("text.cz-strong").all_text_contents()
                assert labels == [
                    "Drawn",
                    "fetch",
                    "fetch",
                    "fetch",
                    "timer 1",
                    "Packer",
                    "approve",
                    "charge",
                    "note",
                    "completed",
                ]
                charge = page.locator("svg.cz-graph g.cz-node.cz-failed")
                assert "3 attempts" in (await charge.text_content() or "")
                assert await page.locator("svg.cz-graph path.cz-edge").count() > 0
                await screenshot(page, "workflow-graph")

                await page.get_by_role("link", name="child workflow Packer: open its graph").click()
                await page.wait_for_url(
                    f"**/namespaces/default/workflows/drawn%2Fbrowser-packer/{child_run}/graph"
                )
                child_labels = await page.locator("svg.cz-graph text.cz-strong").all_text_contents()
                assert child_labels == ["Packer", "completed"]

                await page.goto(f"{base}/namespaces/default/workflows/drawn%2Fbrowser/{run}/timeline")
                rows = page.locator("svg.cz-timeline g.cz-row")
                assert await rows.count() == 8
                await screenshot(page, "workflow-timeline")

                await page.emulate_media(color_scheme="dark")
                await page.goto(f"{base}/namespaces/default/workflows/drawn%2Fbrowser/{run}/graph")
                await screenshot(page, "workflow-graph-dark")
            finally:
                await browser.close()
