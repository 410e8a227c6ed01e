"""KeyedLocks: starts of one workflow ID go one at a time, and no lock outlives its users."""

from __future__ import annotations

import asyncio

from cadenza.history.service.engine import KeyedLocks


async def test_holders_of_one_key_go_one_at_a_time() -> None:
    locks = KeyedLocks()
    inside: list[str] = []
    order: list[str] = []

    async def hold(name: str) -> None:
        async with locks.hold("wf"):
            inside.append(name)
            assert len(inside) == 1
            await asyncio.sleep(0.01)
            order.append(name)
            inside.remove(name)

    await asyncio.gather(hold("a"), hold("b"), hold("c"))
    assert order == ["a", "b", "c"]


async def test_different_keys_do_not_wait_for_each_other() -> None:
    locks = KeyedLocks()
    async with locks.hold("wf-1"):
        async with asyncio.timeout(1):
            async with locks.hold("wf-2"):
                pass


async def test_the_lock_is_forgotten_once_its_last_user_leaves() -> None:
    locks = KeyedLocks()
    waiting = asyncio.Event()

    async def second() -> None:
        waiting.set()
        async with locks.hold("wf"):
            pass

    async with locks.hold("wf"):
        task = asyncio.create_task(second())
        await waiting.wait()
        await asyncio.sleep(0)
    await task
    assert len(locks) == 0


async def test_a_cancelled_waiter_leaves_no_lock_behind() -> None:
    locks = KeyedLocks()

    async def waiter() -> None:
        async with locks.hold("wf"):
            pass

    async with locks.hold("wf"):
        task = asyncio.create_task(waiter())
        await asyncio.sleep(0)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert len(locks) == 0
