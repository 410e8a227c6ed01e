"""A listing's filter as a URL query gives it: ``?namespace=&principal=&since=&before=&limit=``."""

from __future__ import annotations

from collections.abc import Mapping

from cadenza.audit.times import parse_since
from cadenza.persistence.audit_records import AuditFilter

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


def filter_from(query: Mapping[str, str], now: float, namespace: str | None = None) -> AuditFilter:
    """The filter ``query`` asks for; ``namespace``, when given (a page under a namespace),
    stands for the query's. Raises ``ValueError`` naming the bad parameter."""
    since = query.get("since", "").strip()
    try:
        since_time = parse_since(since, now) if since else None
    except ValueError as error:
        raise ValueError(f"since: {error}") from None
    return AuditFilter(
        namespace=namespace if namespace is not None else (query.get("namespace") or None),
        principal=query.get("principal") or None,
        since=since_time,
        before_id=_number(query, "before"),
        limit=_number(query, "limit", most=MAX_LIMIT) or DEFAULT_LIMIT,
    )


def _number(query: Mapping[str, str], name: str, most: int | None = None) -> int | None:
    raw = query.get(name, "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a whole number") from None
    if value < 1 or (most is not None and value > most):
        raise ValueError(f"{name}={value} is out of range: 1 to {most or 'any'}")
    return value
