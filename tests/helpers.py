"""Helpers shared by the tests: wait for a condition by polling it, the SDK worker they run, and a
free port to listen on."""

from __future__ import annotations

import asyncio
import inspect
import random
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
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
    """A loopback TCP port nothing listens on at the moment, for a server's command line.

    It is drawn below the kernel's ephemeral range: a port the kernel picks for ``bind(0)`` can
    be handed to an outgoing connection's local end before the server that was told to listen
    on it binds it, which fails that server's start. No port is handed out twice in a session,
    so a server not yet listening keeps the ports it was given."""
    low = _ephemeral_ports_start()
    if low - _LOWEST_TEST_PORT < 1_000:
        return _kernel_picked_port()
    while True:
        port = random.randrange(_LOWEST_TEST_PORT, low)
        if port in _handed_out:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port


_LOWEST_TEST_PORT = 10_000
_handed_out: set[int] = set()


def _kernel_picked_port() -> int:
    """A free port the kernel picks, for a machine whose ephemeral range leaves no room below."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ephemeral_ports_start() -> int:
    """The first port of the kernel's range for outgoing connections (32768 by default)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768


async def dispatched(handle: WorkflowHandle[Any, Any]) -> bool:
    """Whether the run's first workflow task was scheduled."""
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
            return True
    return False
