"""A schedule's spec as its pages write it: calendars as their cron-like line, intervals as
"every", durations in their largest units, overlap policies by name."""

from __future__ import annotations

from google.protobuf.duration_pb2 import Duration
from temporalio.api.enums.v1 import ScheduleOverlapPolicy
from temporalio.api.schedule.v1 import IntervalSpec, Range, ScheduleSpec, StructuredCalendarSpec

from cadenza.web.ui import schedule_specs


def test_durations_in_their_largest_units() -> None:
    assert schedule_specs.duration(Duration(seconds=5400)) == "1h30m"
    assert schedule_specs.duration(Duration(seconds=90_000)) == "1d1h"
    assert schedule_specs.duration(Duration(nanos=250_000_000)) == "250ms"
    assert schedule_specs.duration(Duration()) == "0s"


def test_a_calendar_reads_as_its_cron_like_line() -> None:
    weekdays = StructuredCalendarSpec(
        second=[Range(start=0)],
        minute=[Range(start=30)],
        hour=[Range(start=9)],
        day_of_month=[Range(start=1, end=31, step=1)],
        month=[Range(start=1, end=12, step=1)],
        day_of_week=[Range(start=1, end=5, step=1)],
        comment="stand-up",
    )
    assert schedule_specs.calendar_line(weekdays) == "0 30 9 * * Mon-Fri (stand-up)"
    every_ten = StructuredCalendarSpec(minute=[Range(start=0, end=59, step=10)], year=[Range(start=2030)])
    assert schedule_specs.calendar_line(every_ten) == "* */10 * * * * in 2030"
    odd = StructuredCalendarSpec(hour=[Range(start=1), Range(start=13, end=15)], day_of_week=[Range(start=0)])
    assert schedule_specs.calendar_line(odd) == "* * 1,13-15 * * Sun"


def test_a_spec_in_one_line() -> None:
    spec = ScheduleSpec(
        interval=[IntervalSpec(interval=Duration(seconds=3600), phase=Duration(seconds=300))],
        exclude_structured_calendar=[StructuredCalendarSpec(day_of_week=[Range(start=6)])],
        timezone_name="Europe/Paris",
    )
    assert schedule_specs.spec_summary(spec) == "every 1h (offset 5m); except * * * * * Sat [Europe/Paris]"
    assert schedule_specs.spec_summary(ScheduleSpec()) == "no times (triggered by hand)"


def test_overlap_policies_by_name() -> None:
    assert schedule_specs.overlap_name(0) == "Skip"
    assert (
        schedule_specs.overlap_name(ScheduleOverlapPolicy.SCHEDULE_OVERLAP_POLICY_BUFFER_ONE) == "Buffer One"
    )
    assert (
        schedule_specs.overlap_policy("ALLOW_ALL") == ScheduleOverlapPolicy.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL
    )
    assert schedule_specs.overlap_policy("SOMETIMES") is None
    assert "UNSPECIFIED" not in schedule_specs.OVERLAP_POLICIES
