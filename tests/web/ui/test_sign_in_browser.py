"""In Chromium, with auth on: a page asks for a key, the key signs the browser in (kept where no
script reads it), a reader's key sees the workflows, and signing out asks again."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Page, expect
from temporalio.client import Client

from cadenza.auth.api_keys import issue_key, new_key
from cadenza.auth.principal import Role
from tests.servers import InProcessServer, in_process


@pytest.fixture(scope="module")
async def authed_server() -> AsyncIterator[InProcessServer]:
    async with in_process(auth=True, http_port=0) as server:
        yield server


async def test_a_reader_signs_in_sees_the_workflows_and_signs_out(
    authed_server: InProcessServer, page: Page
) -> None:
    store = authed_server.server._store
    reader = await issue_key(store, new_key("default", Role.READER, time.time()))
    writer = await issue_key(store, new_key("default", Role.WRITER, time.time()))
    client = await Client.connect(authed_server.address, api_key=writer, tls=False)
    await client.start_workflow("Waiting", id="signed-in-sees-me", task_queue="nobody-polls")
    assert authed_server.server.addresses is not None
    base = f"http://{authed_server.server.addresses.http}"

    await page.goto(f"{base}/namespaces/default/workflows")
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await page.get_by_label("API key").fill(reader)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(f"{base}/namespaces/default/workflows")
    await expect(page.get_by_role("link", name="signed-in-sees-me")).to_be_visible()
    assert reader not in await page.evaluate("document.cookie"), "no script can read the key"

    await page.get_by_role("link", name="signed-in-sees-me").click()
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
