"""Durations and points in time as people write them: ``30d``, ``12h``, ``2026-12-03``."""

from __future__ import annotations

import re
from datetime import UTC, datetime

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")


def parse_duration(text: str) -> float:
    """Seconds in ``text``: a number and a unit (``90s``, ``15m``, ``12h``, ``30d``, ``2w``)."""
    match = _DURATION.match(text.lower())
    if match is None:
        raise ValueError(f"{text!r} is not a duration: write a number and s, m, h, d or w (30d)")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_since(text: str, now: float) -> float:
    """The time ``text`` means: a duration before ``now`` (``1h``), or an ISO date or time
    (``2026-12-03``, ``2026-12-03T10:00:00Z``; UTC unless it names an offset)."""
    try:
        return now - parse_duration(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is neither a duration (1h, 7d) nor an ISO date or time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
