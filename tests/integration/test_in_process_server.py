"""The in-process test server: the real Server serves an SDK client and worker on the test's
event loop, starts empty or on a file it keeps, and leaves nothing behind when it stops."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from tests import servers
from tests.acceptance import workflows as w
from tests.helpers import Registered, worker_for

GREETER = Registered([w.OneActivity], [w.shout])


async def greet(client: Client, workflow_id: str, task_queue: str) -> str:
    async with worker_for(client, task_queue, GREETER):
        return await client.execute_workflow(
            w.OneActivity.run, "there", id=workflow_id, task_queue=task_queue
        )


async def test_an_sdk_worker_completes_a_workflow_through_it(
    in_process_client: Client, workflow_id: str, task_queue: str
) -> None:
    assert await greet(in_process_client, workflow_id, task_queue) == "Hello, there!"


async def test_it_stops_with_nothing_left_running_and_its_port_closed(
    workflow_id: str, task_queue: str
) -> None:
    before = asyncio.all_tasks()
    async with servers.in_process() as server:
        assert await greet(await Client.connect(server.address), workflow_id, task_queue) == "Hello, there!"
    left = {task for task in asyncio.all_tasks() - before if not task.done()}
    assert not left, f"still running after stop: {left}"
    host, port = server.address.rsplit(":", 1)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((host, int(port)), timeout=5).close()


async def test_each_one_starts_empty(workflow_id: str, task_queue: str) -> None:
    async with servers.in_process() as first:
        await greet(await Client.connect(first.address), workflow_id, task_queue)
    async with servers.in_process() as second:
        handle = (await Client.connect(second.address)).get_workflow_handle(workflow_id)
        with pytest.raises(RPCError) as raised:
            await handle.describe()
    assert raised.value.status == RPCStatusCode.NOT_FOUND


async def test_on_a_file_it_finds_its_data_again(tmp_path: Path, workflow_id: str, task_queue: str) -> None:
    db = tmp_path / "kept.db"
    async with servers.in_process(db) as first:
        await greet(await Client.connect(first.address), workflow_id, task_queue)
    async with servers.in_process(db) as second:  # the first let go of the file's lock
        handle = (await Client.connect(second.address)).get_workflow_handle(workflow_id)
        assert await handle.result() == "Hello, there!"
