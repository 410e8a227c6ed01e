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


@dataclass(frozen=True)
class TimeRange:
    """Epoch nanoseconds; None where the request leaves that end open."""

    earliest: int | None = None
    latest: int | None = None


def open_filter(times: TimeRange, workflow_id: str | None, workflow_type: str | None) -> q.Query:
    terms: list[q.Expr] = [q.Comparison("ExecutionStatus", "=", RUNNING)]
    terms += _time_terms("StartTime", times)
    terms += _narrowing(workflow_id, workflow_type)
    return q.Query(q.BoolOp("AND", tuple(terms)))


def closed_filter(times: TimeRange, workflow_id: str | None, workflow_type: str | None,
                  status: int | None) -> q.Query:
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
                "EarliestTime in StartTimeFilter should not be larger than LatestTime.")
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
