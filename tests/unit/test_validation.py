"""Limits on client input, and error messages bounded in size, as pure functions."""

from __future__ import annotations

import pytest
from google.protobuf.duration_pb2 import Duration
from temporalio.api.failure.v1 import Failure

from cadenza import validation
from cadenza.api.errors import MAX_MESSAGE_BYTES, bounded
from cadenza.exceptions import InvalidArgumentError
from cadenza.history.machine import events as ev


def test_lengths_are_counted_in_utf8_bytes_as_temporal_counts_them() -> None:
    validation.check_length("x" * 1000, "too long")
    with pytest.raises(InvalidArgumentError, match="too long"):
        validation.check_length("é" * 501, "too long")


def test_a_duration_past_a_century_is_capped_in_place() -> None:
    duration = Duration(seconds=10**12, nanos=5)
    validation.cap_duration(duration, "Timeout")
    assert (duration.seconds, duration.nanos) == (validation.MAX_DURATION_SECONDS, 0)
    short = Duration(seconds=30, nanos=5)
    validation.cap_duration(short, "Timeout")
    assert (short.seconds, short.nanos) == (30, 5)


@pytest.mark.parametrize(
    ("duration", "cause"),
    [
        (Duration(seconds=5, nanos=-1), "duration has seconds and nanos with different signs"),
        (Duration(seconds=-5), "negative duration"),
    ],
)
def test_malformed_durations_are_refused(duration: Duration, cause: str) -> None:
    with pytest.raises(InvalidArgumentError) as raised:
        validation.cap_duration(duration, "Timeout")
    assert raised.value.message == f"An invalid Timeout is set on request. cause: {cause}"


def test_failure_chains_are_limited_in_depth() -> None:
    failure = Failure(message="root")
    for _ in range(validation.MAX_FAILURE_DEPTH - 1):
        failure = Failure(message="wrapper", cause=failure)
    validation.check_failure(failure)
    with pytest.raises(InvalidArgumentError):
        validation.check_failure(Failure(message="one more", cause=failure))


def test_messages_are_cut_to_the_limit_never_inside_a_character() -> None:
    assert bounded("short") == "short"
    cut = bounded("é" * 5000)
    assert len(cut.encode()) <= MAX_MESSAGE_BYTES
    assert cut.endswith("...") and cut.startswith("éé")


def test_times_past_protobufs_range_are_held_at_its_end() -> None:
    assert ev.timestamp(1e15).ToDatetime().year == 9999
    assert ev.timestamp(-1e15).ToDatetime().year == 1
