"""Compiles a checked list filter into a parameterized SQLite WHERE clause.

Built-in attributes are columns with indexes; custom search attributes live in
a JSON column and are read with ``json_extract``. Values are always bound as
parameters, never spliced into the SQL. The filter has been checked already
(``cadenza.visibility.filters``): attributes exist and values have their types.

Listings come in Temporal's order: open runs first, then closed ones by close
time, newest first, then by start time, newest first, then by run ID. The
indexes in ``schema.sql`` hold exactly ``LISTING_ORDER``, so the newest page of
a filtered listing is read from an index without sorting.
"""

from __future__ import annotations

from cadenza.exceptions import InvalidArgumentError
from cadenza.persistence.records import ListCursor
from cadenza.visibility import attributes as attrs
from cadenza.visibility import query as q

LISTED_COLUMNS = ("workflow_id, run_id, workflow_type, task_queue, status, start_time, close_time, "
                  "execution_time, history_length, search_payloads, memo")
SCHEDULE_COLUMNS: dict[str, tuple[str, int]] = {"ScheduleId": ("schedule_id", attrs.KEYWORD)}
"""The built-in attributes of the schedules table."""
# Open runs have no close time; they sort as if closing at the end of time.
SORT_CLOSE_TIME = "coalesce(close_time, 9e18)"
LISTING_ORDER = f"{SORT_CLOSE_TIME} DESC, start_time DESC, run_id"
# Rows after a page's last (close, start, run), in LISTING_ORDER.
AFTER_CURSOR = (f"(({SORT_CLOSE_TIME} = ? AND start_time = ? AND run_id > ?)"
                f" OR ({SORT_CLOSE_TIME} = ? AND start_time < ?) OR {SORT_CLOSE_TIME} < ?)")
OPEN_CLOSE_TIME = 9e18


def list_statement(namespace_id: str, query: q.Query, types: dict[str, int], limit: int,
                   after: ListCursor | None) -> tuple[str, list[object]]:
    """The SELECT for one listing page: runs matching ``query`` after ``after``, in order."""
    where, params = compile_where(query, types)
    if after is not None:
        close = OPEN_CLOSE_TIME if after.close_time is None else after.close_time
        where = f"{AFTER_CURSOR} AND ({where})"
        params = [close, after.start_time, after.run_id, close, after.start_time, close, *params]
    else:
        where = f"({where})"
    sql = (f"SELECT {LISTED_COLUMNS} FROM executions WHERE namespace_id = ? AND {where} "
           f"ORDER BY {LISTING_ORDER} LIMIT ?")
    return sql, [namespace_id, *params, limit]


def count_statement(namespace_id: str, query: q.Query,
                    types: dict[str, int]) -> tuple[str, list[object]]:
    """The SELECT counting runs that match ``query``, by status for GROUP BY ExecutionStatus."""
    where, params = compile_where(query, types)
    group = "status" if query.group_by else "NULL"
    sql = (f"SELECT {group}, COUNT(*) FROM executions WHERE namespace_id = ? AND ({where}) "
           f"GROUP BY {group}")
    return sql, [namespace_id, *params]


def compile_where(query: q.Query, types: dict[str, int],
                  built_in: dict[str, tuple[str, int]] | None = None) -> tuple[str, list[object]]:
    """(where, params) for a checked ``query``; ``types`` are the namespace's custom attributes.

    ``built_in`` names the table's own columns (the executions table's by default).
    """
    params: list[object] = []
    columns = attrs.BUILT_IN if built_in is None else built_in
    where = _expr(query.where, types, params, columns) if query.where is not None else "1 = 1"
    return where, params


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
    if kind == attrs.TEXT:
        return _text(node, column, params)
    if isinstance(node, q.InList):
        params.extend(node.values)
        marks = ", ".join("?" for _ in node.values)
        return f"{column} {'NOT ' if node.negated else ''}IN ({marks})"
    if isinstance(node, q.Between):
        params.extend((node.low, node.high))
        return f"{column} {'NOT ' if node.negated else ''}BETWEEN ? AND ?"
    assert isinstance(node, q.Comparison)
    params.append(node.value)
    return f"{column} {node.op} ?"


def _text(node: q.Expr, column: str, params: list[object]) -> str:
    """Text matches when any phrase of the value occurs among its words.

    The match is never NULL, so a run without the attribute does not match
    ``=`` and does match ``!=`` (and ``NOT ... =``), as in Temporal.
    """
    assert isinstance(node, q.Comparison) and isinstance(node.value, tuple)
    params.extend(node.value)
    # A value of separators only ("-") has no words, and matches nothing.
    found = " OR ".join(f"instr({column}, ?) > 0" for _ in node.value) or "0"
    matched = f"coalesce({found}, 0)"
    return matched if node.op == "=" else f"NOT {matched}"


def _keyword_list(node: q.Expr, column: str, params: list[object]) -> str:
    """KeywordList matches when any element matches; a run without it never matches."""
    json_path = column.removeprefix("json_extract(search_attributes, ").removesuffix(")")
    source = f"json_each(search_attributes, {json_path})"
    if isinstance(node, q.Comparison):
        params.append(node.value)
        exists = f"EXISTS (SELECT 1 FROM {source} WHERE value = ?)"
        return exists if node.op == "=" else f"NOT {exists}"
    assert isinstance(node, q.InList)
    params.extend(node.values)
    marks = ", ".join("?" for _ in node.values)
    exists = f"EXISTS (SELECT 1 FROM {source} WHERE value IN ({marks}))"
    return f"NOT {exists}" if node.negated else exists


def _column(name: str, types: dict[str, int],
            columns: dict[str, tuple[str, int]]) -> tuple[str, int]:
    if name in columns:
        return columns[name]
    kind = types.get(name, attrs.SYSTEM_CUSTOM.get(name, attrs.KEYWORD))
    return f"json_extract(search_attributes, '$.\"{_quote_path(name)}\"')", kind


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _quote_path(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise InvalidArgumentError(f"invalid query: invalid search attribute: {name}")
    return name
