"""The audit listing's statement, built from the conditions a filter sets.

Each condition is a fixed fragment with a bound value, so a filter's text never
reaches the SQL; leaving out the conditions a filter does not set lets the
database use the index that fits (by namespace, by principal, by time).
"""

from __future__ import annotations

from collections.abc import Callable

from cadenza.persistence.audit_records import COLUMNS, AuditFilter


def listing(placeholder: Callable[[int], str], wanted: AuditFilter) -> tuple[str, list[object]]:
    """The SELECT for ``wanted`` and its parameters; ``placeholder(n)`` marks the n-th (1-based)."""
    conditions: list[str] = []
    params: list[object] = []

    def where(column: str, operator: str, value: object) -> None:
        params.append(value)
        conditions.append(f"{column} {operator} {placeholder(len(params))}")

    if wanted.namespace is not None:
        where("namespace", "=", wanted.namespace)
    if wanted.principal is not None:
        where("principal_name", "=", wanted.principal)
    if wanted.since is not None:
        where("recorded_at", ">=", wanted.since)
    if wanted.before_id is not None:
        where("id", "<", wanted.before_id)
    params.append(wanted.limit)
    clause = f"WHERE {' AND '.join(conditions)} " if conditions else ""
    return (
        f"SELECT {COLUMNS} FROM audit_log {clause}ORDER BY id DESC LIMIT {placeholder(len(params))}",
        params,
    )
