"""Temporal's list-filter language: every operator, each attribute type, malformed queries."""

from __future__ import annotations

import re

import pytest

from cadenza.exceptions import InvalidArgumentError
from cadenza.visibility import attributes as attrs
from cadenza.visibility import filters, open_closed
from cadenza.visibility import query as q


def test_comparisons_and_boolean_structure() -> None:
    parsed = q.parse("WorkflowType = 'A' AND (StartTime > '2026-01-01T00:00:00Z' OR Count >= 3)")
    assert parsed.where == q.BoolOp(
        "AND",
        (
            q.Comparison("WorkflowType", "=", "A"),
            q.BoolOp(
                "OR", (q.Comparison("StartTime", ">", "2026-01-01T00:00:00Z"), q.Comparison("Count", ">=", 3))
            ),
        ),
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Id IN ('a', 'b')", q.InList("Id", ("a", "b"))),
        ("Id NOT IN ('a')", q.InList("Id", ("a",), negated=True)),
        ("N BETWEEN 1 AND 5", q.Between("N", 1, 5)),
        ("WorkflowId STARTS_WITH 'order-'", q.StartsWith("WorkflowId", "order-")),
        ("CloseTime IS NULL", q.IsNull("CloseTime")),
        ("CloseTime is not null", q.IsNull("CloseTime", negated=True)),
        ("Flag = true", q.Comparison("Flag", "=", True)),
        ("Score != 1.5", q.Comparison("Score", "!=", 1.5)),
        ('Name <> "x"', q.Comparison("Name", "!=", "x")),
        ("NOT Flag = false", q.Not(q.Comparison("Flag", "=", False))),
        ("Quote = 'it''s'", q.Comparison("Quote", "=", "it's")),
    ],
)
def test_each_predicate(text: str, expected: q.Expr) -> None:
    assert q.parse(text).where == expected


def test_order_and_group_by() -> None:
    parsed = q.parse("WorkflowType = 'A' ORDER BY StartTime DESC, WorkflowId")
    assert parsed.order_by == (("StartTime", True), ("WorkflowId", False))
    assert q.parse("TaskQueue = 'q' GROUP BY ExecutionStatus").group_by == "ExecutionStatus"
    assert q.parse("").where is None


@pytest.mark.parametrize(
    "text",
    [
        "WorkflowType =",
        "= 'x'",
        "A = 'x' AND",
        "(A = 'x'",
        "A ~ 'x'",
        "A BETWEEN 1",
        "A IN ()",
        "A = 'x' B = 'y'",
        "A STARTS_WITH 5",
        "A NOT = 'x'",
        "A = 'unterminated",
    ],
)
def test_malformed_queries_name_the_problem(text: str) -> None:
    with pytest.raises(InvalidArgumentError, match="invalid query"):
        q.parse(text)


def test_limit_like_and_multiple_group_by_fields_are_refused() -> None:
    for text, problem in [
        ("A = 'x' LIMIT 5", "'LIMIT' clause"),
        ("A LIKE 'x%'", "operator 'LIKE'"),
        ("A = 'x' GROUP BY ExecutionStatus, WorkflowType", "single field"),
    ]:
        with pytest.raises(InvalidArgumentError, match=problem):
            q.parse(text)


# -- checking a filter against the attributes' types ------------------------------------

CUSTOM: dict[str, int] = {
    "Kw": attrs.KEYWORD,
    "Txt": attrs.TEXT,
    "Num": attrs.INT,
    "Dbl": attrs.DOUBLE,
    "Flag": attrs.BOOL,
    "When": attrs.DATETIME,
    "Tags": attrs.KEYWORD_LIST,
}


def checked(text: str, counting: bool = False) -> q.Expr | None:
    return filters.check(q.parse(text), CUSTOM, counting).where


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Kw = 'a'", q.Comparison("Kw", "=", "a")),
        ("Kw != 'a'", q.Comparison("Kw", "!=", "a")),
        ("Kw STARTS_WITH 'a'", q.StartsWith("Kw", "a")),
        ("Num < 3", q.Comparison("Num", "<", 3)),
        ("Num <= 3.5", q.Comparison("Num", "<=", 3.5)),
        ("Dbl > -1", q.Comparison("Dbl", ">", -1)),
        ("Dbl >= 0.5", q.Comparison("Dbl", ">=", 0.5)),
        ("Num NOT IN (1, 2)", q.InList("Num", (1, 2), negated=True)),
        ("Num NOT BETWEEN 1 AND 2", q.Between("Num", 1, 2, negated=True)),
        ("Flag = true", q.Comparison("Flag", "=", 1)),
        ("Flag != false", q.Comparison("Flag", "!=", 0)),
        (
            "When BETWEEN '2030-01-01T00:00:00Z' AND '2030-01-01T00:00:01+00:00'",
            q.Between("When", 1893456000.0, 1893456001.0),
        ),
        ("When > 1893456000000000000", q.Comparison("When", ">", 1893456000.0)),
        ("Txt = 'Quick brown-fox'", q.Comparison("Txt", "=", (" quick ", " brown fox "))),
        ("Txt != 'fox'", q.Comparison("Txt", "!=", (" fox ",))),
        ("Txt IS NULL", q.IsNull("Txt")),
        ("Tags = 'a'", q.Comparison("Tags", "=", "a")),
        ("Tags NOT IN ('a', 'b')", q.InList("Tags", ("a", "b"), negated=True)),
        ("Tags IS NOT NULL", q.IsNull("Tags", negated=True)),
        ("ExecutionStatus IN ('Running', 'TimedOut')", q.InList("ExecutionStatus", (1, 7))),
        ("ExecutionStatus = 2", q.Comparison("ExecutionStatus", "=", 2)),
        ("TemporalChangeVersion = 'v1'", q.Comparison("TemporalChangeVersion", "=", "v1")),
    ],
)
def test_values_take_their_attributes_types(text: str, expected: q.Expr) -> None:
    assert checked(text) == expected


def test_listing_orders_by_start_or_close_time_and_counting_refuses_an_order() -> None:
    assert filters.check(q.parse("Kw = 'a' ORDER BY StartTime"), CUSTOM).order_by == (("StartTime", False),)
    assert filters.check(q.parse("ORDER BY CloseTime DESC"), CUSTOM).order_by == (("CloseTime", True),)
    with pytest.raises(InvalidArgumentError, match="'ORDER BY' clause"):
        checked("ORDER BY StartTime", counting=True)


def test_group_by_counts_only_by_status_and_listing_ignores_it() -> None:
    assert filters.check(q.parse("GROUP BY ExecutionStatus"), CUSTOM, counting=True).group_by
    assert filters.check(q.parse("GROUP BY ExecutionStatus"), CUSTOM).group_by == ""
    with pytest.raises(InvalidArgumentError, match="not supported for search attribute Kw"):
        checked("GROUP BY Kw", counting=True)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("Kw = 'a' ORDER BY Kw DESC", "'ORDER BY' clause takes one of StartTime, CloseTime, got Kw"),
        ("ORDER BY StartTime, CloseTime", "'ORDER BY' clause takes one of StartTime, CloseTime"),
        ("Nope = 'a'", "invalid search attribute: Nope"),
        ("kw = 'a'", "invalid search attribute: kw"),
        ("Kw = 5", "search attribute Kw of type Keyword"),
        ("Kw IN ('a', true)", "search attribute Kw of type Keyword"),
        ("Num = '5'", "search attribute Num of type Int"),
        ("Num STARTS_WITH '5'", "search attribute Num of type Int"),
        ("Dbl BETWEEN 'a' AND 2", "search attribute Dbl of type Double"),
        ("Flag = 'true'", "search attribute Flag of type Bool"),
        ("Flag = 1", "search attribute Flag of type Bool"),
        ("When > '2030-01-01'", "unable to parse datetime '2030-01-01'"),
        ("When < 'soon'", "unable to parse datetime"),
        ("When = true", "search attribute When of type Datetime"),
        ("Txt > 'a'", "operator '>' not supported for Text"),
        ("Txt IN ('a')", "operator 'IN' not supported for Text"),
        ("Txt STARTS_WITH 'a'", "operator 'STARTS_WITH' not supported for Text"),
        ("Txt BETWEEN 'a' AND 'b'", "operator 'BETWEEN' not supported for Text"),
        ("Txt = '  '", "no tokens found"),
        ("Txt = 5", "of type Text"),
        ("Tags > 'a'", "operator '>' not supported for KeywordList"),
        ("Tags STARTS_WITH 'a'", "operator 'STARTS_WITH' not supported for KeywordList"),
        ("Tags NOT BETWEEN 'a' AND 'b'", "operator 'NOT BETWEEN' not supported for KeywordList"),
        ("ExecutionStatus = 'running'", "invalid ExecutionStatus value 'running'"),
        ("ExecutionStatus STARTS_WITH 'Run'", "invalid ExecutionStatus value 'Run'"),
        ("ExecutionStatus = 99", "invalid ExecutionStatus value 99"),
        ("NOT (Kw = 'a' OR Num = 'x')", "search attribute Num of type Int"),
    ],
)
def test_filters_that_do_not_fit_the_attributes_are_invalid(text: str, problem: str) -> None:
    with pytest.raises(InvalidArgumentError, match=re.escape(problem)):
        checked(text)


def test_text_words_fold_case_and_diacritics_and_split_on_punctuation() -> None:
    assert attrs.text_words("Crème brûlée_recipe, v2-final!") == ["creme", "brulee", "recipe", "v2", "final"]
    assert attrs.text_index_form("The quick  fox") == " the quick fox "
    assert attrs.text_phrases("a-b  c -") == (" a b ", " c ")


# -- bounds: how deep and how large a filter may be, as Temporal bounds it ---------------


def _nested(depth: int) -> str:
    return "(" * depth + "WorkflowId = 'x'" + ")" * depth


def test_parentheses_and_nots_nest_at_most_199_deep_with_temporals_error() -> None:
    assert q.parse(_nested(199)).where == q.Comparison("WorkflowId", "=", "x")
    assert isinstance(q.parse("NOT " * 199 + "WorkflowId = 'x'").where, q.Not)
    # Temporal counts positions inside "select * from table1 where <filter>".
    with pytest.raises(
        InvalidArgumentError,
        match=re.escape("invalid query: malformed SQL query: max nesting level reached at position 228"),
    ):
        q.parse(_nested(5000))
    with pytest.raises(
        InvalidArgumentError, match=re.escape("max nesting level reached at position 827 near 'not'")
    ):
        q.parse("NOT " * 3000 + "WorkflowId = 'x'")


def test_a_chain_of_996_comparisons_is_too_deep_as_on_temporal() -> None:
    def chain(count: int, op: str) -> str:
        return f" {op} ".join(f"WorkflowId = 'x{i}'" for i in range(count))

    for op in ("OR", "AND"):
        assert isinstance(q.parse(chain(995, op)).where, q.BoolOp)
        with pytest.raises(InvalidArgumentError, match="max ast depth reached"):
            q.parse(chain(996, op))
    grouped = "WorkflowId = 'x'" + " OR (WorkflowId = 'y' AND WorkflowId = 'z')" * 993
    with pytest.raises(InvalidArgumentError, match="max ast depth reached"):
        q.parse(grouped)
    q.parse(grouped.removesuffix(" OR (WorkflowId = 'y' AND WorkflowId = 'z')"))


def test_whole_numbers_past_64_bits_are_floats_and_int_bounds_stay_in_range() -> None:
    assert q.parse("HistoryLength > 99999999999999999999999").where == q.Comparison(
        "HistoryLength", ">", 1e23
    )
    assert q.parse("HistoryLength > 9223372036854775807").where == q.Comparison(
        "HistoryLength", ">", 2**63 - 1
    )
    assert checked("Num > 99999999999999999999999") == q.Comparison("Num", ">", 2**63 - 1)
    assert checked("Num < -99999999999999999999999") == q.Comparison("Num", "<", -(2**63))


def test_open_and_closed_listings_take_times_temporal_takes_and_refuse_year_10000() -> None:
    assert open_closed.epoch_nanos(-62135596801, 0) == -62135596801 * 10**9
    assert open_closed.epoch_nanos(5, -1) == 5 * 10**9 - 1
    assert open_closed.epoch_nanos(5, 10**9) == 6 * 10**9
    with pytest.raises(
        InvalidArgumentError,
        match=re.escape(
            "invalid query: invalid expression: unable to parse datetime '10000-01-01T00:00:00.0000005Z'"
        ),
    ):
        open_closed.epoch_nanos(253402300800, 500)


def test_a_filter_of_more_than_100000_tokens_is_refused_before_it_is_parsed() -> None:
    long_list = "WorkflowId IN (" + ", ".join(["'x'"] * 60_000) + ")"
    with pytest.raises(
        InvalidArgumentError,
        match=re.escape("invalid query: the filter is too long (more than 100000 words, values and symbols)"),
    ):
        q.parse(long_list)
    q.parse("WorkflowId IN (" + ", ".join(["'x'"] * 40_000) + ")")


def test_errors_quote_a_long_filter_only_in_part() -> None:
    for text in (
        "WorkflowId = 'x' " + "AND WorkflowId = 'y' " * 10_000 + "AND",
        "WorkflowId = 'x' AND " * 10_000 + "WorkflowId ~ 'y'",
        "~" + "x" * 100_000,
    ):
        with pytest.raises(InvalidArgumentError) as caught:
            q.parse(text)
        assert len(caught.value.message) < 400
