"""The one conflict-retry policy, shared by RPCs and timers."""

from __future__ import annotations

import pytest

from cadenza.conflicts import CONFLICT_ATTEMPTS, retrying_conflicts
from cadenza.exceptions import ConcurrentUpdateError, NotFoundError


class Flaky:
    """Work that loses its conditional write ``conflicts`` times, then returns ``"done"``."""

    def __init__(self, conflicts: int, error: Exception | None = None) -> None:
        self.conflicts = conflicts
        self.error = error or ConcurrentUpdateError("changed by another replica")
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.conflicts:
            raise self.error
        return "done"


def test_five_attempts_in_all() -> None:
    assert CONFLICT_ATTEMPTS == 5


async def test_work_that_succeeds_runs_once() -> None:
    work = Flaky(0)
    assert await retrying_conflicts(work, "work") == "done"
    assert work.calls == 1


async def test_a_lost_write_runs_the_work_again_until_it_succeeds() -> None:
    work = Flaky(CONFLICT_ATTEMPTS - 1)
    assert await retrying_conflicts(work, "work") == "done"
    assert work.calls == CONFLICT_ATTEMPTS


async def test_the_last_lost_write_reaches_the_caller() -> None:
    work = Flaky(CONFLICT_ATTEMPTS)
    with pytest.raises(ConcurrentUpdateError, match="changed by another replica"):
        await retrying_conflicts(work, "work")
    assert work.calls == CONFLICT_ATTEMPTS


async def test_other_errors_are_not_retried() -> None:
    work = Flaky(1, NotFoundError("workflow not found"))
    with pytest.raises(NotFoundError):
        await retrying_conflicts(work, "work")
    assert work.calls == 1
