"""The timeline of a run: one bar per activity, timer, child workflow and update, from when it was
scheduled to when it closed, and one point per signal or marker. Pure: a ``Run`` in, bars out.

An activity's history holds its last attempt's start only (earlier attempts leave no events), so
its bar shows the wait before that start (queueing and every retry) apart from the last attempt.
"""

from __future__ import annotations

from dataclasses import dataclass

from cadenza.web.ui_graph.items import Item, Kind, Run

POINTS = frozenset({Kind.SIGNAL, Kind.MARKER, Kind.LOCAL_ACTIVITY, Kind.CANCEL_REQUEST, Kind.TASK_FAILURE})


@dataclass(frozen=True)
class Bar:
    """One item on the time axis; times are seconds from the run's start."""

    item: Item
    begins: float
    started: float | None
    """When its last attempt (a child's run, an update's handler) started, if it has."""
    ends: float | None
    """When it closed; None while it is still open."""

    @property
    def point(self) -> bool:
        return self.item.kind in POINTS


@dataclass(frozen=True)
class Timeline:
    bars: tuple[Bar, ...]
    length: float
    """Seconds from the run's start to its close, or to its last event while it runs."""


def build_timeline(run: Run) -> Timeline:
    """The timeline of ``run``: its items but the start and the close, in the order they began."""
    origin = run.began_at
    bars = [
        Bar(
            item,
            item.first_at - origin,
            None if item.started_at is None else item.started_at - origin,
            None if item.closed_at is None else item.closed_at - origin,
        )
        for item in run.items
        if item.kind not in {Kind.START, Kind.CLOSE}
    ]
    bars.sort(key=lambda bar: (bar.begins, bar.item.first_event_id))
    return Timeline(tuple(bars), max(run.last_at - origin, 0.0))
