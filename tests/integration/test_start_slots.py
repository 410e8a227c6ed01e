"""``StartSlots``, the one way every workflow start takes its concurrency slots, run on every
backend with the real limits: a start that writes no run gives its slots back, and a full
``queue`` limit is answered as each kind of caller asks (the run waits, not yet, wait until a
deadline, wait while wanted), a full ``reject`` limit refusing them all."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest
from temporalio.api.workflowservice.v1 import StartWorkflowExecutionRequest

from cadenza.clock import SystemClock
from cadenza.concurrency import ConcurrencyLimits
from cadenza.concurrency.starts import (
    NOT_YET,
    RUN_WAITS,
    LimitFull,
    StartSlots,
    WaitUntil,
    WaitWhileWanted,
    WhenQueued,
)
from cadenza.persistence.concurrency_records import ConcurrencyLimitRecord
from cadenza.persistence.store import Store
from tests.helpers import eventually

LIMIT_KEY = ("ns", "workflow-type", "Pay")


@dataclass(frozen=True)
class Answer:
    started: bool
    await_slot: bool = False


class Starter:
    """A start's ``begin`` that records each call and answers ``started``."""

    def __init__(self, started: bool = True) -> None:
        self.started = started
        self.calls: list[bool] = []

    async def __call__(self, await_slot: bool) -> Answer:
        self.calls.append(await_slot)
        return Answer(self.started, await_slot)


async def _always_wanted() -> bool:
    return True


def pay(workflow_id: str) -> StartWorkflowExecutionRequest:
    request = StartWorkflowExecutionRequest(workflow_id=workflow_id)
    request.workflow_type.name = "Pay"
    return request


Limited = Callable[[str], Awaitable[ConcurrencyLimits]]


@pytest.fixture
async def limited(store: Store) -> AsyncIterator[Limited]:
    """Makes the limits, with one slot of workflow type ``Pay`` under ``policy``; stops them
    (their slots' deletions finished) before the store closes."""
    made: list[ConcurrencyLimits] = []

    async def make(policy: str) -> ConcurrencyLimits:
        limits = ConcurrencyLimits(store, SystemClock(), shared=False)
        await limits.set_limit(ConcurrencyLimitRecord(*LIMIT_KEY, 1, 0, policy))
        made.append(limits)
        return limits

    yield make
    for limits in made:
        await limits.stop()


async def test_a_start_that_writes_no_run_gives_its_slot_back(limited: Limited, store: Store) -> None:
    limits = await limited("reject")
    slots = StartSlots(limits)

    found = await slots.start("ns", pay("a"), Starter(started=False), NOT_YET)
    assert found == Answer(False)
    assert limits.running(LIMIT_KEY) == 0
    await eventually(lambda: _stored_slots(store, 0))  # the row goes after the count here

    async def failing(await_slot: bool) -> Answer:
        assert limits.running(LIMIT_KEY) == 1  # the slot is taken before the run is written
        raise RuntimeError("the start failed")

    with pytest.raises(RuntimeError):
        await slots.start("ns", pay("b"), failing, NOT_YET)
    assert limits.running(LIMIT_KEY) == 0
    await eventually(lambda: _stored_slots(store, 0))

    assert await slots.start("ns", pay("c"), Starter(), NOT_YET) == Answer(True)
    assert limits.running(LIMIT_KEY) == 1
    await eventually(lambda: _stored_slots(store, 1))


async def test_a_full_queue_limit_is_answered_as_the_caller_asks(limited: Limited) -> None:
    limits = await limited("queue")
    slots = StartSlots(limits)
    assert await slots.start("ns", pay("holder"), Starter(), NOT_YET) == Answer(True)

    not_yet = Starter()
    assert await slots.start("ns", pay("a"), not_yet, NOT_YET) is None
    assert not_yet.calls == []

    # A client's start writes its run at once, told to hold back its first workflow task.
    assert await slots.start("ns", pay("b"), Starter(), RUN_WAITS) == Answer(True, await_slot=True)

    with pytest.raises(LimitFull) as full:
        await slots.start("ns", pay("c"), Starter(), WaitUntil(time.monotonic()))
    assert full.value.limit.name == "Pay"

    asked: list[str] = []

    async def parent_gone() -> bool:
        asked.append("asked")
        return False

    no_longer = Starter()
    assert await slots.start("ns", pay("d"), no_longer, WaitWhileWanted(parent_gone)) is None
    assert (no_longer.calls, asked) == ([], ["asked"])
    assert limits.running(LIMIT_KEY) == 1  # only the holder's: the refused starts took none


async def test_a_waiting_start_goes_once_the_slot_frees(limited: Limited) -> None:
    limits = await limited("queue")
    slots = StartSlots(limits)
    holder = await slots.wait_admit("ns", "Pay", "holder")
    assert holder is not None and len(holder) == 1

    child = Starter()
    waiting = asyncio.create_task(slots.start("ns", pay("child"), child, WaitWhileWanted(_always_wanted)))
    await asyncio.sleep(0.2)
    assert not waiting.done() and child.calls == []

    limits.give_back_slots(holder)
    assert await waiting == Answer(True)
    assert child.calls == [False]
    assert limits.running(LIMIT_KEY) == 1


@pytest.mark.parametrize(
    "when_queued",
    [RUN_WAITS, NOT_YET, WaitUntil(float("inf")), WaitWhileWanted(_always_wanted)],
    ids=["run-waits", "not-yet", "wait-until", "wait-while-wanted"],
)
async def test_a_full_reject_limit_refuses_every_start(limited: Limited, when_queued: WhenQueued) -> None:
    limits = await limited("reject")
    slots = StartSlots(limits)
    assert await slots.start("ns", pay("holder"), Starter(), NOT_YET) == Answer(True)

    refused = Starter()
    with pytest.raises(LimitFull):
        await slots.start("ns", pay("a"), refused, when_queued)
    assert refused.calls == []


async def test_a_run_accepted_before_its_limit_rejects_still_waits(limited: Limited) -> None:
    limits = await limited("reject")
    slots = StartSlots(limits)
    holder = await slots.wait_admit("ns", "Pay", "holder")
    assert holder

    waiting = asyncio.create_task(
        slots.wait_admit("ns", "Pay", "accepted", still_wanted=_always_wanted, reject_waits=True)
    )
    await asyncio.sleep(0.2)
    assert not waiting.done()
    limits.give_back_slots(holder)
    taken = await waiting
    assert taken is not None and [slot.workflow_id for slot in taken] == ["accepted"]


async def test_with_no_limits_every_start_goes_at_once() -> None:
    slots = StartSlots(None)
    starter = Starter()
    assert await slots.start("ns", pay("a"), starter, RUN_WAITS) == Answer(True)
    assert await slots.wait_admit("ns", "Pay", "b", deadline=0.0) == []
    assert starter.calls == [False]


async def _stored_slots(store: Store, count: int) -> bool:
    return len(await store.list_slots()) == count
