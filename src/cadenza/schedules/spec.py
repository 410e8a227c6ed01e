"""Schedule specs: validation, the canonical form Describe shows, and matching times.

Pure: no I/O and no clock. Times are epoch seconds; nominal times are whole
seconds, jittered times have millisecond precision. Matching times lie between
the Unix epoch and the end of the last calendar year (2100, UTC), as on Temporal,
whose intervals stop there too; and each compiled spec looks at a bounded number
of candidate times, so a spec whose exclusions swallow everything costs a
bounded amount of work instead of stalling the server.
"""

from __future__ import annotations

import functools
import hashlib
import io
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, tzinfo

from temporalio.api.schedule.v1 import IntervalSpec, Range, ScheduleSpec, StructuredCalendarSpec

from cadenza.protoutil import seconds
from cadenza.schedules.calendar import LAST_MATCHING_TIME, MAX_YEAR, MIN_YEAR, CompiledCalendar
from cadenza.schedules.cron import SpecError, calendar_to_structured, parse_cron
from cadenza.validation import duration_problem, timestamp_problem

MAX_COMMENT = 200
MAX_CANDIDATES = 5_000
"""Work one compiled spec may do: a unit is one calendar walk or one candidate time checked
(plus one per ten exclude calendars it is checked against)."""
MAX_DISTINCT_CALENDARS = MAX_CANDIDATES
"""A spec with more distinct calendars (or exclusions) than this never finds a time: walking
each once would take more than the budget. (Temporal has no such limit, only its blob size.)"""
TOO_MANY_EXCLUSIONS = (
    "the schedule calendar specification has too many exclusions. Please modify the specification."
)
_LIMITS = (
    ("second", "Second", 0, 59),
    ("minute", "Minute", 0, 59),
    ("hour", "Hour", 0, 23),
    ("day_of_month", "DayOfMonth", 1, 31),
    ("month", "Month", 1, 12),
    ("year", "Year", MIN_YEAR, MAX_YEAR),
    ("day_of_week", "DayOfWeek", 0, 6),
)


def canonical(spec: ScheduleSpec) -> ScheduleSpec:
    """The spec as Temporal stores and describes it: strings parsed, ranges filled in.

    Raises ``SpecError`` with Temporal's message when the spec is invalid.
    """
    out = ScheduleSpec()
    out.CopyFrom(spec)
    for cal in spec.calendar:
        out.structured_calendar.append(calendar_to_structured(cal))
    for cal in spec.exclude_calendar:
        out.exclude_structured_calendar.append(calendar_to_structured(cal))
    del out.calendar[:]
    del out.exclude_calendar[:]
    _apply_cron_strings(spec, out)
    _validate_times(out)
    for structured in out.structured_calendar:
        _validate_calendar(structured)
    for interval in out.interval:
        _validate_interval(interval)
    load_timezone(out)
    for structured in (*out.structured_calendar, *out.exclude_structured_calendar):
        _clean(structured)
    return out


def _apply_cron_strings(spec: ScheduleSpec, out: ScheduleSpec) -> None:
    zones = set()
    for text in spec.cron_string:
        parsed = parse_cron(text)
        zones.add(parsed.timezone)
        if parsed.calendar is not None:
            out.structured_calendar.append(parsed.calendar)
        if parsed.interval is not None:
            out.interval.append(parsed.interval)
    del out.cron_string[:]
    if len(zones) > 1:
        raise SpecError("conflicting timezone names")
    zone = next(iter(zones), "")
    if zone:
        if (out.timezone_name and out.timezone_name != zone) or out.timezone_data:
            raise SpecError("conflicting timezone names")
        out.timezone_name = zone


def _validate_calendar(cal: StructuredCalendarSpec) -> None:
    errors = []
    for field, label, low, high in _LIMITS:
        for r in getattr(cal, field):
            if not low <= r.start <= high:
                errors.append(f"{label} Start is not in range [{low}-{high}]")
            if r.end != 0 and (r.end < r.start or r.end > high):
                errors.append(f"{label} End is before Start or not in range [{low}-{high}]")
            if r.step < 0:
                errors.append(f"{label} has invalid Step")
    if len(cal.comment) > MAX_COMMENT:
        errors.append("comment is too long")
    if errors:
        raise SpecError("invalid calendar spec: " + ", ".join(errors))


def _validate_times(spec: ScheduleSpec) -> None:
    for name in ("start_time", "end_time"):
        problem = timestamp_problem(getattr(spec, name)) if spec.HasField(name) else None
        if problem:
            raise SpecError(f"{name} is not a valid timestamp: {problem}")


def _validate_interval(interval: IntervalSpec) -> None:
    for name in ("interval", "phase"):
        problem = duration_problem(getattr(interval, name))
        if problem:
            raise SpecError(f"{name} is not a valid duration: {problem}")
    every = interval.interval.ToNanoseconds()
    phase = interval.phase.ToNanoseconds()
    if every < 1_000_000_000:
        raise SpecError("interval is too small")
    if phase < 0:
        raise SpecError("phase is negative")
    if phase >= every:
        raise SpecError("phase cannot be greater than Interval")


def _clean(cal: StructuredCalendarSpec) -> None:
    for field, _, _, _ in _LIMITS:
        for r in getattr(cal, field):
            _clean_range(r)


def _clean_range(r: Range) -> None:
    r.end = max(r.end, r.start)
    if r.step == 0:
        r.step = 1


def load_timezone(spec: ScheduleSpec) -> tzinfo:
    """The spec's zone: by name (empty or UTC is UTC), or from the tzdata bytes given."""
    name = spec.timezone_name
    try:
        if spec.timezone_data:
            return zoneinfo.ZoneInfo.from_file(io.BytesIO(spec.timezone_data), key=name or None)
        if name in ("", "UTC"):
            return UTC
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise SpecError(f"unknown time zone {name}") from exc


@dataclass(frozen=True)
class NextTime:
    nominal: int
    """The matching time before jitter."""
    actual: float
    """The time the action is due, jitter added."""


class CompiledSpec:
    """A canonical spec ready to answer "what is the next matching time after t?"."""

    def __init__(self, spec: ScheduleSpec, max_candidates: int = MAX_CANDIDATES) -> None:
        self.spec = spec
        self._candidates_left = max_candidates
        self.limit_hit = False
        """Whether the candidate budget ran out: later answers may have been cut short."""
        compiled = _compiled_calendars(spec)
        if compiled is None:
            # More distinct calendars than the budget could ever walk once each.
            compiled, self._candidates_left = ((), ()), 0
        self._calendars, self._excludes = compiled
        self._next_cache: list[tuple[int, int | None] | None] = [None] * len(self._calendars)
        """Per calendar, its last answer: (after, first match after it)."""
        self._intervals = [(max(1, i.interval.seconds), max(0, i.phase.seconds)) for i in spec.interval]
        # Plain arithmetic: the protobuf helpers refuse times out of range, which an
        # older stored spec may hold.
        self._start = seconds(spec.start_time) if spec.HasField("start_time") else None
        self._end = seconds(spec.end_time) if spec.HasField("end_time") else None
        self._jitter = seconds(spec.jitter)

    def next_time(self, seed: str, after: float) -> NextTime | None:
        """The first action time after ``after``, or None when the schedule has no more
        (or when this compiled spec has used up its candidate budget)."""
        after = max(after, 0.0)
        if after >= LAST_MATCHING_TIME:
            return None
        if self._start is not None and after < self._start:
            after = self._start - 1
        nominal: int | None = None
        while nominal is None or self._excluded(nominal):
            nominal = self._raw_next(after)
            if nominal is None or (self._end is not None and nominal > self._end):
                return None
            after = nominal
        limit = self._jitter
        if limit > 0:
            following = self._raw_next(nominal)
            if following is not None:
                limit = min(limit, following - nominal)
        return NextTime(nominal, nominal + _jitter(seed, nominal, limit))

    def matching_times(self, seed: str, start: float, end: float, limit: int) -> list[float]:
        """Action times in (start, end], at most ``limit`` of them."""
        out: list[float] = []
        t = start
        while len(out) < limit:
            found = self.next_time(seed, t)
            if found is None or found.actual > end:
                break
            out.append(found.actual)
            t = found.actual
        return out

    def _raw_next(self, after: float) -> int | None:
        if not self._spend(1 + len(self._excludes) // 10):
            return None
        whole = int(after // 1)
        candidates = []
        for index in range(len(self._calendars)):
            found = self._calendar_next(index, whole)
            if self.limit_hit:
                return None
            if found is not None:
                candidates.append(found)
        candidates.extend(((whole - phase) // every + 1) * every + phase for every, phase in self._intervals)
        first = min(candidates) if candidates else None
        return first if first is not None and first <= LAST_MATCHING_TIME else None

    def _calendar_next(self, index: int, whole: int) -> int | None:
        """One calendar's next match after ``whole``; a walk only when its last answer is used."""
        cached = self._next_cache[index]
        if cached is not None:
            since, found = cached
            # Nothing matches in (since, found): so that is the answer for any time in between.
            if since <= whole and (found is None or whole < found):
                return found
        if not self._spend(1):
            return None
        found = self._calendars[index].next_after(whole)
        self._next_cache[index] = (whole, found)
        return found

    def _spend(self, units: int) -> bool:
        """Take ``units`` of the candidate budget; False (and ``limit_hit``) when it is gone."""
        if self._candidates_left < units:
            self.limit_hit = True
            return False
        self._candidates_left -= units
        return True

    def _excluded(self, ts: int) -> bool:
        return any(cal.matches(ts) for cal in self._excludes)


Compiled = tuple[tuple[CompiledCalendar, ...], tuple[CompiledCalendar, ...]]


@functools.lru_cache(maxsize=32)
def _compiled_by_bytes(data: bytes) -> Compiled | None:
    spec = ScheduleSpec.FromString(data)
    tz = load_timezone(spec)
    calendars = _compile_each(spec.structured_calendar, tz)
    excludes = _compile_each(spec.exclude_structured_calendar, tz)
    return None if calendars is None or excludes is None else (calendars, excludes)


def _compile_each(
    calendars: Iterable[StructuredCalendarSpec], tz: tzinfo
) -> tuple[CompiledCalendar, ...] | None:
    """Each distinct calendar compiled (identical ones match identical times), or None when
    there are more than MAX_DISTINCT_CALENDARS: compiling them would be work for nothing."""
    unique = dict.fromkeys(_matcher_bytes(c) for c in calendars)
    if len(unique) > MAX_DISTINCT_CALENDARS:
        return None
    compiled = (CompiledCalendar.compile(StructuredCalendarSpec.FromString(c), tz) for c in unique)
    return tuple(dict.fromkeys(compiled))


def _matcher_bytes(calendar: StructuredCalendarSpec) -> bytes:
    """What a calendar matches, as bytes: itself without its comment."""
    matcher = StructuredCalendarSpec()
    matcher.CopyFrom(calendar)
    matcher.ClearField("comment")
    return matcher.SerializeToString(deterministic=True)


def _compiled_calendars(spec: ScheduleSpec) -> Compiled | None:
    """The spec's calendars compiled, kept for the next pass over the same spec."""
    key = ScheduleSpec(
        structured_calendar=spec.structured_calendar,
        exclude_structured_calendar=spec.exclude_structured_calendar,
        timezone_name=spec.timezone_name,
        timezone_data=spec.timezone_data,
    )
    return _compiled_by_bytes(key.SerializeToString(deterministic=True))


def _jitter(seed: str, nominal: int, limit: float) -> float:
    """A deterministic offset in [0, limit), from a hash of the time and the schedule."""
    millis = int(limit * 1000)
    if millis <= 0:
        return 0.0
    digest = hashlib.blake2b(f"{nominal}:{seed}".encode(), digest_size=4).digest()
    return ((int.from_bytes(digest, "big") * min(millis, 2**32 - 1)) >> 32) / 1000
