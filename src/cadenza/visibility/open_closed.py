"""ListOpen- and ListClosedWorkflowExecutions as list filters, the way Temporal serves them.

Temporal answers these older RPCs by turning their typed filters into a list
query: open means Running and filters on start time; closed means anything
but Running and filters on close time. At most one of a workflow ID, a type or
(closed only) a status narrows it further.
"""

from __future__ import annotations

from dataclasses import dataclass

from cadenza.exceptions import InvalidArgumentError
from cadenza.visibility import attributes as attrs
from cadenza.visibility import query as q

RUNNING = "Running"
YEAR_10000 = 253_402_300_800
"""Epoch seconds at 10000-01-01: Temporal cannot read back a time from then on in its filter."""


@dataclass(frozen=True)
class TimeRange:
    """Epoch nanoseconds; None where the request leaves that end open."""

    earliest: int | None = None
    latest: int | None = None


def epoch_nanos(seconds: int, nanos: int) -> int:
    """A filter's time bound in epoch nanoseconds, nanoseconds out of range carried over.

    Temporal writes the bound into a list filter as RFC 3339 text, and refuses the
    filter when that text has a five-digit year; earlier times, even before year 1,
    just match everything or nothing.
    """
    total = seconds * 1_000_000_000 + nanos
    if total >= YEAR_10000 * 1_000_000_000:
        raise InvalidArgumentError(
            f"invalid query: invalid expression: unable to parse datetime '{_rfc3339(total)}'"
        )
    return total


def _rfc3339(nanos_total: int) -> str:
    """Go's RFC 3339 form of a time, for years Python's datetime cannot hold."""
    seconds, nanos = divmod(nanos_total, 1_000_000_000)
    days, second_of_day = divmod(seconds, 86_400)
    year, month, day = _civil(days)
    hour, rest = divmod(second_of_day, 3600)
    minute, second = divmod(rest, 60)
    fraction = f".{nanos:09d}".rstrip("0") if nanos else ""
    return f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}{fraction}Z"


def _civil(days: int) -> tuple[int, int, int]:
    """(year, month, day) of a day counted from 1970-01-01 (proleptic Gregorian)."""
    shifted = days + 719_468
    era, day_of_era = divmod(shifted, 146_097)
    year_of_era = (day_of_era - day_of_era // 1460 + day_of_era // 36_524 - day_of_era // 146_096) // 365
    day_of_year = day_of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    month_index = (5 * day_of_year + 2) // 153
    day = day_of_year - (153 * month_index + 2) // 5 + 1
    month = month_index + 3 if month_index < 10 else month_index - 9
    return year_of_era + era * 400 + (month <= 2), month, day


def open_filter(times: TimeRange, workflow_id: str | None, workflow_type: str | None) -> q.Query:
    terms: list[q.Expr] = [q.Comparison("ExecutionStatus", "=", RUNNING)]
    terms += _time_terms("StartTime", times)
    terms += _narrowing(workflow_id, workflow_type)
    return q.Query(q.BoolOp("AND", tuple(terms)))


def closed_filter(
    times: TimeRange, workflow_id: str | None, workflow_type: str | None, status: int | None
) -> q.Query:
    terms: list[q.Expr] = [q.Comparison("ExecutionStatus", "!=", RUNNING)]
    terms += _time_terms("CloseTime", times)
    narrowing = _narrowing(workflow_id, workflow_type)
    if not narrowing and status is not None:
        if status not in attrs.STATUS_BY_NUMBER or attrs.STATUS_BY_NUMBER[status] == RUNNING:
            raise InvalidArgumentError("StatusFilter must be specified and must be not Running.")
        narrowing = [q.Comparison("ExecutionStatus", "=", attrs.STATUS_BY_NUMBER[status])]
    return q.Query(q.BoolOp("AND", tuple(terms + narrowing)))


def _time_terms(name: str, times: TimeRange) -> list[q.Expr]:
    if times.earliest is not None and times.latest is not None:
        if times.earliest > times.latest:
            raise InvalidArgumentError(
                "EarliestTime in StartTimeFilter should not be larger than LatestTime."
            )
        return [q.Between(name, times.earliest, times.latest)]
    if times.earliest is not None:
        return [q.Comparison(name, ">=", times.earliest)]
    if times.latest is not None:
        return [q.Comparison(name, "<=", times.latest)]
    return []


def _narrowing(workflow_id: str | None, workflow_type: str | None) -> list[q.Expr]:
    if workflow_id is not None:
        return [q.Comparison("WorkflowId", "=", workflow_id)]
    if workflow_type is not None:
        return [q.Comparison("WorkflowType", "=", workflow_type)]
    return []
