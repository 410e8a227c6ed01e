"""Search attribute values against their registered types, with Temporal's errors."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from temporalio.api.common.v1 import Payload, SearchAttributes

from cadenza.exceptions import InvalidArgumentError
from cadenza.visibility import attributes as attrs
from cadenza.visibility import validation

RULES = validation.Rules(
    "ns",
    {
        "Kw": attrs.KEYWORD,
        "Txt": attrs.TEXT,
        "Num": attrs.INT,
        "Dbl": attrs.DOUBLE,
        "Flag": attrs.BOOL,
        "When": attrs.DATETIME,
        "Tags": attrs.KEYWORD_LIST,
    },
)


def given(name: str, value: Any, raw: bytes | None = None) -> SearchAttributes:
    data = raw if raw is not None else json.dumps(value).encode()
    return SearchAttributes(indexed_fields={name: Payload(metadata={"encoding": b"json/plain"}, data=data)})


@pytest.mark.parametrize(
    ("name", "value", "kind"),
    [
        ("Kw", "a", b"Keyword"),
        ("Txt", "some words", b"Text"),
        ("Num", -(2**63), b"Int"),
        ("Dbl", 5, b"Double"),
        ("Flag", False, b"Bool"),
        ("When", "2030-02-28T23:59:59.123456789Z", b"Datetime"),
        ("Tags", ["a", "b"], b"KeywordList"),
        ("Tags", [], b"KeywordList"),
        ("Kw", ["a"], b"Keyword"),
        ("BuildIds", ["unversioned"], b"KeywordList"),
        ("TemporalChangeVersion", ["p-1"], b"KeywordList"),
    ],
)
def test_valid_values_are_marked_with_their_registered_type(name: str, value: Any, kind: bytes) -> None:
    attributes = given(name, value)
    validation.check(attributes, RULES)
    assert attributes.indexed_fields[name].metadata["type"] == kind


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        (given("Num", 2**63), "invalid value for search attribute Num of type Int: 9223372036854775808"),
        (given("Num", True), "of type Int: true"),
        (
            given("Dbl", None, b"NaN"),
            'of type Double: value from <metadata:{key:"encoding"  value:"json/plain"}  data:"NaN">',
        ),
        (given("When", "2030-02-30T00:00:00Z"), "of type Datetime: 2030-02-30T00:00:00Z"),
        (given("When", "2030-01-01 00:00:00Z"), "of type Datetime: 2030-01-01 00:00:00Z"),
        (given("Tags", {"a": [1, 2.5]}), "of type KeywordList: map[a:[1 2.5]]"),
        (given("Kw", ["a", None]), "of type Keyword: [a <nil>]"),
        (given("HistorySizeBytes", 1), "HistorySizeBytes attribute can't be set in SearchAttributes"),
        (given("kw", "a"), "Namespace ns has no mapping defined for search attribute kw"),
    ],
)
def test_invalid_values_are_refused_with_temporals_errors(attributes: SearchAttributes, message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=re.escape(message)):
        validation.check(attributes, RULES)


def test_quoted_values_are_cut_short() -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        validation.check(given("Kw", None, b"[" * 100_000), RULES)
    assert len(caught.value.message) < 400


def test_sizes_and_counts_follow_the_limits() -> None:
    small = validation.Rules("ns", RULES.types, validation.SearchAttributeLimits(2, 10, 60))
    many = SearchAttributes(
        indexed_fields={
            name: Payload(metadata={"encoding": b"json/plain"}, data=b"1") for name in ("Num", "Dbl", "Kw")
        }
    )
    many.indexed_fields["Kw"].data = b'"a"'
    with pytest.raises(
        validation.SearchAttributeSizeError, match="number of search attributes 3 exceeds limit 2"
    ):
        validation.check(many, small)
    with pytest.raises(
        validation.SearchAttributeSizeError, match="search attribute Kw value size 12 exceeds size limit 10"
    ):
        validation.check(given("Kw", "a" * 10), small)
    pair = SearchAttributes(
        indexed_fields={
            name: Payload(metadata={"encoding": b"json/plain"}, data=b'"abcdefgh"') for name in ("Kw", "Txt")
        }
    )
    with pytest.raises(validation.SearchAttributeSizeError, match="total size of search attributes"):
        validation.check(pair, small)
