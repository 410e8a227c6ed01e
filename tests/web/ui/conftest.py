"""A Cadenza server in this process with workflows run by an SDK worker, and headless Chromium
(Debian's, driven by Playwright) to look at its pages; the browser tests skip where either is
missing."""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright
from temporalio.client import Client
from temporalio.worker import Worker

from tests.acceptance import workflows_messages as wm
from tests.helpers import Registered, worker_for
from tests.servers import InProcessServer, in_process
from tests.web.ui import workflows_ui

CHROMIUM = "/usr/bin/chromium"
HAS_CHROMIUM = Path(CHROMIUM).exists()
UI_WORKFLOWS = Registered([workflows_ui.Greeter, workflows_ui.Broken, wm.Mailbox, wm.Parent, wm.Child])


@pytest.fixture(scope="module")
async def ui_server() -> AsyncIterator[InProcessServer]:
    async with in_process(http_port=0) as server:
        yield server


@pytest.fixture(scope="module")
def base_url(ui_server: InProcessServer) -> str:
    assert ui_server.server.addresses is not None
    return f"http://{ui_server.server.addresses.http}"


@pytest.fixture(scope="module")
async def sdk_client(ui_server: InProcessServer) -> Client:
    return await Client.connect(ui_server.address)


@pytest.fixture
async def ui_worker(sdk_client: Client, task_queue: str) -> AsyncIterator[Worker]:
    async with worker_for(sdk_client, task_queue, UI_WORKFLOWS) as running:
        yield running


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """Where the tests leave a screenshot of each main page: ``CADENZA_SCREENSHOTS``, or a
    temporary folder."""
    folder = Path(os.environ.get("CADENZA_SCREENSHOTS") or tempfile.mkdtemp(prefix="cadenza-screenshots-"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    if not HAS_CHROMIUM:
        pytest.skip("no Chromium at /usr/bin/chromium (apt-get install chromium)")
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    opened = await context.new_page()
    opened.set_default_timeout(15_000)
    try:
        yield opened
    finally:
        await context.close()
