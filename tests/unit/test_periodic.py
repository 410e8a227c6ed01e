"""The periodic helper: rounds every interval, a failed round logged and survived, a clean stop."""

from __future__ import annotations

import asyncio
import logging

import pytest

from cadenza.periodic import Periodic
from cadenza.persistence.errors import StorageError
from tests.helpers import eventually

TICK = 0.01


class Rounds:
    """An action that counts its calls and fails the ones it is told to."""

    def __init__(self, *failures: Exception) -> None:
        self.calls = 0
        self._failures = list(failures)

    async def __call__(self) -> None:
        self.calls += 1
        if self._failures:
            raise self._failures.pop(0)


async def test_it_runs_the_action_round_after_round_until_stopped() -> None:
    rounds = Rounds()
    periodic = Periodic(rounds, TICK, name="test-rounds", what="counting")
    periodic.start()
    assert periodic.running
    await eventually(lambda: rounds.calls >= 3, interval=TICK)
    await periodic.stop()
    assert not periodic.running
    stopped_at = rounds.calls
    for _ in range(5):
        await asyncio.sleep(TICK)
    assert rounds.calls == stopped_at


async def test_the_first_round_waits_one_interval() -> None:
    rounds = Rounds()
    periodic = Periodic(rounds, 3600, name="test-rounds", what="counting")
    periodic.start()
    for _ in range(10):
        await asyncio.sleep(0)
    assert rounds.calls == 0
    await periodic.stop()


async def test_a_storage_error_is_one_warning_and_the_next_round_runs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    rounds = Rounds(StorageError("database is away"))
    owner = logging.getLogger("tests.owner")
    periodic = Periodic(rounds, TICK, name="test-rounds", what="reading things", logger=owner)
    with caplog.at_level(logging.WARNING, logger="tests.owner"):
        periodic.start()
        await eventually(lambda: rounds.calls >= 2, interval=TICK)
        await periodic.stop()
    [record] = caplog.records
    assert (record.name, record.levelno) == ("tests.owner", logging.WARNING)
    assert record.getMessage() == "reading things failed, retrying: database is away"
    assert record.exc_info is None


async def test_any_other_error_is_logged_with_its_traceback_and_survived(
    caplog: pytest.LogCaptureFixture,
) -> None:
    rounds = Rounds(ValueError("a bug"), KeyError("another"))
    periodic = Periodic(rounds, TICK, name="test-rounds", what="sweeping")
    with caplog.at_level(logging.WARNING, logger="cadenza.periodic"):
        periodic.start()
        await eventually(lambda: rounds.calls >= 3, interval=TICK)
        await periodic.stop()
    assert [r.getMessage() for r in caplog.records] == ["sweeping failed; trying again later"] * 2
    assert all(r.levelno == logging.ERROR and r.exc_info for r in caplog.records)


async def test_stop_cancels_a_round_under_way_and_waits_for_it() -> None:
    entered = asyncio.Event()
    ended: list[str] = []

    async def slow() -> None:
        entered.set()
        try:
            await asyncio.sleep(3600)
        finally:
            ended.append("cancelled")

    periodic = Periodic(slow, TICK, name="test-rounds", what="waiting")
    periodic.start()
    await asyncio.wait_for(entered.wait(), timeout=10)
    await periodic.stop()
    assert ended == ["cancelled"]


async def test_start_twice_is_one_loop_and_stop_twice_is_harmless() -> None:
    periodic = Periodic(Rounds(), TICK, name="test-rounds", what="counting")
    await periodic.stop()
    periodic.start()
    periodic.start()
    assert [t.get_name() for t in asyncio.all_tasks()].count("test-rounds") == 1
    await periodic.stop()
    await periodic.stop()
    assert not periodic.running
    periodic.start()
    assert periodic.running
    await periodic.stop()
