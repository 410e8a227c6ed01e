"""Where a workflow task may go when its worker keeps a sticky queue."""

from __future__ import annotations

from cadenza.matching.service import MatchingService
from cadenza.persistence.records import TaskKind


async def _polled(matching: MatchingService, name: str) -> None:
    """A sticky poll that came and went empty."""
    await matching.poll("ns", name, TaskKind.WORKFLOW, "worker", 0.01)


async def test_alone_only_a_sticky_queue_polled_here_is_reachable() -> None:
    matching = MatchingService()
    assert not matching.sticky_reachable("ns", "elsewhere")
    await _polled(matching, "here")
    assert matching.sticky_reachable("ns", "here")


async def test_with_replicas_a_sticky_queue_not_polled_here_may_be_polled_elsewhere() -> None:
    matching = MatchingService()
    matching.shared = True
    assert matching.sticky_reachable("ns", "elsewhere")
    assert not matching.sticky_alive("ns", "elsewhere")  # queries still go sticky only here


async def test_with_replicas_a_sticky_worker_that_shut_down_here_is_not_reachable() -> None:
    matching = MatchingService()
    matching.shared = True
    await _polled(matching, "gone")
    matching.shut_down_sticky("ns", "gone")
    assert not matching.sticky_reachable("ns", "gone")
