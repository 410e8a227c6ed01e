"""The shared polling helper: it waits for predicates and assertions, plain or async."""

from __future__ import annotations

import pytest

from tests.helpers import eventually


async def test_a_predicate_is_polled_until_it_holds() -> None:
    calls: list[int] = []

    def third_time() -> bool:
        calls.append(1)
        return len(calls) == 3

    assert await eventually(third_time, interval=0) is True
    assert len(calls) == 3


async def test_an_async_assertion_returns_its_value_once_it_passes() -> None:
    seen: list[int] = []

    async def second_value() -> int:
        seen.append(len(seen))
        assert len(seen) >= 2, "not yet"
        return seen[-1]

    assert await eventually(second_value, interval=0) == 1


async def test_the_last_assertion_is_raised_when_time_runs_out() -> None:
    async def never() -> None:
        raise AssertionError("still waiting")

    with pytest.raises(AssertionError, match="still waiting"):
        await eventually(never, timeout=0, interval=0)


async def test_a_predicate_that_never_holds_is_named() -> None:
    def never_true() -> bool:
        return False

    with pytest.raises(AssertionError, match="never_true never held"):
        await eventually(never_true, timeout=0, interval=0)


async def test_other_errors_are_not_retried() -> None:
    calls: list[int] = []

    def broken() -> bool:
        calls.append(1)
        raise ValueError("bad")

    with pytest.raises(ValueError):
        await eventually(broken)
    assert calls == [1]
