"""Unit tests for timer-lateness extraction and the timers report (hand-built histories, no servers)."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import (
    HistoryEvent,
    TimerCanceledEventAttributes,
    TimerFiredEventAttributes,
    TimerStartedEventAttributes,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_report import TimerResult, compute_timer_ratios, format_timer_table
from bench_timers import TimerLateness, TimerSample

BASE_NS = 1_700_000_000 * 1_000_000_000
MS = 1_000_000


def _at(ms: int) -> Timestamp:
    stamp = Timestamp()
    stamp.FromNanoseconds(BASE_NS + ms * MS)
    return stamp


def started(event_id: int, at_ms: int, timeout_ms: int) -> HistoryEvent:
    timeout = Duration()
    timeout.FromNanoseconds(timeout_ms * MS)
    return HistoryEvent(
        event_id=event_id,
        event_time=_at(at_ms),
        event_type=EventType.EVENT_TYPE_TIMER_STARTED,
        timer_started_event_attributes=TimerStartedEventAttributes(
            timer_id=str(event_id), start_to_fire_timeout=timeout
        ),
    )


def fired(event_id: int, at_ms: int, started_id: int) -> HistoryEvent:
    return HistoryEvent(
        event_id=event_id,
        event_time=_at(at_ms),
        event_type=EventType.EVENT_TYPE_TIMER_FIRED,
        timer_fired_event_attributes=TimerFiredEventAttributes(
            timer_id=str(started_id), started_event_id=started_id
        ),
    )


def canceled(event_id: int, started_id: int) -> HistoryEvent:
    return HistoryEvent(
        event_id=event_id,
        event_time=_at(0),
        event_type=EventType.EVENT_TYPE_TIMER_CANCELED,
        timer_canceled_event_attributes=TimerCanceledEventAttributes(
            timer_id=str(started_id), started_event_id=started_id
        ),
    )


def test_lateness_is_fired_minus_started_plus_duration() -> None:
    lateness = TimerLateness()
    # Two timers in flight at once, fired out of order: matched by started_event_id.
    lateness.add_history([started(5, 0, 500), started(6, 10, 2000), fired(7, 530, 5), fired(8, 2011, 6)])
    assert lateness.unfired == 0
    assert [s.nominal_s for s in lateness.samples] == [0.5, 2.0]
    assert [round(s.lateness_s * 1000, 6) for s in lateness.samples] == [30.0, 1.0]


def test_early_fires_give_negative_lateness() -> None:
    lateness = TimerLateness()
    lateness.add_history([started(5, 100, 1000), fired(6, 1090, 5)])
    assert math.isclose(lateness.samples[0].lateness_s, -0.010)


def test_unfired_and_canceled_timers() -> None:
    lateness = TimerLateness()
    lateness.add_history([started(5, 0, 500), started(6, 0, 500), canceled(7, 6)])
    assert lateness.samples == []
    assert lateness.unfired == 1


def test_lateness_is_split_by_requested_duration() -> None:
    result = TimerResult(server="temporal")
    samples = [TimerSample(0.2, 0.8), TimerSample(0.5, 0.5), TimerSample(1.0, 0.05), TimerSample(2.0, 0.07)]
    result.apply_lateness(samples)
    assert result.timers_fired == 4
    assert math.isclose(result.subsecond_p50_ms, 650.0)
    assert math.isclose(result.long_p50_ms, 60.0)
    assert math.isclose(result.lateness_max_ms, 800.0)
    assert set(result.by_duration) == {"0.2", "0.5", "1", "2"}
    assert result.by_duration["0.2"]["timers"] == 1
    assert math.isclose(result.by_duration["2"]["p99_ms"], 70.0)


def test_timer_ratios_are_temporal_over_cadenza_and_need_positive_values() -> None:
    cadenza, temporal = TimerResult(server="cadenza"), TimerResult(server="temporal")
    cadenza.apply_lateness([TimerSample(0.5, 0.002), TimerSample(1.0, -0.001)])
    temporal.apply_lateness([TimerSample(0.5, 0.5), TimerSample(1.0, 0.05)])
    ratios = {r.key: r for r in compute_timer_ratios(cadenza, temporal)}
    assert ratios["subsecond_p50"].value == pytest.approx(250.0)
    assert ratios["subsecond_p50"].label == "temporal/cadenza"
    assert math.isnan(ratios["long_p50"].value)  # Cadenza's 1 s timer fired early
    assert math.isnan(ratios["cpu_per_1000"].value)


def test_timer_table_and_json() -> None:
    cadenza, temporal = TimerResult(server="cadenza"), TimerResult(server="temporal")
    cadenza.apply_lateness([TimerSample(0.5, 0.002), TimerSample(2.0, 0.004)])
    temporal.apply_lateness([TimerSample(0.5, 0.5)])
    table = format_timer_table([cadenza, temporal], compute_timer_ratios(cadenza, temporal))
    assert "250.00x (temporal/cadenza)" in table
    row_2s = next(line for line in table.splitlines() if "2 s timers" in line)
    assert "4.0 / 4.0" in row_2s
    assert row_2s.rstrip().endswith("-")
    assert "nan" not in table
    encoded = json.loads(json.dumps(TimerResult(server="x").to_json(), allow_nan=False))
    assert encoded["lateness_p50_ms"] is None
    assert encoded["by_duration"] == {}
