"""The timestamps, durations and UTC texts the server and the UI write from a float of seconds
are exactly those protobuf's own conversions give, over the whole range a Timestamp holds."""

from __future__ import annotations

import datetime
import random

from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

from cadenza.history.machine import events as ev
from cadenza.web.ui import present

EDGES = [
    0.0,
    1e-9,
    0.5,
    -0.5,
    -1e-9,
    1.999999999,
    1_790_000_000.123456789,
    ev.TIMESTAMP_MIN,
    ev.TIMESTAMP_MAX,
]


def seconds_to_try() -> list[float]:
    draw = random.Random(16)
    spread = [draw.uniform(ev.TIMESTAMP_MIN, ev.TIMESTAMP_MAX) for _ in range(2000)]
    recent = [draw.uniform(1.6e9, 1.9e9) for _ in range(2000)]
    return [*EDGES, *spread, *recent, ev.TIMESTAMP_MIN - 5, ev.TIMESTAMP_MAX + 5]


def protobuf_timestamp(seconds: float) -> Timestamp:
    stamp = Timestamp()
    stamp.FromNanoseconds(int(min(max(seconds, ev.TIMESTAMP_MIN), ev.TIMESTAMP_MAX) * 1e9))
    return stamp


def test_timestamps_and_durations_are_protobufs_own() -> None:
    tried = seconds_to_try()
    for seconds in tried:
        assert ev.timestamp(seconds) == protobuf_timestamp(seconds), seconds
    for start, end in zip(tried, reversed(tried), strict=True):
        expected = Duration()
        expected.FromNanoseconds(
            protobuf_timestamp(end).ToNanoseconds() - protobuf_timestamp(start).ToNanoseconds()
        )
        assert ev.between(start, end) == expected, (start, end)


def test_utc_text_is_what_the_datetime_of_the_timestamp_writes() -> None:
    for seconds in seconds_to_try():
        stamp = protobuf_timestamp(seconds)
        if not stamp.seconds and not stamp.nanos:
            assert present.when(stamp) == ""
            continue
        moment = stamp.ToDatetime(tzinfo=datetime.UTC)
        expected = moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d} UTC"
        assert present.when(stamp) == expected, seconds
