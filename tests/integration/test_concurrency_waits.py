"""Starts waiting for a slot of a full ``queue`` workflow limit wake when a slot frees, and only
then: a start that finds the limit still full takes nothing and so frees nothing, and waking the
other waiting starts would have each wake the next in turn for as long as they wait."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from cadenza.clock import SystemClock
from cadenza.concurrency import WORKFLOW_TYPE, ConcurrencyLimits
from cadenza.concurrency.limits import QUEUE
from cadenza.concurrency.starts import LimitFull, StartSlots
from cadenza.persistence.backends import open_store
from cadenza.persistence.concurrency_records import ConcurrencyLimitRecord


@pytest.fixture
async def limits() -> AsyncIterator[ConcurrencyLimits]:
    """The limits of a fresh in-memory store, with one workflow type limited to one running."""
    store = open_store(":memory:")
    await store.open()
    limits = ConcurrencyLimits(store, SystemClock(), shared=False)
    await limits.set_limit(ConcurrencyLimitRecord("ns", WORKFLOW_TYPE, "Pay", 1, 0, QUEUE))
    try:
        yield limits
    finally:
        await limits.stop()
        await store.close()


async def settle() -> None:
    """Let every task that is ready run (a woken waiter returns within a few loop turns)."""
    for _ in range(20):
        await asyncio.sleep(0)


async def test_a_start_that_finds_the_limit_full_wakes_no_waiting_start(limits: ConcurrencyLimits) -> None:
    starts = StartSlots(limits)
    holder = await starts.wait_admit("ns", "Pay", "holder")
    assert holder
    waiting = asyncio.create_task(limits.wait_freed(60))
    await settle()

    with pytest.raises(LimitFull):  # a deadline already past: one try, no wait
        await starts.wait_admit("ns", "Pay", "second", deadline=0.0)
    await settle()
    assert not waiting.done()

    limits.give_back_slots(holder)  # a slot really freed wakes it
    await settle()
    assert waiting.done()
