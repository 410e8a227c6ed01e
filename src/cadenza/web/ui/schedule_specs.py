"""A schedule's spec, policies and states as its pages show them: a calendar as the cron-like
line its ranges spell, an interval as "every 1h", enums by their short names. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Iterable

from google.protobuf.duration_pb2 import Duration
from temporalio.api.enums.v1 import ScheduleOverlapPolicy
from temporalio.api.schedule.v1 import IntervalSpec, Range, ScheduleSpec, StructuredCalendarSpec

from cadenza.web.ui import present

_DAYS = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat")
_FIELDS = (
    ("second", 0, 59),
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day_of_month", 1, 31),
    ("month", 1, 12),
    ("day_of_week", 0, 6),
)
"""A calendar's fields in the order of its line, each with the span that means "every"."""
OVERLAP_PREFIX = "SCHEDULE_OVERLAP_POLICY_"
OVERLAP_POLICIES = tuple(
    name.removeprefix(OVERLAP_PREFIX)
    for name in (value.name for value in ScheduleOverlapPolicy.DESCRIPTOR.values)
    if not name.endswith("UNSPECIFIED")
)
"""The policies a backfill or trigger may name (``SKIP``, ``BUFFER_ONE``...)."""


def overlap_name(policy: int) -> str:
    """``Skip``, ``Buffer One``...; an unset policy is Temporal's default, Skip."""
    if policy == ScheduleOverlapPolicy.SCHEDULE_OVERLAP_POLICY_UNSPECIFIED:
        return "Skip"
    name: str = ScheduleOverlapPolicy.Name(policy)  # type: ignore[arg-type]
    return name.removeprefix(OVERLAP_PREFIX).replace("_", " ").title()


def overlap_policy(name: str) -> ScheduleOverlapPolicy.ValueType | None:
    """The policy a form names (``BUFFER_ONE``), or None for a name no policy has."""
    if name not in OVERLAP_POLICIES:
        return None
    return ScheduleOverlapPolicy.Value(OVERLAP_PREFIX + name)


def duration(value: Duration) -> str:
    """``1h30m``, ``45s``, ``250ms``: a duration in its largest whole units."""
    total_ms = value.seconds * 1000 + value.nanos // 1_000_000
    if total_ms == 0:
        return "0s"
    parts = []
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)):
        count, total_ms = divmod(total_ms, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


def interval_line(interval: IntervalSpec) -> str:
    line = f"every {duration(interval.interval)}"
    if interval.HasField("phase") and (interval.phase.seconds or interval.phase.nanos):
        line += f" (offset {duration(interval.phase)})"
    return line


def calendar_line(calendar: StructuredCalendarSpec) -> str:
    """The calendar as ``second minute hour day-of-month month day-of-week`` (``*`` for every
    value), its years and comment after."""
    words = [_ranges(getattr(calendar, field), low, high, field) for field, low, high in _FIELDS]
    line = " ".join(words)
    if calendar.year:
        line += f" in {_ranges(calendar.year, 0, -1, 'year')}"
    if calendar.comment:
        line += f" ({calendar.comment})"
    return line


def _ranges(ranges: Iterable[Range], low: int, high: int, field: str) -> str:
    ranges = list(ranges)
    if not ranges:
        return "*"
    if len(ranges) == 1 and ranges[0].start <= low and max(ranges[0].end, ranges[0].start) >= high:
        step = ranges[0].step
        return "*" if step <= 1 else f"*/{step}"
    return ",".join(_range(item, field) for item in ranges)


def _range(item: Range, field: str) -> str:
    def named(value: int) -> str:
        return _DAYS[value % 7] if field == "day_of_week" else str(value)

    text = named(item.start)
    if item.end > item.start:
        text += f"-{named(item.end)}"
    if item.step > 1:
        text += f"/{item.step}"
    return text


def spec_lines(spec: ScheduleSpec) -> list[str]:
    """Each time rule of the spec on a line of its own: intervals, calendars, cron strings
    (as given, should a spec hold them unparsed), then what it excludes."""
    lines = [interval_line(interval) for interval in spec.interval]
    lines += [f"at {calendar_line(calendar)}" for calendar in spec.structured_calendar]
    lines += [f"cron {text}" for text in spec.cron_string]
    lines += [f"except {calendar_line(calendar)}" for calendar in spec.exclude_structured_calendar]
    return lines


def spec_summary(spec: ScheduleSpec) -> str:
    """The spec on one line, for the list."""
    lines = spec_lines(spec)
    summary = "; ".join(lines) if lines else "no times (triggered by hand)"
    if spec.timezone_name:
        summary += f" [{spec.timezone_name}]"
    return summary


def spec_bounds(spec: ScheduleSpec) -> list[tuple[str, str]]:
    """The spec's other settings that are set: its window, jitter and time zone."""
    bounds = []
    if spec.HasField("start_time"):
        bounds.append(("Not before", present.when(spec.start_time)))
    if spec.HasField("end_time"):
        bounds.append(("Not after", present.when(spec.end_time)))
    if spec.HasField("jitter") and (spec.jitter.seconds or spec.jitter.nanos):
        bounds.append(("Jitter", duration(spec.jitter)))
    bounds.append(("Time zone", spec.timezone_name or "UTC"))
    return bounds
