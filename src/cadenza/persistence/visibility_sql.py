"""Compiles a checked list filter into parameterized SQL, for any backend.

The filter has been checked already (``cadenza.visibility.filters``): its
attributes exist and its values have their types, in the form the store keeps
them. Built-in attributes are indexed columns and read the same on every
backend. Custom search attributes live in a JSON column, and how a JSON value
is read, bound and searched differs per database: each backend supplies a
``Dialect`` for exactly those parts. Values are always bound as parameters,
never spliced into the SQL.

Listings come in Temporal's order: open runs first, then closed ones by close
time, newest first, then by start time, newest first, then by run ID; or in the
order a filter's ORDER BY asks (``listing_order``). Each backend's listing indexes
hold exactly ``LISTING_ORDER``, so the newest page of a filtered listing is read
from an index without sorting, and later pages continue after the previous page's
last run (a cursor, never an offset).
"""

from __future__ import annotations

from typing import Protocol

from cadenza.exceptions import InvalidArgumentError
from cadenza.persistence import listing_order
from cadenza.persistence.records import ListCursor
from cadenza.visibility import attributes as attrs
from cadenza.visibility import query as q

LISTED_COLUMNS = (
    "workflow_id, run_id, workflow_type, task_queue, status, start_time, close_time, "
    "execution_time, history_length, search_payloads, memo, search_attributes"
)
SCHEDULE_COLUMNS = attrs.SCHEDULE_BUILT_IN
"""The built-in attributes of the schedules table (the executions table's are ``attrs.BUILT_IN``)."""
SCHEDULE_ORDER = "create_time DESC, schedule_id"

LISTING_ORDER = listing_order.order_clause(listing_order.keys(()))
"""Must stay the expression of the listing indexes in both backends' migrations."""


class Dialect(Protocol):
    """What one database does differently when filtering on search attributes."""

    def placeholder(self, position: int) -> str:
        """The parameter marker for the ``position``-th (1-based) bound value."""

    def attribute(self, name: str) -> str:
        """A custom attribute's value, comparable with ``bind_attribute`` markers."""

    def attribute_text(self, name: str) -> str:
        """A custom attribute's value as text, for LIKE and word matching."""

    def bind_attribute(self, params: Params, value: object) -> str:
        """Bind ``value`` for comparison with ``attribute``; return its marker."""

    def list_contains(self, name: str, params: Params, value: object) -> str:
        """True when the KeywordList attribute ``name`` holds ``value`` (false when unset)."""

    def contains_text(self, text: str, marker: str) -> str:
        """True when the bound text ``marker`` occurs in ``text`` (NULL when ``text`` is)."""

    def any_of(self, column: str, params: Params, values: list[object], attribute: bool) -> str:
        """True when ``column`` equals one of ``values``, all bound as one parameter;
        ``attribute`` when ``column`` is a custom attribute (from ``attribute``)."""


class Params:
    """Bound values in order, handing out each one's marker in the dialect's style."""

    def __init__(self, dialect: Dialect, *values: object) -> None:
        self.dialect = dialect
        self.values: list[object] = list(values)

    def add(self, value: object) -> str:
        self.values.append(value)
        return self.dialect.placeholder(len(self.values))


def listing(
    dialect: Dialect,
    namespace_id: str,
    query: q.Query,
    types: dict[str, int],
    limit: int,
    after: ListCursor | None,
) -> tuple[str, list[object]]:
    """SQL and parameters for one listing page: runs matching ``query`` after ``after``, in order."""
    params = Params(dialect, namespace_id)
    order = listing_order.keys(query.order_by)
    # Bound in the order the markers appear: SQLite's ``?`` are positional.
    cursor = f"{listing_order.after(order, after, params)} AND " if after is not None else ""
    where = f"{cursor}({_where(query, types, params)})"
    sql = (
        f"SELECT {LISTED_COLUMNS} FROM executions WHERE namespace_id = {dialect.placeholder(1)} "
        f"AND {where} ORDER BY {listing_order.order_clause(order)} LIMIT {params.add(limit)}"
    )
    return sql, params.values


def counting(
    dialect: Dialect, namespace_id: str, query: q.Query, types: dict[str, int]
) -> tuple[str, list[object]]:
    """SQL and parameters counting matching runs: (status, count) rows when grouped, else (NULL, count)."""
    params = Params(dialect, namespace_id)
    where = _where(query, types, params)
    head = f"FROM executions WHERE namespace_id = {dialect.placeholder(1)} AND ({where})"
    if query.group_by:
        return f"SELECT status, COUNT(*) {head} GROUP BY status", params.values
    return f"SELECT NULL, COUNT(*) {head}", params.values


def schedule_listing(
    dialect: Dialect, namespace_id: str, query: q.Query, types: dict[str, int], limit: int, offset: int
) -> tuple[str, list[object]]:
    """SQL and parameters listing the schedules that match ``query``'s filter, newest first."""
    params = Params(dialect, namespace_id)
    where = _where(query, types, params, SCHEDULE_COLUMNS)
    sql = (
        f"SELECT namespace_id, schedule_id, version, state FROM schedules "
        f"WHERE namespace_id = {dialect.placeholder(1)} AND ({where}) ORDER BY {SCHEDULE_ORDER} "
        f"LIMIT {params.add(limit)} OFFSET {params.add(offset)}"
    )
    return sql, params.values


def schedule_counting(
    dialect: Dialect, namespace_id: str, query: q.Query, types: dict[str, int]
) -> tuple[str, list[object]]:
    """SQL and parameters counting the schedules that match ``query``'s filter."""
    params = Params(dialect, namespace_id)
    where = _where(query, types, params, SCHEDULE_COLUMNS)
    return (
        f"SELECT COUNT(*) FROM schedules WHERE namespace_id = {dialect.placeholder(1)} AND ({where})"
    ), params.values


def filter_condition(
    query: q.Query, types: dict[str, int], params: Params, built_in: dict[str, tuple[str, int]]
) -> str:
    """The WHERE condition of a checked ``query`` against another table's own columns."""
    return _where(query, types, params, built_in)


def _where(
    query: q.Query,
    types: dict[str, int],
    params: Params,
    built_in: dict[str, tuple[str, int]] = attrs.BUILT_IN,
) -> str:
    """The WHERE condition for a checked ``query``; ``types`` are the namespace's custom attributes.

    ``built_in`` names the table's own columns: the executions table's by default.
    """
    if query.where is None:
        return "1 = 1"
    bound_before = len(params.values)
    where = _expr(query.where, _Target(types, built_in, params))
    if len(params.values) - bound_before > MAX_BOUND_VALUES:
        raise InvalidArgumentError(
            f"invalid query: the filter compares with more than {MAX_BOUND_VALUES} values"
        )
    if _paren_depth(where) > MAX_SQL_NESTING:
        raise InvalidArgumentError(
            f"invalid query: AND and OR nest too deeply in the filter (at most "
            f"{MAX_SQL_NESTING} levels of alternating AND and OR)"
        )
    return where


def _paren_depth(sql: str) -> int:
    """How deeply parentheses nest in generated SQL (values are bound, never inlined)."""
    depth = deepest = 0
    for char in sql:
        if char == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif char == ")":
            depth -= 1
    return deepest


class _Target:
    """What a filter is compiled against: the table's own columns, the namespace's attributes."""

    def __init__(self, types: dict[str, int], built_in: dict[str, tuple[str, int]], params: Params) -> None:
        self.types = types
        self.built_in = built_in
        self.params = params

    def operand(self, name: str) -> tuple[str, int]:
        """The SQL expression for attribute ``name`` and its type."""
        if name in self.built_in:
            return self.built_in[name]
        kind = self.types.get(name, attrs.SYSTEM_CUSTOM.get(name, attrs.KEYWORD))
        return self.params.dialect.attribute(_checked_name(name)), kind

    def text(self, name: str, column: str) -> str:
        return column if name in self.built_in else self.params.dialect.attribute_text(name)

    def bind(self, name: str, value: object) -> str:
        if name in self.built_in:
            return self.params.add(value)
        return self.params.dialect.bind_attribute(self.params, value)


def _expr(node: q.Expr, target: _Target, negated: bool = False) -> str:
    """SQL for ``node`` (for its negation with ``negated``).

    NOT is pushed down to the predicates (De Morgan holds in SQL's three-valued
    logic too), chains of one operator are merged, and the most deeply nested
    operand goes first, so the SQL nests only where AND and OR alternate, and to
    the left, where SQLite's parser has room for about 90 levels (to the right,
    about 30).
    """
    if isinstance(node, q.Not):
        return _expr(node.operand, target, not negated)
    if isinstance(node, q.BoolOp):
        op = _DUAL[node.op] if negated else node.op
        operands = sorted(_merged(node), key=_nesting, reverse=True)
        return _joined(op, [_expr(o, target, negated) for o in operands])
    predicate = _predicate(node, target)
    return f"NOT ({predicate})" if negated else predicate


_DUAL = {"AND": "OR", "OR": "AND"}


def _nesting(node: q.Expr) -> int:
    """How many alternations of AND and OR ``node`` holds, as ``_expr`` will nest them."""
    if isinstance(node, q.Not):
        return _nesting(node.operand)
    if isinstance(node, q.BoolOp):
        return 1 + max(_nesting(o) for o in _merged(node))
    return 0


def _merged(node: q.BoolOp) -> list[q.Expr]:
    """The operands of ``node``, with those that are chains of the same operator spliced in."""
    operands: list[q.Expr] = []
    for operand in node.operands:
        if isinstance(operand, q.BoolOp) and operand.op == node.op:
            operands.extend(_merged(operand))
        else:
            operands.append(operand)
    return operands


def _predicate(node: q.Expr, target: _Target) -> str:
    params = target.params
    assert not isinstance(node, q.BoolOp | q.Not)
    column, kind = target.operand(node.name)
    if isinstance(node, q.IsNull):
        return f"{column} IS {'NOT ' if node.negated else ''}NULL"
    if isinstance(node, q.StartsWith):
        marker = params.add(_escape_like(node.prefix) + "%")
        return f"{target.text(node.name, column)} LIKE {marker} ESCAPE '\\'"
    if kind == attrs.KEYWORD_LIST:
        return _keyword_list(node, params)
    if kind == attrs.TEXT:
        return _text(node, target.text(node.name, column), params)
    if isinstance(node, q.InList):
        if len(node.values) > LONG_IN_LIST:
            found = params.dialect.any_of(column, params, list(node.values), node.name not in target.built_in)
            return f"NOT ({found})" if node.negated else found
        marks = ", ".join(target.bind(node.name, v) for v in node.values)
        return f"{column} {'NOT ' if node.negated else ''}IN ({marks})"
    if isinstance(node, q.Between):
        low, high = target.bind(node.name, node.low), target.bind(node.name, node.high)
        return f"{column} {'NOT ' if node.negated else ''}BETWEEN {low} AND {high}"
    assert isinstance(node, q.Comparison)
    return f"{column} {node.op} {target.bind(node.name, node.value)}"


def _text(node: q.Expr, text: str, params: Params) -> str:
    """Text matches when any phrase of the value occurs among its words.

    Values are kept as their words between single spaces and phrases come the
    same way (``attrs.text_index_form``), so a phrase matches exactly when it
    occurs in the kept value. The match is never NULL, so a run without the
    attribute does not match ``=`` and does match ``!=`` (and ``NOT ... =``), as
    in Temporal.
    """
    assert isinstance(node, q.Comparison) and isinstance(node.value, tuple)
    found = [params.dialect.contains_text(text, params.add(phrase)) for phrase in node.value]
    # A value of separators only ("-") has no words, and matches nothing.
    matched = f"coalesce({_joined('OR', found) if found else 'FALSE'}, FALSE)"
    return matched if node.op == "=" else f"NOT {matched}"


def _keyword_list(node: q.Expr, params: Params) -> str:
    """KeywordList matches when any element matches; ``!=`` and NOT IN match a run without it."""
    dialect = params.dialect
    if isinstance(node, q.Comparison):
        contains = dialect.list_contains(node.name, params, node.value)
        return contains if node.op == "=" else f"NOT {contains}"
    assert isinstance(node, q.InList)
    anyof = _joined("OR", [dialect.list_contains(node.name, params, v) for v in node.values])
    return f"NOT {anyof}" if node.negated else anyof


def _joined(op: str, parts: list[str]) -> str:
    """``parts`` joined by ``op``, in groups of at most ``_GROUP``, groups joined likewise.

    Databases parse ``a OR b OR c ...`` into a tree one level deeper per operand and
    refuse deep ones (SQLite past 1,000 levels); grouping keeps both that depth and
    the nesting of parentheses small, so a long IN list on a KeywordList or many
    Text phrases compile at any length.
    """
    if len(parts) == 1:
        return parts[0]
    if len(parts) > _GROUP:
        size = -(-len(parts) // _GROUP)
        parts = [_joined(op, parts[i : i + size]) for i in range(0, len(parts), size)]
    return "(" + f" {op} ".join(parts) + ")"


_GROUP = 64
LONG_IN_LIST = 100
"""An IN list longer than this is bound as one list, not as one parameter per value:
PostgreSQL takes at most 32,767 parameters in a statement."""
MAX_BOUND_VALUES = 30_000
"""Most values a filter may bind (KeywordList and Text matches bind one per value)."""
MAX_SQL_NESTING = 64
"""Deepest nesting of parentheses a filter may compile to; SQLite's parser has room for
about 90, and a predicate's own SQL takes a few."""


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _checked_name(name: str) -> str:
    """Attribute names end up inside SQL string literals (JSON paths), so only plain names pass."""
    if not name.replace("_", "").isalnum():
        raise InvalidArgumentError(f"invalid query: invalid search attribute: {name}")
    return name
