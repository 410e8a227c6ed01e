"""Compiles a parsed list filter into a parameterized SQLite WHERE and ORDER BY.

Built-in attributes are columns with indexes; custom search attributes live in
a JSON column and are read with ``json_extract``. Values are always bound as
parameters, never spliced into the SQL.
"""

from __future__ import annotations

from cadenza.exceptions import InvalidArgumentError
from cadenza.visibility import attributes as attrs
from cadenza.visibility import query as q

LISTED_COLUMNS = ("workflow_id, run_id, workflow_type, task_queue, status, start_time, close_time, "
                  "execution_time, history_length, search_payloads, memo")
DEFAULT_ORDER = "start_time DESC, run_id DESC"
SCHEDULE_COLUMNS: dict[str, tuple[str, int]] = {"ScheduleId": ("schedule_id", attrs.KEYWORD)}
"""The built-in attributes of the schedules table."""


def compile_query(query: q.Query, types: dict[str, int],
                  built_in: dict[str, tuple[str, int]] | None = None) -> tuple[str, list[object], str]:
    """(where, params, order by) for ``query``; ``types`` are the namespace's custom attributes.

    ``built_in`` names the table's own columns (the executions table's by default).
    """
    params: list[object] = []
    columns = attrs.BUILT_IN if built_in is None else built_in
    where = _expr(query.where, types, params, columns) if query.where is not None else "1 = 1"
    if query.group_by and query.group_by != "ExecutionStatus":
        raise InvalidArgumentError(
            f"invalid query: GROUP BY is only supported on ExecutionStatus, not {query.group_by}")
    order = ", ".join(
        f"{_column(name, types, columns)[0]} {'DESC' if desc else 'ASC'}"
        for name, desc in query.order_by
    ) or DEFAULT_ORDER
    return where, params, order


def _expr(node: q.Expr, types: dict[str, int], params: list[object],
          columns: dict[str, tuple[str, int]]) -> str:
    if isinstance(node, q.BoolOp):
        return "(" + f" {node.op} ".join(_expr(o, types, params, columns)
                                          for o in node.operands) + ")"
    if isinstance(node, q.Not):
        return f"NOT ({_expr(node.operand, types, params, columns)})"
    column, kind = _column(node.name, types, columns)
    if isinstance(node, q.IsNull):
        return f"{column} IS {'NOT ' if node.negated else ''}NULL"
    if isinstance(node, q.StartsWith):
        params.append(_escape_like(node.prefix) + "%")
        return f"{column} LIKE ? ESCAPE '\\'"
    if kind == attrs.KEYWORD_LIST:
        return _keyword_list(node, column, params)
    if isinstance(node, q.InList):
        params.extend(_value(node.name, kind, v) for v in node.values)
        marks = ", ".join("?" for _ in node.values)
        return f"{column} {'NOT ' if node.negated else ''}IN ({marks})"
    if isinstance(node, q.Between):
        params.extend((_value(node.name, kind, node.low), _value(node.name, kind, node.high)))
        return f"{column} {'NOT ' if node.negated else ''}BETWEEN ? AND ?"
    assert isinstance(node, q.Comparison)
    if kind == attrs.TEXT and node.op in ("=", "!="):
        params.append("%" + _escape_like(str(node.value)) + "%")
        return f"{column} {'NOT ' if node.op == '!=' else ''}LIKE ? ESCAPE '\\'"
    params.append(_value(node.name, kind, node.value))
    return f"{column} {node.op} ?"


def _keyword_list(node: q.Expr, column: str, params: list[object]) -> str:
    """KeywordList matches when any element matches, as in Temporal."""
    json_path = column.removeprefix("json_extract(search_attributes, ").removesuffix(")")
    source = f"json_each(search_attributes, {json_path})"
    if isinstance(node, q.Comparison) and node.op in ("=", "!="):
        params.append(node.value)
        exists = f"EXISTS (SELECT 1 FROM {source} WHERE value = ?)"
        return exists if node.op == "=" else f"NOT {exists}"
    if isinstance(node, q.InList):
        params.extend(node.values)
        marks = ", ".join("?" for _ in node.values)
        exists = f"EXISTS (SELECT 1 FROM {source} WHERE value IN ({marks}))"
        return f"NOT {exists}" if node.negated else exists
    raise InvalidArgumentError("invalid query: KeywordList attributes support =, != and IN only")


def _column(name: str, types: dict[str, int],
            columns: dict[str, tuple[str, int]]) -> tuple[str, int]:
    if name in columns:
        return columns[name]
    kind = types.get(name, attrs.SYSTEM_CUSTOM.get(name))
    if kind is None:
        raise InvalidArgumentError(f"invalid query: unknown search attribute {name}")
    return f"json_extract(search_attributes, '$.\"{_quote_path(name)}\"')", kind


def _value(name: str, kind: int, value: object) -> object:
    if name == "ExecutionStatus":
        return attrs.status_number(value)
    if kind == attrs.DATETIME:
        return attrs.to_epoch(value)
    if kind == attrs.BOOL:
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return int(value.lower() == "true")
        raise InvalidArgumentError(f"invalid query: {name} takes true or false")
    if kind in (attrs.INT, attrs.DOUBLE) and not isinstance(value, int | float):
        raise InvalidArgumentError(f"invalid query: {name} takes a number, not {value!r}")
    return value


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _quote_path(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise InvalidArgumentError(f"invalid query: bad attribute name {name!r}")
    return name
