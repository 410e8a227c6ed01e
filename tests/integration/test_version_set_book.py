"""Version sets in the store, run on every backend: changes made at once all land, a refused
change writes nothing, and the rows stay out of the task queue configs matching applies."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

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
    book = VersionSetBook(store, vs.SetLimits())
    names = ["a", "b", "c", "d"]
    await asyncio.gather(*(book.update("ns", "q", adding(name)) for name in names))
    sets = (await book.get("ns", "q")).names()
    assert sorted(sets) == [[n] for n in names]


async def test_a_refused_change_writes_nothing(store: Store) -> None:
    book = VersionSetBook(store, vs.SetLimits(sets=1))
    await book.update("ns", "q", adding("1"))
    with pytest.raises(FailedPreconditionError):
        await book.update("ns", "q", adding("2"))
    assert (await book.get("ns", "q")).names() == [["1"]]


async def test_sets_are_found_by_namespace_and_are_no_queue_config(store: Store) -> None:
    book = VersionSetBook(store, vs.SetLimits())
    await book.update("ns", "b", adding("1"))
    await book.update("ns", "a", adding("1"))
    await book.update("other", "c", adding("1"))
    assert [queue for queue, _ in await book.all_queues("ns")] == ["a", "b"]
    configs = QueueConfigs(store, RateLimits(), shared=False)
    await configs.load()  # the sets' rows are skipped, not parsed as configs
    assert await configs.get("ns", "a", WORKFLOW) is None
