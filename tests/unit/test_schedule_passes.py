"""The scheduler's passes do bounded work: a huge backfill or a long catch-up is taken a
bite at a time, and the next pass carries on where the last one stopped."""

from __future__ import annotations

from google.protobuf.duration_pb2 import Duration
from temporalio.api.common.v1 import Memo, SearchAttributes
from temporalio.api.enums.v1 import ScheduleOverlapPolicy as P
from temporalio.api.schedule.v1 import (
    BackfillRequest,
    IntervalSpec,
    Schedule,
    ScheduleInfo,
    SchedulePatch,
    ScheduleSpec,
)

from cadenza.schedules import scheduler
from cadenza.schedules.record import ScheduleRecord
from cadenza.schedules.spec import CompiledSpec, canonical

YEAR_ONE = -62_135_596_800
LAST_SECOND = 253_402_300_799
NOW = 1_900_000_000.0


def every_second() -> ScheduleRecord:
    spec = canonical(ScheduleSpec(interval=[IntervalSpec(interval=Duration(seconds=1))]))
    return ScheduleRecord(
        namespace_id="ns",
        namespace="default",
        schedule_id="s",
        schedule=Schedule(spec=spec),
        info=ScheduleInfo(),
        memo=Memo(),
        search_attributes=SearchAttributes(),
        create_request_id="r",
        last_processed=NOW,
    )


def backfill_all_of_time(record: ScheduleRecord) -> None:
    request = BackfillRequest(overlap_policy=P.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL)
    request.start_time.seconds, request.end_time.seconds = YEAR_ONE, LAST_SECOND
    scheduler.apply_patch(record, None, SchedulePatch(backfill_request=[request]), NOW)


def test_a_backfill_over_all_of_time_takes_ten_actions_a_pass_and_keeps_its_place() -> None:
    record = every_second()
    backfill_all_of_time(record)
    scheduler.process_backfills(record, CompiledSpec(record.schedule.spec))
    assert [start.nominal for start in record.buffer] == [float(t) for t in range(1, 11)]
    assert record.backfills[0].start == 10  # nothing matches before the epoch
    record.buffer.clear()
    scheduler.process_backfills(record, CompiledSpec(record.schedule.spec))
    assert [start.nominal for start in record.buffer] == [float(t) for t in range(11, 21)]
    assert record.backfills[0].start == 20


def test_backfills_past_the_buffers_size_are_dropped_and_counted() -> None:
    record = every_second()
    for _ in range(scheduler.MAX_BUFFER + 3):
        backfill_all_of_time(record)
    assert len(record.backfills) == scheduler.MAX_BUFFER
    assert record.info.buffer_dropped == 3


def test_a_long_catch_up_is_processed_a_bounded_number_of_times_per_pass() -> None:
    record = every_second()
    record.schedule.policies.catchup_window.FromSeconds(10)
    spec = CompiledSpec(record.schedule.spec)
    a_year_later = NOW + 365 * 24 * 3600
    outcome = scheduler.process_time_range(record, spec, NOW, a_year_later, 0, False)
    assert outcome.resume_after == NOW + scheduler.MAX_TIMES_PER_PASS
    assert record.info.missed_catchup_window == scheduler.MAX_TIMES_PER_PASS
