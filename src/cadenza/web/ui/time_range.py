"""The list's quick time filter: start or close time within the last 15 minutes, hour, day,
week, or between two moments, written into the filter as Temporal's UI writes it
(``StartTime > "2024-05-01T10:00:00Z"``), where a person sees and can edit it."""

from __future__ import annotations

import datetime
import re

FIELDS = ("StartTime", "CloseTime")
RANGES = {
    "15m": datetime.timedelta(minutes=15),
    "1h": datetime.timedelta(hours=1),
    "24h": datetime.timedelta(hours=24),
    "7d": datetime.timedelta(days=7),
}
CUSTOM = "custom"

_MOMENT = r'"[^"]*"'
_CLAUSE = (
    rf"(?:StartTime|CloseTime) (?:> {_MOMENT}|>= {_MOMENT}|<= {_MOMENT}|BETWEEN {_MOMENT} AND {_MOMENT})"
)
_EARLIER_CLAUSE = re.compile(rf"^{_CLAUSE}(?:\s+AND\s+|$)|\s+AND\s+{_CLAUSE}(?=\s+AND\s+|$)")
"""A time clause this form wrote before, with the AND that joins it to the rest."""


_OR = re.compile(r"\bOR\b", re.IGNORECASE)


class BadRange(ValueError):
    """The time range cannot be read; the filter is left as it was."""


def clause(field: str, chosen: str, start: str, end: str, now: datetime.datetime) -> str:
    """The filter clause for a range: ``chosen`` one of ``RANGES`` before ``now``, or
    ``custom`` between ``start`` and ``end`` (either may be left empty), read as UTC."""
    if field not in FIELDS:
        raise BadRange(f"time range on {field!r}: expected one of {', '.join(FIELDS)}")
    if chosen in RANGES:
        return f'{field} > "{_text(now - RANGES[chosen])}"'
    if chosen != CUSTOM:
        raise BadRange(f"time range {chosen!r}: expected one of {', '.join([*RANGES, CUSTOM])}")
    low, high = _moment(start), _moment(end)
    if low and high:
        if low > high:
            raise BadRange("the time range ends before it starts")
        return f'{field} BETWEEN "{_text(low)}" AND "{_text(high)}"'
    if low:
        return f'{field} >= "{_text(low)}"'
    if high:
        return f'{field} <= "{_text(high)}"'
    raise BadRange("a custom time range needs a start, an end or both")


def with_clause(query: str, time_clause: str) -> str:
    """``query`` with ``time_clause`` in place of any time clause written before."""
    rest = _EARLIER_CLAUSE.sub("", query.strip()).strip()
    if _OR.search(rest) and not (rest.startswith("(") and rest.endswith(")")):
        rest = f"({rest})"  # AND binds tighter than OR: the range must hold for the whole filter
    return f"{rest} AND {time_clause}" if rest else time_clause


def _moment(text: str) -> datetime.datetime | None:
    if not text.strip():
        return None
    try:
        moment = datetime.datetime.fromisoformat(text.strip())
    except ValueError as error:
        raise BadRange(f"{text!r} is not a date and time (YYYY-MM-DDTHH:MM)") from error
    return moment.replace(tzinfo=datetime.UTC) if moment.tzinfo is None else moment


def _text(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
