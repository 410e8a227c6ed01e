"""Helpers shared by the tests: wait for a condition by polling it, the SDK worker they run, and a
free port to listen on."""

from __future__ import annotations

import asyncio
import inspect
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, overload

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle
from temporalio.worker import Worker

T = TypeVar("T")


@overload
async def eventually(check: Callable[[], Awaitable[T]], timeout: float = ..., interval: float = ...) -> T: ...


@overload
async def eventually(check: Callable[[], T], timeout: float = ..., interval: float = ...) -> T: ...


async def eventually(check: Callable[[], Any], timeout: float = 20.0, interval: float = 0.1) -> Any:
    """Poll ``check`` until it holds, and return what it returned.

    ``check`` is a predicate or an assertion, plain or async: it holds once it
    returns without raising AssertionError and returns anything but ``False``.
    After ``timeout`` seconds the last AssertionError is raised again, or one
    saying that the predicate never held.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
            value = await result if inspect.isawaitable(result) else result
            if value is not False:
                return value
            failure = AssertionError(f"{getattr(check, '__qualname__', check)} never held in {timeout} s")
        except AssertionError as exc:
            failure = exc
        if time.monotonic() > deadline:
            raise failure
        await asyncio.sleep(interval)


@dataclass(frozen=True)
class Registered:
    """The workflows and activities a test's worker runs."""

    workflows: Sequence[type]
    activities: Sequence[Callable[..., Any]] = ()


def worker_for(client: Client, task_queue: str, registered: Registered) -> Worker:
    """A worker to run with ``async with``; the ``worker`` fixture is one, started for a test."""
    return Worker(
        client, task_queue=task_queue, workflows=registered.workflows, activities=registered.activities
    )


def free_port() -> int:
    """A loopback TCP port nothing listens on at the moment, for a server's command line."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def dispatched(handle: WorkflowHandle[Any, Any]) -> bool:
    """Whether the run's first workflow task was scheduled."""
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
            return True
    return False
