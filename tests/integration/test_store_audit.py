"""The audit log's storage, run on every backend: rows on their own, rows committed with an
execution change (or not at all), listings by filter, and retention."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest

from cadenza.audit import retention
from cadenza.audit.retention import AuditSweeper
from cadenza.audit.times import parse_duration
from cadenza.exceptions import ConcurrentUpdateError
from cadenza.persistence.audit_records import AuditFilter, AuditRecord
from cadenza.persistence.records import ExecutionKey
from cadenza.persistence.store import Store
from tests.integration.test_store_contract import start, write

SERVICE = "temporal.api.workflowservice.v1.WorkflowService"


def row(time: float, namespace: str = "default", principal: str = "alice", **extra: Any) -> AuditRecord:
    return replace(
        AuditRecord(time, "api-key", principal, namespace, SERVICE, "SignalWorkflowExecution"), **extra
    )


async def test_rows_are_listed_newest_first_by_namespace_principal_and_time(store: Store) -> None:
    await store.append_audit(row(10.0, workflow_id="w1", request_id="r1", identity="cli"))
    await store.append_audit(row(20.0, namespace="other"))
    await store.append_audit(row(30.0, principal="bob", outcome="PERMISSION_DENIED", reason="no"))

    everything = await store.list_audit(AuditFilter())
    assert [r.time for r in everything] == [30.0, 20.0, 10.0]
    assert everything[0].id > everything[1].id > everything[2].id > 0
    first = everything[2]
    assert (first.workflow_id, first.request_id, first.identity, first.outcome) == ("w1", "r1", "cli", "ok")
    assert everything[0].reason == "no"

    assert [r.time for r in await store.list_audit(AuditFilter(namespace="default"))] == [30.0, 10.0]
    assert [r.time for r in await store.list_audit(AuditFilter(principal="alice"))] == [20.0, 10.0]
    assert [r.time for r in await store.list_audit(AuditFilter(since=20.0))] == [30.0, 20.0]
    assert [r.time for r in await store.list_audit(AuditFilter(limit=1))] == [30.0]
    older = await store.list_audit(AuditFilter(before_id=everything[0].id, limit=1))
    assert [r.time for r in older] == [20.0]
    assert await store.list_audit(AuditFilter(namespace="default", principal="nobody")) == []


async def test_a_row_carried_by_a_change_commits_with_it_and_not_without(store: Store) -> None:
    key = ExecutionKey("ns", "wf", "run-1")
    await start(store, key, audit=row(1.0, workflow_id="wf", run_id="run-1"))
    assert [(r.workflow_id, r.run_id) for r in await store.list_audit(AuditFilter())] == [("wf", "run-1")]

    # A change computed from a stale version loses: neither it nor its row is written.
    with pytest.raises(ConcurrentUpdateError):
        await store.commit(write(key, 0, audit=row(2.0, workflow_id="wf")))
    with pytest.raises(ConcurrentUpdateError):
        await store.commit(write(key, 5, audit=row(3.0, workflow_id="wf")))
    assert [r.time for r in await store.list_audit(AuditFilter())] == [1.0]

    await store.commit(write(key, 1, audit=row(4.0, workflow_id="wf")))
    assert [r.time for r in await store.list_audit(AuditFilter())] == [4.0, 1.0]


async def test_rows_and_conflicting_changes_share_group_commits(store: Store) -> None:
    """Rows written on their own beside changes that win or lose, all at once: each lands
    exactly when its own write stands."""
    keys = [ExecutionKey("ns", f"wf-{n}", f"run-{n}") for n in range(10)]
    await asyncio.gather(*(start(store, key) for key in keys))
    results = await asyncio.gather(
        *(
            store.commit(write(key, 1, audit=row(float(n), workflow_id=key.workflow_id)))
            for n, key in enumerate(keys)
        ),
        *(store.commit(write(key, 1, audit=row(100.0, workflow_id="lost"))) for key in keys),
        *(store.append_audit(row(200.0 + n)) for n in range(10)),
        return_exceptions=True,
    )
    lost = [r for r in results if isinstance(r, ConcurrentUpdateError)]
    assert len(lost) == len(keys)
    rows = await store.list_audit(AuditFilter(limit=1000))
    assert len(rows) == 2 * len(keys)
    assert sum(1 for r in rows if r.time < 100.0) + sum(1 for r in rows if r.workflow_id == "lost") == len(
        keys
    )


async def test_retention_deletes_only_rows_older_than_the_cutoff(store: Store) -> None:
    for time in (1.0, 2.0, 3.0, 10.0):
        await store.append_audit(row(time))
    assert await store.delete_audit_before(5.0, 2) == 2
    assert await store.delete_audit_before(5.0, 2) == 1
    assert await store.delete_audit_before(5.0, 2) == 0
    assert [r.time for r in await store.list_audit(AuditFilter())] == [10.0]


class StoppedClock:
    def __init__(self, now: float) -> None:
        self.time = now

    def now(self) -> float:
        return self.time


async def test_the_sweeper_deletes_rows_past_retention_in_batches(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(retention, "BATCH", 2)
    for time in (100.0, 200.0, 300.0, 350.0, 950.0):
        await store.append_audit(row(time))
    clock = StoppedClock(1000.0)
    sweeper = AuditSweeper(store, clock, retention=parse_duration("10m"), interval=3600)
    assert await sweeper.sweep() == 4  # older than 1000 - 600: in two full batches and one empty
    assert [r.time for r in await store.list_audit(AuditFilter())] == [950.0]
    clock.time = 2000.0
    assert await sweeper.sweep() == 1
    assert await sweeper.sweep() == 0
