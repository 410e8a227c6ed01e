"""Temporal's cron dialect, parsed into structured calendars and intervals.

Accepted, as Temporal accepts them: 5, 6 (with year) or 7 (seconds first, with
year) fields; ``*``, values, ``a-b``, ``/step`` and comma lists; month and
weekday names by prefix; ``@yearly`` ``@annually`` ``@monthly`` ``@weekly``
``@daily`` ``@midnight`` ``@hourly``; ``@every <duration>[/<phase>]``; and a
leading ``CRON_TZ=<zone>`` or ``TZ=<zone>``. Legacy string CalendarSpecs use
the same field syntax.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from temporalio.api.schedule.v1 import CalendarSpec, IntervalSpec, Range, StructuredCalendarSpec

from cadenza.schedules.calendar import MAX_YEAR, MIN_YEAR


class SpecError(ValueError):
    """A schedule spec Temporal would refuse; the message is Temporal's."""


_MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
_WEEKDAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
_PREDEFINED = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h|d)")
_UNIT_SECONDS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
    "d": 86400.0,
}


@dataclass(frozen=True)
class ParsedCron:
    calendar: StructuredCalendarSpec | None
    interval: IntervalSpec | None
    timezone: str


def parse_cron(text: str, comment: str = "") -> ParsedCron:
    zone = ""
    if text.startswith(("TZ=", "CRON_TZ=")):
        prefix, sep, text = text.partition(" ")
        if not sep:
            raise SpecError("malformed expression")
        zone = prefix.partition("=")[2]
    if text.startswith("@every"):
        # Temporal ignores the zone of an interval: intervals count from the epoch.
        return ParsedCron(None, _parse_every(text), "")
    text = _PREDEFINED.get(text, text)
    fields = text.split()
    names = {
        5: ("minute", "hour", "day_of_month", "month", "day_of_week"),
        6: ("minute", "hour", "day_of_month", "month", "day_of_week", "year"),
        7: ("second", "minute", "hour", "day_of_month", "month", "day_of_week", "year"),
    }
    if len(fields) not in names:
        raise SpecError("CronString does not have 5-7 fields")
    legacy = CalendarSpec(comment=comment, **dict(zip(names[len(fields)], fields, strict=True)))
    return ParsedCron(calendar_to_structured(legacy), None, zone)


def calendar_to_structured(cal: CalendarSpec) -> StructuredCalendarSpec:
    """A string CalendarSpec as ranges, with Temporal's defaults for empty fields."""
    out = StructuredCalendarSpec(comment=cal.comment)
    out.second.extend(_ranges(cal.second, "0", _Field("Second", 0, 59)))
    out.minute.extend(_ranges(cal.minute, "0", _Field("Minute", 0, 59)))
    out.hour.extend(_ranges(cal.hour, "0", _Field("Hour", 0, 23)))
    out.day_of_month.extend(_ranges(cal.day_of_month, "*", _Field("DayOfMonth", 1, 31)))
    out.month.extend(_ranges(cal.month, "*", _Field("Month", 1, 12, _MONTHS)))
    if cal.year.strip() not in ("", "*"):
        out.year.extend(_ranges(cal.year, "*", _Field("Year", MIN_YEAR, MAX_YEAR)))
    out.day_of_week.extend(_weekday_ranges(cal.day_of_week))
    return out


@dataclass(frozen=True)
class _Field:
    """One calendar field as Temporal names it in errors, with its range and value names."""

    label: str
    low: int
    high: int
    names: tuple[str, ...] | None = None

    def out_of_range(self) -> SpecError:
        return SpecError(f"{self.label} is not in range [{self.low}-{self.high}]")

    def bad_end(self) -> SpecError:
        return SpecError(f"{self.label} End is before Start or not in range [{self.low}-{self.high}]")


def _weekday_ranges(text: str) -> list[Range]:
    ranges = _ranges(text, "*", _Field("DayOfWeek", 0, 7, _WEEKDAYS))
    if text.strip() in ("", "*"):
        return [Range(start=0, end=6, step=1)]
    return [_sunday_as_zero(r) for r in ranges]


def _sunday_as_zero(r: Range) -> Range:
    if r.start == 7 and r.end == 7:
        return Range(start=0, end=0, step=r.step)
    return r


def _ranges(text: str, default: str, field: _Field) -> list[Range]:
    return [_range(part, field) for part in (text.strip() or default).split(",")]


def _range(part: str, field: _Field) -> Range:
    """One comma-separated item: ``*``, ``v``, ``a-b``, each with an optional ``/step``."""
    body, slash, step_text = part.partition("/")
    step = 1
    if slash:
        step = _integer(step_text, field)
        if step < 1:
            raise SpecError(f"{field.label} has invalid Step")
    start, end = field.low, field.high
    if body != "*":
        if "-" in body:
            bounds = body.split("-")
            if len(bounds) != 2:
                raise field.out_of_range()
            start = _value(bounds[0], field)
            try:
                end = _value(bounds[1], field)
            except SpecError:
                raise field.bad_end() from None
            if end < start:
                raise field.bad_end()
        else:
            start = _value(body, field)
            # "v/step" runs from v to the end; a bare "v" is just v.
            end = field.high if slash else start
    return Range(start=start, end=end, step=step)


def _value(text: str, field: _Field) -> int:
    names = field.names
    minimum = 3 if names is _MONTHS else 2
    if names is not None and len(text) >= minimum:
        lowered = text.lower()
        for index, name in enumerate(names):
            if name.startswith(lowered):
                return index + 1 if names is _MONTHS else index
    number = _integer(text, field)
    if not field.low <= number <= field.high:
        raise field.out_of_range()
    return number


def _integer(text: str, field: _Field) -> int:
    try:
        return int(text)
    except ValueError:
        raise field.out_of_range() from None


def _parse_every(text: str) -> IntervalSpec:
    _, sep, rest = text.partition(" ")
    if not sep:
        raise SpecError("malformed expression")
    every, _, phase = rest.strip().partition("/")
    spec = IntervalSpec()
    spec.interval.FromNanoseconds(round(parse_duration(every) * 1e9))
    if phase:
        spec.phase.FromNanoseconds(round(parse_duration(phase) * 1e9))
    return spec


def parse_duration(text: str) -> float:
    """Go duration syntax (``1h30m``, ``90s``) plus ``d`` for days, as Temporal allows; seconds."""
    text = text.strip()
    if not text:
        raise SpecError(f'time: invalid duration "{text}"')
    if text.isdigit():
        return float(text)
    position, total = 0, 0.0
    for match in _DURATION_PART.finditer(text):
        if match.start() != position:
            break
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        position = match.end()
    if position != len(text):
        raise SpecError(f'time: invalid duration "{text}"')
    return total
