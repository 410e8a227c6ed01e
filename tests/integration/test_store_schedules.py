"""The Store's schedules, run on every backend: conditional writes with their timers, filters, deletes."""

from __future__ import annotations

import asyncio
import json

import pytest

from cadenza.exceptions import ConcurrentUpdateError, InvalidArgumentError
from cadenza.persistence.backends import open_store
from cadenza.persistence.records import NamespaceRecord, ScheduleWrite, TimerRecord
from cadenza.persistence.store import Store
from cadenza.visibility import attributes as attrs
from cadenza.visibility import filters
from cadenza.visibility.query import Query, parse

TYPES: dict[str, int] = {"Team": attrs.KEYWORD, "Priority": attrs.INT}


def wake(timer_id: str, schedule_id: str, fire_at: float = 50.0, namespace_id: str = "ns") -> TimerRecord:
    return TimerRecord(timer_id, fire_at, namespace_id, schedule_id, "", "schedule", 0, 0)


def create(
    schedule_id: str,
    create_time: float = 1.0,
    state: bytes = b"v1",
    values: dict[str, object] | None = None,
    namespace_id: str = "ns",
    timers: list[TimerRecord] | None = None,
) -> ScheduleWrite:
    return ScheduleWrite(
        namespace_id, schedule_id, 0, state, create_time, json.dumps(values or {}), timers_added=timers or []
    )


async def test_create_update_and_delete_are_conditional_on_the_version(store: Store) -> None:
    await store.write_schedule(create("s", timers=[wake("t1", "s")]))
    with pytest.raises(ConcurrentUpdateError):
        await store.write_schedule(create("s", state=b"other", timers=[wake("t-dup", "s")]))
    stored = await store.get_schedule("ns", "s")
    assert stored is not None and (stored.version, stored.state) == (1, b"v1")
    assert [t.timer_id for t in await store.list_timers()] == ["t1"]

    await store.write_schedule(
        ScheduleWrite("ns", "s", 1, b"v2", 1.0, timers_added=[wake("t2", "s", 60.0)], timers_removed=["t1"])
    )
    stored = await store.get_schedule("ns", "s")
    assert stored is not None and (stored.version, stored.state) == (2, b"v2")
    assert await store.list_timers() == [wake("t2", "s", 60.0)]

    with pytest.raises(ConcurrentUpdateError):  # stale: computed from version 1
        await store.write_schedule(
            ScheduleWrite("ns", "s", 1, b"lost", 1.0, timers_added=[wake("t3", "s")], timers_removed=["t2"])
        )
    with pytest.raises(ConcurrentUpdateError):
        await store.write_schedule(ScheduleWrite("ns", "s", 1, b"", 1.0, delete=True, timers_removed=["t2"]))
    stored = await store.get_schedule("ns", "s")
    assert stored is not None and (stored.version, stored.state) == (2, b"v2")
    assert [t.timer_id for t in await store.list_timers()] == ["t2"]

    await store.write_schedule(ScheduleWrite("ns", "s", 2, b"", 1.0, delete=True, timers_removed=["t2"]))
    assert await store.get_schedule("ns", "s") is None
    assert await store.list_timers() == []


async def test_updating_a_missing_schedule_is_a_conflict(store: Store) -> None:
    with pytest.raises(ConcurrentUpdateError):
        await store.write_schedule(
            ScheduleWrite("ns", "absent", 1, b"x", 1.0, timers_added=[wake("t", "absent")])
        )
    assert await store.get_schedule("ns", "absent") is None
    assert await store.list_timers() == []


async def test_racing_updates_of_one_version_let_exactly_one_land(db_url: str) -> None:
    store = open_store(db_url)
    await store.open()
    await store.write_schedule(create("s"))
    racing = [
        store.write_schedule(
            ScheduleWrite("ns", "s", 1, f"v{n}".encode(), 1.0, timers_added=[wake(f"t{n}", "s")])
        )
        for n in range(5)
    ]
    outcomes = await asyncio.gather(*racing, return_exceptions=True)
    assert sum(o is None for o in outcomes) == 1
    assert all(isinstance(o, ConcurrentUpdateError) for o in outcomes if o is not None)
    await store.close()
    reopened = open_store(db_url)
    await reopened.open()
    try:
        winner = next(n for n, o in enumerate(outcomes) if o is None)
        stored = await reopened.get_schedule("ns", "s")
        assert stored is not None and (stored.version, stored.state) == (2, f"v{winner}".encode())
        assert [t.timer_id for t in await reopened.list_timers()] == [f"t{winner}"]
        assert [(s.namespace_id, s.schedule_id, s.version) for s in await reopened.list_all_schedules()] == [
            ("ns", "s", 2)
        ]
    finally:
        await reopened.close()


SCHEDULES: list[tuple[str, float, dict[str, object]]] = [
    ("nightly", 10.0, {"TemporalSchedulePaused": False, "Team": "ops", "Priority": 2}),
    ("hourly", 30.0, {"TemporalSchedulePaused": True, "Team": "ops"}),
    ("weekly", 20.0, {"TemporalSchedulePaused": False, "Team": "data", "Priority": 7}),
    ("night_x", 40.0, {"TemporalSchedulePaused": False}),
]
"""(schedule ID, create time, filterable values) in the namespace the filters run on."""


@pytest.fixture
async def scheduled(store: Store) -> Store:
    for schedule_id, created, values in SCHEDULES:
        await store.write_schedule(create(schedule_id, created, values=values))
    await store.write_schedule(
        create("nightly", 5.0, namespace_id="other", values={"TemporalSchedulePaused": True, "Team": "ops"})
    )
    return store


def checked(text: str) -> Query:
    return filters.check(parse(text), TYPES, built_in=attrs.SCHEDULE_BUILT_IN)


async def schedule_ids(store: Store, text: str, limit: int = 100, offset: int = 0) -> list[str]:
    return [s.schedule_id for s in await store.list_schedules("ns", checked(text), TYPES, limit, offset)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ["night_x", "hourly", "weekly", "nightly"]),
        ("ScheduleId = 'weekly'", ["weekly"]),
        ("ScheduleId IN ('hourly', 'nightly', 'absent')", ["hourly", "nightly"]),
        ("ScheduleId STARTS_WITH 'night'", ["night_x", "nightly"]),
        ("ScheduleId STARTS_WITH 'night_'", ["night_x"]),
        ("TemporalSchedulePaused = true", ["hourly"]),
        ("TemporalSchedulePaused = false AND Team = 'ops'", ["nightly"]),
        ("Team = 'ops' OR Priority > 5", ["hourly", "weekly", "nightly"]),
        ("Priority IS NULL", ["night_x", "hourly"]),
        ("NOT (Team = 'ops')", ["weekly"]),
    ],
)
async def test_schedules_filter_through_the_shared_compiler(
    scheduled: Store, text: str, expected: list[str]
) -> None:
    assert await schedule_ids(scheduled, text) == expected
    assert await scheduled.count_schedules("ns", checked(text), TYPES) == len(expected)


async def test_schedules_page_newest_first(scheduled: Store) -> None:
    assert await schedule_ids(scheduled, "", limit=2) == ["night_x", "hourly"]
    assert await schedule_ids(scheduled, "", limit=2, offset=2) == ["weekly", "nightly"]
    assert await schedule_ids(scheduled, "", limit=2, offset=4) == []


def test_an_execution_attribute_is_not_a_schedule_column() -> None:
    with pytest.raises(InvalidArgumentError):
        checked("WorkflowType = 'x'")


async def test_deleting_a_namespace_removes_its_schedules_and_their_timers(store: Store) -> None:
    await store.create_namespace(NamespaceRecord("gone", "gone", {}))
    await store.write_schedule(
        create("s", namespace_id="gone", timers=[wake("t-gone", "s", namespace_id="gone")])
    )
    await store.write_schedule(create("s", timers=[wake("t-kept", "s")]))
    await store.delete_namespace("gone")
    assert await store.get_schedule("gone", "s") is None
    assert [(s.namespace_id, s.schedule_id) for s in await store.list_all_schedules()] == [("ns", "s")]
    assert [t.timer_id for t in await store.list_timers()] == ["t-kept"]
