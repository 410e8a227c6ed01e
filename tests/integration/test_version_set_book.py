"""Version sets in the store, run on every backend: changes made at once all land, a refused
change writes nothing, the queues holding a build ID are found by it, and the task queue
configs matching applies are left alone."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from cadenza.conflicts import retrying_conflicts
from cadenza.exceptions import FailedPreconditionError
from cadenza.matching import version_sets as vs
from cadenza.matching.queue_configs import QueueConfigs
from cadenza.matching.rate_limits import RateLimits
from cadenza.matching.version_set_book import VersionSetBook
from cadenza.persistence.store import Store

WORKFLOW = 1


def adding(name: str) -> Callable[[vs.VersionSets], None]:
    return lambda state: vs.add_new_default(state, name)


async def test_changes_made_at_once_all_land(store: Store) -> None:
    """Each lost write raises ConcurrentUpdateError, which the RPCs' conflict policy retries."""
    book = VersionSetBook(store, vs.SetLimits())
    names = ["a", "b", "c", "d"]

    def change(name: str) -> Callable[[], Awaitable[None]]:
        return lambda: book.update("ns", "q", adding(name))

    await asyncio.gather(*(retrying_conflicts(change(name), "update") for name in names))
    sets = (await book.get("ns", "q")).names()
    assert sorted(sets) == [[n] for n in names]


async def test_a_refused_change_writes_nothing(store: Store) -> None:
    book = VersionSetBook(store, vs.SetLimits(sets=1))
    await book.update("ns", "q", adding("1"))
    with pytest.raises(FailedPreconditionError):
        await book.update("ns", "q", adding("2"))
    assert (await book.get("ns", "q")).names() == [["1"]]


async def test_queues_are_found_by_build_id_and_hold_no_queue_config(store: Store) -> None:
    book = VersionSetBook(store, vs.SetLimits())
    await book.update("ns", "b", adding("1"))
    await book.update("ns", "a", adding("1"))
    await book.update("ns", "a", adding("2"))
    await book.update("other", "c", adding("1"))
    assert await book.queues_holding("ns", "1") == ["a", "b"]
    assert await book.queues_holding("ns", "2") == ["a"]
    assert await book.queues_holding("ns", "3") == []
    await book.update("ns", "a", lambda state: vs.merge_sets(state, "2", "1"))
    assert await book.queues_holding("ns", "1") == ["a", "b"]  # merged, still held
    assert await store.queue_configs_since(0) == []
    configs = QueueConfigs(store, RateLimits(), shared=False)
    await configs.load()
    assert await configs.get("ns", "a", WORKFLOW) is None
