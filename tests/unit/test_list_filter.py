"""Temporal's list-filter language: every operator, and malformed queries."""

from __future__ import annotations

import pytest

from cadenza.exceptions import InvalidArgumentError
from cadenza.visibility import query as q


def test_comparisons_and_boolean_structure() -> None:
    parsed = q.parse("WorkflowType = 'A' AND (StartTime > '2026-01-01T00:00:00Z' OR Count >= 3)")
    assert parsed.where == q.BoolOp("AND", (
        q.Comparison("WorkflowType", "=", "A"),
        q.BoolOp("OR", (q.Comparison("StartTime", ">", "2026-01-01T00:00:00Z"),
                        q.Comparison("Count", ">=", 3))),
    ))


@pytest.mark.parametrize(("text", "expected"), [
    ("Id IN ('a', 'b')", q.InList("Id", ("a", "b"))),
    ("Id NOT IN ('a')", q.InList("Id", ("a",), negated=True)),
    ("N BETWEEN 1 AND 5", q.Between("N", 1, 5)),
    ("WorkflowId STARTS_WITH 'order-'", q.StartsWith("WorkflowId", "order-")),
    ("CloseTime IS NULL", q.IsNull("CloseTime")),
    ("CloseTime is not null", q.IsNull("CloseTime", negated=True)),
    ("Flag = true", q.Comparison("Flag", "=", True)),
    ("Score != 1.5", q.Comparison("Score", "!=", 1.5)),
    ("Name <> \"x\"", q.Comparison("Name", "!=", "x")),
    ("NOT Flag = false", q.Not(q.Comparison("Flag", "=", False))),
    ("Quote = 'it''s'", q.Comparison("Quote", "=", "it's")),
])
def test_each_predicate(text: str, expected: q.Expr) -> None:
    assert q.parse(text).where == expected


def test_order_and_group_by() -> None:
    parsed = q.parse("WorkflowType = 'A' ORDER BY StartTime DESC, WorkflowId")
    assert parsed.order_by == (("StartTime", True), ("WorkflowId", False))
    assert q.parse("TaskQueue = 'q' GROUP BY ExecutionStatus").group_by == "ExecutionStatus"
    assert q.parse("").where is None


@pytest.mark.parametrize("text", [
    "WorkflowType =", "= 'x'", "A = 'x' AND", "(A = 'x'", "A ~ 'x'", "A BETWEEN 1", "A IN ()",
    "A = 'x' B = 'y'", "A STARTS_WITH 5", "A NOT = 'x'", "A = 'unterminated",
])
def test_malformed_queries_name_the_problem(text: str) -> None:
    with pytest.raises(InvalidArgumentError, match="invalid query"):
        q.parse(text)
