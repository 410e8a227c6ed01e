"""Calendar matching: structured calendar ranges searched in a time zone's wall clock.

Times have one-second resolution. The search walks the local calendar field by
field, outside in, as Temporal's scheduler does, so daylight-saving changes
behave the same: a wall time skipped by a spring-forward gap never matches,
and a wall time repeated by a fall-back matches as it does on Temporal (once
in zones east of UTC, twice in zones west of it; see ``_epoch``).
"""

from __future__ import annotations

import calendar as stdcal
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from temporalio.api.schedule.v1 import Range, StructuredCalendarSpec

MIN_YEAR = 2000
MAX_YEAR = 2100
_HOUR = 3600
LAST_MATCHING_TIME = stdcal.timegm((MAX_YEAR, 12, 31, 23, 59, 59))
"""The last second any spec matches (intervals included), in UTC as on Temporal."""
_PAST_MAX_YEAR = stdcal.timegm((MAX_YEAR + 1, 1, 2, 0, 0, 0))
"""A time past the last calendar year in every zone: nothing after it is searched."""


def range_values(ranges: Iterable[Range]) -> frozenset[int]:
    """Every value the ranges cover: a zero step means 1, an end before start means start."""
    values: set[int] = set()
    for r in ranges:
        step = r.step or 1
        end = max(r.end, r.start)
        values.update(range(r.start, end + 1, step))
    return frozenset(values)


@dataclass(frozen=True)
class CompiledCalendar:
    """One structured calendar as value sets; an empty year set means every year."""

    tz: tzinfo
    years: frozenset[int]
    months: frozenset[int]
    days: frozenset[int]
    weekdays: frozenset[int]
    """0 is Sunday; 7 is accepted for Sunday too."""
    hours: frozenset[int]
    minutes: frozenset[int]
    seconds: frozenset[int]

    @classmethod
    def compile(cls, spec: StructuredCalendarSpec, tz: tzinfo) -> CompiledCalendar:
        weekdays = range_values(spec.day_of_week)
        if 7 in weekdays:
            weekdays = weekdays | {0}
        return cls(
            tz,
            range_values(spec.year),
            range_values(spec.month),
            range_values(spec.day_of_month),
            weekdays,
            range_values(spec.hour),
            range_values(spec.minute),
            range_values(spec.second),
        )

    def _year(self, year: int) -> bool:
        return not self.years or year in self.years

    def matches(self, ts: int) -> bool:
        if ts >= _PAST_MAX_YEAR:
            return False  # calendars are searched up to MAX_YEAR only; later wall times overflow
        local = _local(ts, self.tz)
        return (
            self._year(local.year)
            and local.month in self.months
            and local.day in self.days
            and _weekday(local) in self.weekdays
            and local.hour in self.hours
            and local.minute in self.minutes
            and local.second in self.seconds
        )

    def next_after(self, ts: int) -> int | None:
        """The first matching second after ``ts`` (epoch seconds), or None if none by 2100."""
        if not all((self.months, self.days, self.weekdays, self.hours, self.minutes, self.seconds)):
            return None  # an empty field matches nothing
        if ts >= _PAST_MAX_YEAR:
            return None
        local = _local(ts, self.tz)
        y, mo, d, h, m, s = local.year, local.month, local.day, local.hour, local.minute, local.second
        # In the second copy of a repeated hour, matches are an hour after their wall time.
        second_copy = _local(ts - _HOUR, self.tz).hour == h
        s += 1
        while True:
            if s >= 60:
                m, s = m + 1, 0
            if m >= 60:
                before = _epoch(y, mo, d, h, 0, 0, self.tz)
                h, m = h + 1, 0
                if not second_copy and _epoch_carry(y, mo, d, h, self.tz) - before > _HOUR:
                    h, second_copy = h - 1, True  # walk the repeated hour once more
                else:
                    second_copy = False
            if h >= 24:
                d, h = d + 1, 0
            if d > _days_in(y, mo):
                mo, d = mo + 1, 1
            if mo > 12:
                y, mo = y + 1, 1
            if y > MAX_YEAR:
                return None
            if not self._year(y):
                y, mo, d, h, m, s, second_copy = y + 1, 1, 1, 0, 0, 0, False
                continue
            found = self._search_date(y, mo, d, h, m, s, second_copy)
            if isinstance(found, tuple):
                y, mo, d, h, m, s, second_copy = found
                continue
            return found

    def _search_date(
        self, y: int, mo: int, d: int, h: int, m: int, s: int, second_copy: bool
    ) -> int | tuple[int, int, int, int, int, int, bool]:
        """Match month down to second; a tuple is where to carry on the outer search."""
        while mo not in self.months:
            mo, d, h, m, s, second_copy = mo + 1, 1, 0, 0, 0, False
            if mo > 12:
                return y, mo, d, h, m, s, second_copy
        while d not in self.days or _weekday_of(y, mo, d) not in self.weekdays:
            d, h, m, s, second_copy = d + 1, 0, 0, 0, False
            if d > _days_in(y, mo):
                return y, mo, d, h, m, s, second_copy
        while h not in self.hours:
            h, m, s, second_copy = h + 1, 0, 0, False
            if h >= 24:
                return y, mo, d, h, m, s, second_copy
        while m not in self.minutes:
            m, s = m + 1, 0
            if m >= 60:
                return y, mo, d, h, m, s, second_copy
        while s not in self.seconds:
            s += 1
            if s >= 60:
                return y, mo, d, h, m, s, second_copy
        found = _epoch(y, mo, d, h, m, s, self.tz)
        if _local(found, self.tz).hour != h:
            # A wall time skipped by a daylight-saving gap: it never happens.
            return y, mo, d, h + 1, 0, 0, second_copy
        return found + (_HOUR if second_copy else 0)


def _local(ts: int, tz: tzinfo) -> datetime:
    return datetime.fromtimestamp(ts, UTC).astimezone(tz)


def _epoch(y: int, mo: int, d: int, h: int, m: int, s: int, tz: tzinfo) -> int:
    """Epoch seconds of a wall time, resolved as Go's ``time.Date`` resolves it.

    Go reads the wall time as if it were UTC, takes the zone offset in effect at
    that instant, and keeps it if the result falls in the same zone period (else
    it takes the offset in effect at the result). So a repeated wall time is the
    later copy in zones east of UTC and the earlier one west of it, and Temporal's
    calendar walk, built on that, fires a repeated hour once in the east and
    twice in the west. Matching Temporal means resolving exactly as Go does.
    """
    return _go_resolve(int(stdcal.timegm((y, mo, d, h, m, s))), tz)


def _go_resolve(wall_as_utc: int, tz: tzinfo) -> int:
    offset = _offset_at(wall_as_utc, tz)
    resolved = wall_as_utc - offset
    if _offset_at(resolved, tz) != offset:
        resolved = wall_as_utc - _offset_at(resolved, tz)
    return resolved


def _offset_at(ts: int, tz: tzinfo) -> int:
    shift = datetime.fromtimestamp(ts, UTC).astimezone(tz).utcoffset()
    return int(shift.total_seconds()) if shift is not None else 0


def _epoch_carry(y: int, mo: int, d: int, h: int, tz: tzinfo) -> int:
    """Like ``_epoch`` at minute 0 of hour ``h``, letting h == 24 roll into the next day."""
    return _go_resolve(int(stdcal.timegm((y, mo, d, 0, 0, 0))) + h * _HOUR, tz)


def _days_in(y: int, mo: int) -> int:
    return stdcal.monthrange(y, mo)[1] if 1 <= mo <= 12 else 31


def _weekday(local: datetime) -> int:
    return (local.weekday() + 1) % 7


def _weekday_of(y: int, mo: int, d: int) -> int:
    return (stdcal.weekday(y, mo, d) + 1) % 7
