"""The orders a listing can come in, and the keyset condition that continues a page in each.

Temporal lists open runs first, then closed ones by close time, newest first; a filter
may ask instead for ``ORDER BY StartTime`` or ``ORDER BY CloseTime``, either way (as
Temporal's Elasticsearch visibility allows). Every order ends in the run ID, so no two
runs tie and a page continues exactly after the previous page's last run: nothing is
listed twice or skipped however many runs share a time. Each order is one some index
holds, read forwards or backwards: ``executions_listed`` (migration 3) for close time,
``executions_by_start_time`` (migration 7) for start time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from cadenza.persistence.records import ListCursor

OPEN_CLOSE_TIME = 9e18
"""Open runs have no close time; they sort as if closing at the end of time."""
SORT_CLOSE_TIME = "coalesce(close_time, 9e18)"

Key = tuple[str, bool]
"""A column (or expression) and whether it sorts descending."""

_CLOSE_NEWEST_FIRST: tuple[Key, ...] = ((SORT_CLOSE_TIME, True), ("start_time", True), ("run_id", False))
_ORDERS: dict[tuple[tuple[str, bool], ...], tuple[Key, ...]] = {
    (): _CLOSE_NEWEST_FIRST,
    (("CloseTime", True),): _CLOSE_NEWEST_FIRST,
    (("CloseTime", False),): ((SORT_CLOSE_TIME, False), ("start_time", False), ("run_id", True)),
    (("StartTime", True),): (("start_time", True), ("run_id", True)),
    (("StartTime", False),): (("start_time", False), ("run_id", False)),
}

_CURSOR_VALUES: dict[str, Callable[[ListCursor], object]] = {
    SORT_CLOSE_TIME: lambda cursor: OPEN_CLOSE_TIME if cursor.close_time is None else cursor.close_time,
    "start_time": lambda cursor: cursor.start_time,
    "run_id": lambda cursor: cursor.run_id,
}


class Binder(Protocol):
    def add(self, value: object) -> str:
        """Bind ``value``; return its marker."""


def keys(order_by: tuple[tuple[str, bool], ...]) -> tuple[Key, ...]:
    """The sort keys of a checked filter's ORDER BY (Temporal's order when it has none)."""
    return _ORDERS[order_by]


def order_clause(order: tuple[Key, ...]) -> str:
    return ", ".join(f"{column} {'DESC' if descending else 'ASC'}" for column, descending in order)


def after(order: tuple[Key, ...], cursor: ListCursor, params: Binder) -> str:
    """Rows that come after ``cursor`` in ``order``: later in the first key, or equal in the
    first keys and later in the next. Markers are bound in the order they appear.

    When every key sorts the same way (start time and run ID), one row-value comparison says
    it, which both databases answer as a range of the index: a deep page starts where the
    previous one ended instead of walking the rows before it.
    """
    if len({descending for _, descending in order}) == 1:
        columns = ", ".join(column for column, _ in order)
        markers = ", ".join(params.add(_CURSOR_VALUES[column](cursor)) for column, _ in order)
        return f"(({columns}) {'<' if order[0][1] else '>'} ({markers}))"
    alternatives = []
    for index, (column, descending) in enumerate(order):
        equal = [f"{key} = {params.add(_CURSOR_VALUES[key](cursor))}" for key, _ in order[:index]]
        later = f"{column} {'<' if descending else '>'} {params.add(_CURSOR_VALUES[column](cursor))}"
        alternatives.append("(" + " AND ".join([*equal, later]) + ")")
    return "(" + " OR ".join(alternatives) + ")"
