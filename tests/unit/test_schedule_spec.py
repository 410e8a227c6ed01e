"""Schedule specs: the expected times were read off the real Temporal server
(``temporal schedule list-matching-times`` / ListScheduleMatchingTimes) for the same specs."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp
from temporalio.api.schedule.v1 import (
    CalendarSpec,
    IntervalSpec,
    Range,
    ScheduleSpec,
    StructuredCalendarSpec,
)

from cadenza.schedules.cron import SpecError, parse_duration
from cadenza.schedules.spec import CompiledSpec, canonical

START = datetime(2030, 11, 2, tzinfo=UTC).timestamp()
END = datetime(2030, 11, 4, tzinfo=UTC).timestamp()


def daily_at_hours(hours: Range) -> StructuredCalendarSpec:
    return StructuredCalendarSpec(
        second=[Range(start=0)],
        minute=[Range(start=0)],
        hour=[hours],
        day_of_month=[Range(start=1, end=31)],
        month=[Range(start=1, end=12)],
        day_of_week=[Range(start=0, end=6)],
    )


def times(spec: ScheduleSpec, start: float = START, end: float = END) -> list[str]:
    found = CompiledSpec(canonical(spec)).matching_times("seed", start, end, 1000)
    return [datetime.fromtimestamp(t, UTC).strftime("%m-%dT%H:%M:%S") for t in found]


def test_an_empty_field_matches_nothing() -> None:
    assert times(ScheduleSpec(structured_calendar=[StructuredCalendarSpec(hour=[Range(start=5)])])) == []


def test_a_wall_time_repeated_by_fall_back_runs_twice() -> None:
    spec = ScheduleSpec(timezone_name="America/New_York", cron_string=["30 1 * * *"])
    assert times(spec) == ["11-02T05:30:00", "11-03T05:30:00", "11-03T06:30:00"]


def test_hourly_in_a_zone_counts_the_repeated_hour() -> None:
    spec = ScheduleSpec(timezone_name="America/New_York", cron_string=["0 * * * *"])
    assert len(times(spec)) == 48


def test_a_wall_time_skipped_by_spring_forward_never_runs() -> None:
    start = datetime(2030, 3, 9, tzinfo=UTC).timestamp()
    end = datetime(2030, 3, 12, tzinfo=UTC).timestamp()
    spec = ScheduleSpec(timezone_name="America/New_York", cron_string=["30 2 * * *"])
    # 2:30 does not exist on March 10th 2030 in New York.
    assert times(spec, start, end) == ["03-09T07:30:00", "03-11T06:30:00"]


def test_cron_steps_lists_names_and_sunday_as_seven() -> None:
    assert times(ScheduleSpec(cron_string=["*/15 5/6 * * *"]))[:5] == [
        "11-02T05:00:00",
        "11-02T05:15:00",
        "11-02T05:30:00",
        "11-02T05:45:00",
        "11-02T11:00:00",
    ]
    assert times(ScheduleSpec(cron_string=["0 0 * * 7"])) == ["11-03T00:00:00"]
    assert times(ScheduleSpec(cron_string=["0 12 2 nov,dec sat"])) == ["11-02T12:00:00"]


def test_exclude_calendar_removes_times() -> None:
    exclude = daily_at_hours(Range(start=1, end=3))
    spec = ScheduleSpec(cron_string=["0 * * * *"], exclude_structured_calendar=[exclude])
    found = times(spec)
    assert len(found) == 42
    assert found[0] == "11-02T04:00:00"


def test_interval_with_phase_and_every_ignores_cron_tz() -> None:
    spec = ScheduleSpec(cron_string=["@every 90m/5m"])
    assert times(spec)[:2] == ["11-02T00:05:00", "11-02T01:35:00"]
    assert canonical(ScheduleSpec(cron_string=["CRON_TZ=Asia/Tokyo @every 1h"])).timezone_name == ""


def test_start_and_end_times_bound_the_schedule() -> None:
    spec = ScheduleSpec(interval=[IntervalSpec(interval=Duration(seconds=3600))])
    spec.start_time.FromDatetime(datetime(2030, 11, 2, 0, 30))
    spec.end_time.FromDatetime(datetime(2030, 11, 2, 3, 0))
    assert times(spec) == ["11-02T01:00:00", "11-02T02:00:00", "11-02T03:00:00"]


def test_jitter_is_deterministic_and_stays_before_the_next_time() -> None:
    spec = ScheduleSpec(interval=[IntervalSpec(interval=Duration(seconds=60))], jitter=Duration(seconds=30))
    compiled = CompiledSpec(canonical(spec))
    first = compiled.matching_times("a", START, START + 600, 100)
    assert first == compiled.matching_times("a", START, START + 600, 100)
    assert first != compiled.matching_times("b", START, START + 600, 100)
    for index, t in enumerate(first):
        nominal = START + 60 * (index + 1)
        assert nominal <= t < nominal + 30


def test_canonical_form_is_what_describe_shows() -> None:
    spec = canonical(ScheduleSpec(cron_string=["CRON_TZ=America/New_York 0 12 * * MON"]))
    cal = spec.structured_calendar[0]
    assert spec.timezone_name == "America/New_York" and not spec.cron_string
    assert [(r.start, r.end, r.step) for r in cal.hour] == [(12, 12, 1)]
    assert [(r.start, r.end, r.step) for r in cal.day_of_week] == [(1, 1, 1)]
    assert [(r.start, r.end, r.step) for r in cal.day_of_month] == [(1, 31, 1)]
    assert not cal.year
    legacy = canonical(
        ScheduleSpec(calendar=[CalendarSpec(hour="2-10/3", day_of_week="mon-fri", comment="c")])
    )
    cal = legacy.structured_calendar[0]
    assert [(r.start, r.end, r.step) for r in cal.hour] == [(2, 10, 3)]
    assert [(r.start, r.end) for r in cal.day_of_week] == [(1, 5)] and cal.comment == "c"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (ScheduleSpec(cron_string=["bad"]), "CronString does not have 5-7 fields"),
        (
            ScheduleSpec(structured_calendar=[StructuredCalendarSpec(hour=[Range(start=30)])]),
            "invalid calendar spec: Hour Start is not in range [0-23]",
        ),
        (ScheduleSpec(interval=[IntervalSpec(interval=Duration(nanos=5000))]), "interval is too small"),
        (ScheduleSpec(timezone_name="Mars/Base", cron_string=["@daily"]), "unknown time zone Mars/Base"),
        (
            ScheduleSpec(cron_string=["TZ=UTC 0 * * * *", "TZ=Asia/Tokyo 0 * * * *"]),
            "conflicting timezone names",
        ),
        (
            ScheduleSpec(interval=[IntervalSpec(interval=Duration(seconds=10**12))]),
            "interval is not a valid duration: proto: duration (seconds:1000000000000) exceeds +10000 years",
        ),
        (
            ScheduleSpec(
                interval=[IntervalSpec(interval=Duration(seconds=60), phase=Duration(seconds=10**12))]
            ),
            "phase is not a valid duration: proto: duration (seconds:1000000000000) exceeds +10000 years",
        ),
        (
            ScheduleSpec(cron_string=["@daily"], start_time=Timestamp(seconds=10**15)),
            "start_time is not a valid timestamp: proto: timestamp (seconds:1000000000000000) "
            "after 9999-12-31",
        ),
        (
            ScheduleSpec(cron_string=["@daily"], end_time=Timestamp(seconds=-(10**15))),
            "end_time is not a valid timestamp: proto: timestamp (seconds:-1000000000000000) "
            "before 0001-01-01",
        ),
        (ScheduleSpec(cron_string=["61 * * * *"]), "Minute is not in range [0-59]"),
        (ScheduleSpec(cron_string=["x * * * *"]), "Minute is not in range [0-59]"),
        (ScheduleSpec(cron_string=["0 0 * * 9"]), "DayOfWeek is not in range [0-7]"),
        (ScheduleSpec(cron_string=["5-2 * * * *"]), "Minute End is before Start or not in range [0-59]"),
        (ScheduleSpec(cron_string=["*/0 * * * *"]), "Minute has invalid Step"),
        (ScheduleSpec(calendar=[CalendarSpec(month="foo")]), "Month is not in range [1-12]"),
        (ScheduleSpec(calendar=[CalendarSpec(year="1999")]), "Year is not in range [2000-2100]"),
    ],
)
def test_invalid_specs_are_refused_with_temporals_message(spec: ScheduleSpec, message: str) -> None:
    with pytest.raises(SpecError, match=re.escape(message)):
        canonical(spec)


def test_go_durations() -> None:
    assert parse_duration("1h30m") == 5400
    assert parse_duration("2d") == 172800
    with pytest.raises(SpecError):
        parse_duration("soon")


def _utc(day: tuple[int, int, int, int]) -> float:
    return datetime(*day, tzinfo=UTC).timestamp()


# Read off the real Temporal server: ListScheduleMatchingTimes over the ten hours
# from each start, in the zone named, for cron strings "30 * * * *" and "0 2 * * *".
_FALL_BACK = [
    (
        "Europe/Berlin",
        (2026, 10, 24, 20),
        "30 * * * *",
        [
            "10-24T20:30",
            "10-24T21:30",
            "10-24T22:30",
            "10-24T23:30",
            "10-25T00:30",
            "10-25T02:30",
            "10-25T03:30",
            "10-25T04:30",
            "10-25T05:30",
        ],
    ),
    ("Europe/Berlin", (2026, 10, 24, 20), "0 2 * * *", ["10-25T01:00"]),
    (
        "Europe/London",
        (2026, 10, 24, 20),
        "30 * * * *",
        [
            "10-24T20:30",
            "10-24T21:30",
            "10-24T22:30",
            "10-24T23:30",
            "10-25T00:30",
            "10-25T02:30",
            "10-25T03:30",
            "10-25T04:30",
            "10-25T05:30",
        ],
    ),
    ("Europe/London", (2026, 10, 24, 20), "0 2 * * *", ["10-25T02:00"]),
    (
        "Australia/Sydney",
        (2026, 4, 4, 12),
        "30 * * * *",
        [
            "04-04T12:30",
            "04-04T13:30",
            "04-04T14:30",
            "04-04T15:30",
            "04-04T17:30",
            "04-04T18:30",
            "04-04T19:30",
            "04-04T20:30",
            "04-04T21:30",
        ],
    ),
    ("Australia/Sydney", (2026, 4, 4, 12), "0 2 * * *", ["04-04T16:00"]),
    (
        "America/New_York",
        (2026, 11, 1, 2),
        "30 * * * *",
        [
            "11-01T02:30",
            "11-01T03:30",
            "11-01T04:30",
            "11-01T05:30",
            "11-01T06:30",
            "11-01T07:30",
            "11-01T08:30",
            "11-01T09:30",
            "11-01T10:30",
            "11-01T11:30",
        ],
    ),
    ("America/New_York", (2026, 11, 1, 2), "0 2 * * *", ["11-01T07:00"]),
    ("Europe/Berlin", (2026, 3, 28, 20), "0 2 * * *", []),
]


@pytest.mark.parametrize(("zone", "start", "cron", "expected"), _FALL_BACK)
def test_a_repeated_wall_time_fires_as_on_temporal(
    zone: str, start: tuple[int, int, int, int], cron: str, expected: list[str]
) -> None:
    spec = ScheduleSpec(cron_string=[cron], timezone_name=zone)
    found = times(spec, _utc(start), _utc(start) + 10 * 3600)
    assert [t[:-3] for t in found] == expected


def test_an_hourly_calendar_in_berlin_skips_the_second_copy_of_the_repeated_hour() -> None:
    # East of UTC, Temporal fires 02:00 local once (at 00:00 UTC, summer time) on the
    # night the clocks go back; New York, west of UTC, fires its 01:00 twice.
    spec = ScheduleSpec(
        structured_calendar=[daily_at_hours(Range(start=0, end=23))], timezone_name="Europe/Berlin"
    )
    found = times(spec, _utc((2026, 10, 24, 20)), _utc((2026, 10, 24, 20)) + 10 * 3600)
    assert [t[:-3] for t in found] == [
        "10-24T21:00",
        "10-24T22:00",
        "10-24T23:00",
        "10-25T00:00",
        "10-25T02:00",
        "10-25T03:00",
        "10-25T04:00",
        "10-25T05:00",
        "10-25T06:00",
    ]
    spec.timezone_name = "America/New_York"
    found = times(spec, _utc((2026, 11, 1, 2)), _utc((2026, 11, 1, 2)) + 10 * 3600)
    assert [t[:-3] for t in found] == [
        "11-01T03:00",
        "11-01T04:00",
        "11-01T05:00",
        "11-01T06:00",
        "11-01T07:00",
        "11-01T08:00",
        "11-01T09:00",
        "11-01T10:00",
        "11-01T11:00",
        "11-01T12:00",
    ]


def test_times_begin_at_the_epoch_and_end_with_the_year_2100_as_on_temporal() -> None:
    hourly = ScheduleSpec(interval=[IntervalSpec(interval=Duration(seconds=3600))])
    assert CompiledSpec(canonical(hourly)).matching_times("s", -1e15, 10800, 1000) == [3600, 7200, 10800]
    last_evening = _utc((2100, 12, 31, 20))
    assert times(hourly, last_evening, last_evening + 9 * 3600) == [
        "12-31T21:00:00",
        "12-31T22:00:00",
        "12-31T23:00:00",
    ]
    far = ScheduleSpec(interval=[IntervalSpec(interval=Duration(seconds=10**11))])
    assert CompiledSpec(canonical(far)).next_time("s", 0) is None


def test_a_spec_whose_exclusions_swallow_everything_gives_up_after_a_bounded_search() -> None:
    every_hour = daily_at_hours(Range(start=0, end=23))
    spec = CompiledSpec(
        canonical(ScheduleSpec(structured_calendar=[every_hour], exclude_structured_calendar=[every_hour]))
    )
    # Unbounded, this would walk every hour to 2100 (minutes of CPU on the event loop).
    assert spec.next_time("s", START) is None
    assert spec.limit_hit


def test_a_spec_with_more_distinct_calendars_than_the_budget_finds_no_time() -> None:
    commented = []
    for index in range(7200):  # the same 24 matchers, told apart only by their comments
        calendar = daily_at_hours(Range(start=index % 24))
        calendar.comment = str(index)
        commented.append(calendar)
    assert (
        CompiledSpec(canonical(ScheduleSpec(structured_calendar=commented))).next_time("s", START) is not None
    )
    distinct = [
        StructuredCalendarSpec(
            second=[Range(start=s)],
            minute=[Range(start=m)],
            hour=[Range(start=h)],
            day_of_month=[Range(start=1)],
            month=[Range(start=1)],
            day_of_week=[Range(start=0, end=6)],
        )
        for h in range(3)
        for m in range(60)
        for s in range(60)
    ]
    spec = CompiledSpec(canonical(ScheduleSpec(structured_calendar=distinct)))
    assert spec.next_time("s", START) is None
    assert spec.limit_hit
