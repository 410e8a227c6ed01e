"""Compiles a parsed list filter into parameterized SQL, for any backend.

Built-in attributes are indexed columns and read the same on every backend.
Custom search attributes live in a JSON column, and how a JSON value is read,
bound and searched differs per database: each backend supplies a ``Dialect``
for exactly those parts. Values are always bound as parameters, never spliced
into the SQL.
"""

from __future__ import annotations

from typing import Protocol

from cadenza.exceptions import InvalidArgumentError
from cadenza.visibility import attributes as attrs
from cadenza.visibility import query as q

LISTED_COLUMNS = ("workflow_id, run_id, workflow_type, task_queue, status, start_time, close_time, "
                  "execution_time, history_length, search_payloads, memo")
DEFAULT_ORDER = "start_time DESC, run_id DESC"
SCHEDULE_COLUMNS: dict[str, tuple[str, int]] = {"ScheduleId": ("schedule_id", attrs.KEYWORD)}
"""The built-in attributes of the schedules table (the executions table's are ``attrs.BUILT_IN``)."""
SCHEDULE_ORDER = "create_time DESC, schedule_id"


class Dialect(Protocol):
    """What one database does differently when filtering on search attributes."""

    def placeholder(self, position: int) -> str:
        """The parameter marker for the ``position``-th (1-based) bound value."""

    def attribute(self, name: str) -> str:
        """A custom attribute's value, comparable with ``bind_attribute`` markers."""

    def attribute_text(self, name: str) -> str:
        """A custom attribute's value as text, for LIKE."""

    def bind_attribute(self, params: Params, value: object) -> str:
        """Bind ``value`` for comparison with ``attribute``; return its marker."""

    def list_contains(self, name: str, params: Params, value: object) -> str:
        """True when the KeywordList attribute ``name`` holds ``value`` (false when unset)."""

    def order(self, expression: str, descending: bool) -> str:
        """An ORDER BY term that sorts NULL lowest, as SQLite does by default."""


class Params:
    """Bound values in order, handing out each one's marker in the dialect's style."""

    def __init__(self, dialect: Dialect, *values: object) -> None:
        self.dialect = dialect
        self.values: list[object] = list(values)

    def add(self, value: object) -> str:
        self.values.append(value)
        return self.dialect.placeholder(len(self.values))


def listing(dialect: Dialect, namespace_id: str, query: q.Query, types: dict[str, int],
            limit: int, offset: int) -> tuple[str, list[object]]:
    """SQL and parameters listing the runs that match ``query``, in its order."""
    params = Params(dialect, namespace_id)
    where, order = _compile(query, types, params)
    sql = (f"SELECT {LISTED_COLUMNS} FROM executions WHERE namespace_id = {dialect.placeholder(1)} "
           f"AND ({where}) ORDER BY {order} LIMIT {params.add(limit)} OFFSET {params.add(offset)}")
    return sql, params.values


def counting(dialect: Dialect, namespace_id: str, query: q.Query,
             types: dict[str, int]) -> tuple[str, list[object]]:
    """SQL and parameters counting matching runs: (status, count) rows when grouped, else (NULL, count)."""
    params = Params(dialect, namespace_id)
    where, _ = _compile(query, types, params)
    head = f"FROM executions WHERE namespace_id = {dialect.placeholder(1)} AND ({where})"
    if query.group_by:
        return f"SELECT status, COUNT(*) {head} GROUP BY status", params.values
    return f"SELECT NULL, COUNT(*) {head}", params.values


def schedule_listing(dialect: Dialect, namespace_id: str, query: q.Query, types: dict[str, int],
                     limit: int, offset: int) -> tuple[str, list[object]]:
    """SQL and parameters listing the schedules that match ``query``'s filter, newest first.

    Schedule queries take no ORDER BY or GROUP BY (the API refuses them), so only the filter counts.
    """
    params = Params(dialect, namespace_id)
    where, _ = _compile(query, types, params, SCHEDULE_COLUMNS)
    sql = (f"SELECT namespace_id, schedule_id, version, state FROM schedules "
           f"WHERE namespace_id = {dialect.placeholder(1)} AND ({where}) ORDER BY {SCHEDULE_ORDER} "
           f"LIMIT {params.add(limit)} OFFSET {params.add(offset)}")
    return sql, params.values


def schedule_counting(dialect: Dialect, namespace_id: str, query: q.Query,
                      types: dict[str, int]) -> tuple[str, list[object]]:
    """SQL and parameters counting the schedules that match ``query``'s filter."""
    params = Params(dialect, namespace_id)
    where, _ = _compile(query, types, params, SCHEDULE_COLUMNS)
    return (f"SELECT COUNT(*) FROM schedules WHERE namespace_id = {dialect.placeholder(1)} "
            f"AND ({where})"), params.values


def _compile(query: q.Query, types: dict[str, int], params: Params,
             built_in: dict[str, tuple[str, int]] = attrs.BUILT_IN) -> tuple[str, str]:
    """(where, order by) for ``query``; ``types`` are the namespace's custom attributes.

    ``built_in`` names the table's own columns: the executions table's by default.
    """
    if query.group_by and query.group_by != "ExecutionStatus":
        raise InvalidArgumentError(
            f"invalid query: GROUP BY is only supported on ExecutionStatus, not {query.group_by}")
    target = _Target(types, built_in, params)
    where = _expr(query.where, target) if query.where is not None else "1 = 1"
    order = ", ".join(
        params.dialect.order(target.operand(name)[0], desc) for name, desc in query.order_by
    ) or DEFAULT_ORDER
    return where, order


class _Target:
    """What a filter is compiled against: the table's own columns, the namespace's attributes."""

    def __init__(self, types: dict[str, int], built_in: dict[str, tuple[str, int]],
                 params: Params) -> None:
        self.types = types
        self.built_in = built_in
        self.params = params

    def operand(self, name: str) -> tuple[str, int]:
        """The SQL expression for attribute ``name`` and its type."""
        if name in self.built_in:
            return self.built_in[name]
        kind = self.types.get(name, attrs.SYSTEM_CUSTOM.get(name))
        if kind is None:
            raise InvalidArgumentError(f"invalid query: unknown search attribute {name}")
        return self.params.dialect.attribute(_checked_name(name)), kind

    def text(self, name: str, column: str) -> str:
        return column if name in self.built_in else self.params.dialect.attribute_text(name)

    def bind(self, name: str, kind: int, value: object) -> str:
        converted = _value(name, kind, value)
        if name in self.built_in:
            return self.params.add(converted)
        return self.params.dialect.bind_attribute(self.params, converted)


def _expr(node: q.Expr, target: _Target) -> str:
    params = target.params
    if isinstance(node, q.BoolOp):
        return "(" + f" {node.op} ".join(_expr(o, target) for o in node.operands) + ")"
    if isinstance(node, q.Not):
        return f"NOT ({_expr(node.operand, target)})"
    column, kind = target.operand(node.name)
    if isinstance(node, q.IsNull):
        return f"{column} IS {'NOT ' if node.negated else ''}NULL"
    if isinstance(node, q.StartsWith):
        marker = params.add(_escape_like(node.prefix) + "%")
        return f"{target.text(node.name, column)} LIKE {marker} ESCAPE '\\'"
    if kind == attrs.KEYWORD_LIST:
        return _keyword_list(node, params)
    if isinstance(node, q.InList):
        marks = ", ".join(target.bind(node.name, kind, v) for v in node.values)
        return f"{column} {'NOT ' if node.negated else ''}IN ({marks})"
    if isinstance(node, q.Between):
        low, high = target.bind(node.name, kind, node.low), target.bind(node.name, kind, node.high)
        return f"{column} {'NOT ' if node.negated else ''}BETWEEN {low} AND {high}"
    assert isinstance(node, q.Comparison)
    if kind == attrs.TEXT and node.op in ("=", "!="):
        marker = params.add("%" + _escape_like(str(node.value)) + "%")
        negation = "NOT " if node.op == "!=" else ""
        return f"{target.text(node.name, column)} {negation}LIKE {marker} ESCAPE '\\'"
    return f"{column} {node.op} {target.bind(node.name, kind, node.value)}"


def _keyword_list(node: q.Expr, params: Params) -> str:
    """KeywordList matches when any element matches, as in Temporal."""
    dialect = params.dialect
    if isinstance(node, q.Comparison) and node.op in ("=", "!="):
        contains = dialect.list_contains(node.name, params, node.value)
        return contains if node.op == "=" else f"NOT {contains}"
    if isinstance(node, q.InList):
        anyof = "(" + " OR ".join(dialect.list_contains(node.name, params, v) for v in node.values) + ")"
        return f"NOT {anyof}" if node.negated else anyof
    raise InvalidArgumentError("invalid query: KeywordList attributes support =, != and IN only")


def _value(name: str, kind: int, value: object) -> object:
    if name == "ExecutionStatus":
        return attrs.status_number(value)
    if kind == attrs.DATETIME:
        return attrs.to_epoch(value)
    if kind == attrs.BOOL:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise InvalidArgumentError(f"invalid query: {name} takes true or false")
    if kind in (attrs.INT, attrs.DOUBLE) and not isinstance(value, int | float):
        raise InvalidArgumentError(f"invalid query: {name} takes a number, not {value!r}")
    return value


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _checked_name(name: str) -> str:
    """Attribute names end up inside SQL string literals (JSON paths), so only plain names pass."""
    if not name.replace("_", "").isalnum():
        raise InvalidArgumentError(f"invalid query: bad attribute name {name!r}")
    return name
