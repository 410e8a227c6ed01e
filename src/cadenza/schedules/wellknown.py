"""Range checks for protobuf durations and timestamps, worded as Go's protobuf runtime words them.

Temporal's server checks a schedule's durations with Go's ``CheckValid``, so its
errors quote that wording; Cadenza checks the same ranges before a value is
stored, because a timestamp outside them can be neither computed with nor
returned to a client.
"""

from __future__ import annotations

from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

MAX_DURATION_SECONDS = 315_576_000_000
"""10,000 years, the protobuf limit for a Duration."""
MIN_TIMESTAMP_SECONDS = -62_135_596_800
"""0001-01-01T00:00:00Z."""
MAX_TIMESTAMP_SECONDS = 253_402_300_799
"""9999-12-31T23:59:59Z."""
_NANOS = 1_000_000_000


def duration_problem(value: Duration) -> str | None:
    """Why ``value`` is not a valid Duration, in Go's words; None when it is valid."""
    seconds, nanos = value.seconds, value.nanos
    shown = _shown(seconds, nanos)
    if seconds > MAX_DURATION_SECONDS:
        return f"proto: duration ({shown}) exceeds +10000 years"
    if seconds < -MAX_DURATION_SECONDS:
        return f"proto: duration ({shown}) exceeds -10000 years"
    if not -_NANOS < nanos < _NANOS:
        return f"proto: duration ({shown}) has out-of-range nanos"
    if (seconds > 0 > nanos) or (seconds < 0 < nanos):
        return f"proto: duration ({shown}) has seconds and nanos with different signs"
    return None


def timestamp_problem(value: Timestamp) -> str | None:
    """Why ``value`` is not a valid Timestamp, in Go's words; None when it is valid."""
    seconds, nanos = value.seconds, value.nanos
    shown = _shown(seconds, nanos)
    if seconds < MIN_TIMESTAMP_SECONDS:
        return f"proto: timestamp ({shown}) before 0001-01-01"
    if seconds > MAX_TIMESTAMP_SECONDS:
        return f"proto: timestamp ({shown}) after 9999-12-31"
    if not 0 <= nanos < _NANOS:
        return f"proto: timestamp ({shown}) has out-of-range nanos"
    return None


def seconds_of(value: Timestamp | Duration) -> float:
    """Seconds as a float, without the range check the protobuf helpers make."""
    return value.seconds + value.nanos / _NANOS


def _shown(seconds: int, nanos: int) -> str:
    parts = [f"seconds:{seconds}"] if seconds else []
    if nanos:
        parts.append(f"nanos:{nanos}")
    return " ".join(parts)
