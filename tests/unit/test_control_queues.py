"""The workers' control queues: in memory, one poll per task, answered once."""

from __future__ import annotations

import asyncio

import pytest

from cadenza.exceptions import InvalidArgumentError
from cadenza.matching import MatchingService
from cadenza.matching.control import CONTROL_KIND, ControlTaskToken
from cadenza.worker_commands import WorkerCommands

NORMAL_KIND = 1


def commands(queue: str = "control-1", namespace_id: str = "ns") -> WorkerCommands:
    return WorkerCommands(namespace_id, queue, (b"token-a", b"token-b"))


async def test_pushed_commands_go_to_the_queue_poller_and_are_answered_once() -> None:
    matching = MatchingService()
    matching.control.push(commands())
    task = await matching.control.poll("ns", "control-1", CONTROL_KIND, 1.0, "")
    assert task is not None and task.commands == commands()
    assert matching.control.finish("other-ns", task.task_id) is None
    assert matching.control.finish("ns", task.task_id) == task
    assert matching.control.finish("ns", task.task_id) is None


async def test_waiting_poll_gets_commands_pushed_later() -> None:
    matching = MatchingService()
    poll = asyncio.create_task(matching.control.poll("ns", "control-1", CONTROL_KIND, 5.0, ""))
    await asyncio.sleep(0)
    matching.control.push(commands())
    task = await poll
    assert task is not None and task.commands.cancel_activities == (b"token-a", b"token-b")


async def test_ordinary_nexus_queue_of_the_same_name_gets_nothing() -> None:
    matching = MatchingService()
    matching.control.push(commands())
    assert await matching.control.poll("ns", "control-1", NORMAL_KIND, 0.05, "") is None


async def test_worker_shutdown_ends_its_control_poll() -> None:
    matching = MatchingService()
    poll = asyncio.create_task(matching.control.poll("ns", "control-1", CONTROL_KIND, 30.0, "worker-1"))
    await asyncio.sleep(0)
    matching.end_polls("worker-1")
    assert await asyncio.wait_for(poll, 1.0) is None


def test_control_token_round_trip_and_rejects() -> None:
    token = ControlTaskToken("ns", "control-1", "task-1")
    assert ControlTaskToken.decode(token.encode()) == token
    with pytest.raises(InvalidArgumentError, match=r"Error deserializing task token\."):
        ControlTaskToken.decode(b'{"v":1,"namespace_id":"ns","workflow_id":"w"}')
    with pytest.raises(InvalidArgumentError, match=r"Invalid TaskToken\."):
        ControlTaskToken.decode(ControlTaskToken("ns", "", "task-1").encode())
