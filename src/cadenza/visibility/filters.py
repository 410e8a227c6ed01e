"""Checks a parsed list filter against the namespace's search attributes.

Every attribute must exist, every operator must suit its attribute's type, and
every value must have that type; values come back in the form the store keeps
(status numbers, epoch seconds, Text phrases). The errors are Temporal's.
"""

from __future__ import annotations

import dataclasses

from cadenza.exceptions import InvalidArgumentError
from cadenza.visibility import attributes as attrs
from cadenza.visibility import query as q

# What Text and KeywordList attributes can be filtered with, as in Temporal.
_TEXT_OPERATORS = {"=", "!="}
_KEYWORD_LIST_OPERATORS = {"=", "!=", "IN", "NOT IN"}
_INT64_MAX = 2**63 - 1
ORDERABLE = ("StartTime", "CloseTime")
"""What a listing can be ordered by: the orders the store's listing indexes hold."""


def check(
    query: q.Query,
    types: dict[str, int],
    counting: bool = False,
    built_in: dict[str, tuple[str, int]] = attrs.BUILT_IN,
    orderable: tuple[str, ...] = ORDERABLE,
) -> q.Query:
    """``query`` checked and with typed values; ``types`` are the namespace's custom attributes.

    ORDER BY takes one of ``orderable`` (StartTime or CloseTime, either way, as
    Temporal's Elasticsearch visibility takes them; its SQL visibility refuses every
    ORDER BY) and is refused when counting; GROUP BY is checked, and only counting
    uses it. ``built_in`` are the listed table's own attributes: the executions' by default.
    """
    if query.order_by:
        _check_order(query.order_by, () if counting else orderable)
    if query.group_by:
        kind_of(query.group_by, types, built_in)
        if query.group_by != "ExecutionStatus":
            raise InvalidArgumentError(
                f"{q.NOT_SUPPORTED}: 'GROUP BY' clause is not supported for search attribute {query.group_by}"
            )
    where = _node(query.where, types, built_in) if query.where is not None else None
    return q.Query(where, () if counting else query.order_by, query.group_by if counting else "")


def _check_order(order_by: tuple[tuple[str, bool], ...], orderable: tuple[str, ...]) -> None:
    if not orderable:
        raise InvalidArgumentError(f"{q.NOT_SUPPORTED}: 'ORDER BY' clause")
    names = [name for name, _ in order_by]
    if len(names) > 1 or names[0] not in orderable:
        raise InvalidArgumentError(
            f"{q.NOT_SUPPORTED}: 'ORDER BY' clause takes one of {', '.join(orderable)}, got {', '.join(names)}"
        )


def kind_of(name: str, types: dict[str, int], built_in: dict[str, tuple[str, int]] = attrs.BUILT_IN) -> int:
    """The type of a search attribute the namespace knows; InvalidArgument otherwise."""
    if name in built_in:
        return built_in[name][1]
    kind = types.get(name, attrs.SYSTEM_CUSTOM.get(name))
    if kind is None:
        raise InvalidArgumentError(f"invalid query: invalid search attribute: {name}")
    return kind


def _node(node: q.Expr, types: dict[str, int], built_in: dict[str, tuple[str, int]]) -> q.Expr:
    if isinstance(node, q.BoolOp):
        return q.BoolOp(node.op, tuple(_node(o, types, built_in) for o in node.operands))
    if isinstance(node, q.Not):
        return q.Not(_node(node.operand, types, built_in))
    kind = kind_of(node.name, types, built_in)
    if isinstance(node, q.IsNull):
        return node
    if isinstance(node, q.Comparison):
        _require_operator(node.name, kind, node.op)
        if kind == attrs.TEXT:
            return dataclasses.replace(node, value=_text_phrases(node.name, node.value))
        return dataclasses.replace(node, value=_typed(node.name, kind, node.value))
    if isinstance(node, q.InList):
        _require_operator(node.name, kind, "NOT IN" if node.negated else "IN")
        return dataclasses.replace(node, values=tuple(_typed(node.name, kind, v) for v in node.values))
    if isinstance(node, q.Between):
        _require_operator(node.name, kind, "NOT BETWEEN" if node.negated else "BETWEEN")
        return dataclasses.replace(
            node, low=_typed(node.name, kind, node.low), high=_typed(node.name, kind, node.high)
        )
    _require_operator(node.name, kind, "STARTS_WITH")
    _typed(node.name, kind, node.prefix)
    if kind != attrs.KEYWORD or node.name == "ExecutionStatus":
        raise _unsupported(node.name, kind, "STARTS_WITH")
    return node


def _require_operator(name: str, kind: int, operator: str) -> None:
    if kind == attrs.TEXT and operator not in _TEXT_OPERATORS:
        raise _unsupported(name, kind, operator)
    if kind == attrs.KEYWORD_LIST and operator not in _KEYWORD_LIST_OPERATORS:
        raise _unsupported(name, kind, operator)


def _unsupported(name: str, kind: int, operator: str) -> InvalidArgumentError:
    return InvalidArgumentError(
        f"{q.NOT_SUPPORTED}: operator '{operator}' not supported for "
        f"{attrs.TYPE_NAMES[kind]} type search attribute '{name}'"
    )


def _text_phrases(name: str, value: object) -> tuple[str, ...]:
    if not isinstance(value, str):
        raise _wrong_type(name, attrs.TEXT, value)
    if not value.strip(" "):
        raise InvalidArgumentError(
            f"invalid query: invalid expression: no tokens found filtering on Text type "
            f"search attribute {name}"
        )
    return attrs.text_phrases(value)


def _typed(name: str, kind: int, value: object) -> object:
    """A filter value in the form the store compares: InvalidArgument if it has the wrong type."""
    if name == "ExecutionStatus":
        return attrs.status_number(value)
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if kind == attrs.DATETIME:
        if isinstance(value, str) or is_number:
            return attrs.to_epoch(value)
    elif kind == attrs.BOOL:
        if isinstance(value, bool):
            return value
    elif kind == attrs.INT:
        if is_number:
            return _within_int64(value)  # type: ignore[arg-type]
    elif kind == attrs.DOUBLE:
        if is_number:
            return value
    elif isinstance(value, str):
        return value
    raise _wrong_type(name, kind, value)


def _within_int64(value: int | float) -> int | float:
    """A bound for an Int attribute that every store can take.

    Whole numbers past 64 bits come as floats (as Temporal reads them); no stored Int
    is beyond the 64-bit range, so comparing with its end there answers the same.
    """
    if value >= _INT64_MAX:
        return _INT64_MAX
    if value <= -_INT64_MAX - 1:
        return -_INT64_MAX - 1
    return value


def _wrong_type(name: str, kind: int, value: object) -> InvalidArgumentError:
    return InvalidArgumentError(
        f"invalid query: invalid expression: invalid value type for search attribute {name} "
        f"of type {attrs.TYPE_NAMES[kind]}: {value!r}"
    )
