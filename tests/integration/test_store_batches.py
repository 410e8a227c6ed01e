"""What the store keeps of batch operations, on every backend: one batch per job ID, progress
and closing written only by the replica running it, listings with running batches first, and
on PostgreSQL the running batches of a replica that is gone claimed by exactly one other."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from cadenza.persistence.backends import open_store
from cadenza.persistence.batch_records import BatchProgress, StoredBatch
from cadenza.persistence.postgres.store import PostgresStore
from cadenza.persistence.store import Store
from tests import postgres
from tests.integration.test_store_replicas import expire_lease, link

RUNNING, COMPLETED, FAILED = 1, 2, 3


def batch(job_id: str, owner: str = "me", start_time: float = 1.0, namespace_id: str = "ns") -> StoredBatch:
    return StoredBatch(
        namespace_id=namespace_id,
        job_id=job_id,
        run_id=f"run-{job_id}",
        request_id=f"request-{job_id}",
        operation_type=13,
        request=b"\x0a\x07default",
        identity="tester",
        reason="because",
        state=RUNNING,
        start_time=start_time,
        close_time=None,
        progress=BatchProgress(10, 0, 0, b"{}"),
        owner=owner,
    )


async def test_a_job_id_holds_one_batch_per_namespace(store: Store) -> None:
    assert await store.insert_batch(batch("job"))
    assert not await store.insert_batch(batch("job", owner="other"))
    assert await store.insert_batch(batch("job", namespace_id="elsewhere"))
    assert await store.get_batch("ns", "job") == batch("job")
    assert await store.get_batch("ns", "missing") is None
    assert await store.count_running_batches("ns") == 1


async def test_only_the_owner_writes_progress_and_a_closed_batch_stays_closed(store: Store) -> None:
    await store.insert_batch(batch("job"))
    progress = BatchProgress(10, 4, 1, b'{"at": 5}')
    assert not await store.save_batch_progress("ns", "job", "other", progress)
    assert await store.save_batch_progress("ns", "job", "me", progress)
    assert await store.get_batch("ns", "job") == replace(batch("job"), progress=progress)
    final = BatchProgress(5, 4, 1, b"{}")
    assert not await store.close_batch("ns", "job", "other", COMPLETED, 9.0, final)
    assert await store.close_batch("ns", "job", None, FAILED, 9.0, final)  # stopped by anyone
    assert not await store.close_batch("ns", "job", "me", COMPLETED, 10.0, final)
    assert not await store.save_batch_progress("ns", "job", "me", progress)
    closed = await store.get_batch("ns", "job")
    assert closed is not None
    assert (closed.state, closed.close_time, closed.progress) == (FAILED, 9.0, final)
    assert await store.count_running_batches("ns") == 0


async def test_listings_show_running_batches_then_the_newest_closed(store: Store) -> None:
    for job_id, start in (("old", 1.0), ("running", 2.0), ("new", 3.0), ("newest-running", 4.0)):
        await store.insert_batch(batch(job_id, start_time=start))
    done = BatchProgress(0, 0, 0, b"{}")
    await store.close_batch("ns", "old", "me", COMPLETED, 8.0, done)
    await store.close_batch("ns", "new", "me", COMPLETED, 5.0, done)
    listed = [b.job_id for b in await store.list_batches("ns", 10, 0)]
    assert listed == ["newest-running", "running", "old", "new"]
    assert [b.job_id for b in await store.list_batches("ns", 2, 2)] == ["old", "new"]


async def test_a_restarted_server_claims_the_batches_another_process_ran(db_url: str) -> None:
    if not db_url.endswith(".db"):
        pytest.skip("on PostgreSQL a batch is claimed once its replica's lease runs out (below)")
    first = open_store(db_url)
    await first.open()
    await first.insert_batch(batch("job", owner="gone"))
    await first.close()
    again = open_store(db_url)
    await again.open()
    try:
        assert [b.job_id for b in await again.claim_batches("me")] == ["job"]
        assert await again.claim_batches("me") == []
    finally:
        await again.close()


@pytest.fixture
async def replicas(postgres_server: str) -> AsyncIterator[tuple[str, list[PostgresStore]]]:
    url = await postgres.create_database(postgres_server)
    opened: list[PostgresStore] = []
    for _ in range(3):
        store = open_store(url)
        assert isinstance(store, PostgresStore)
        await store.open()
        opened.append(store)
    yield url, opened
    for store in opened:
        await store.close()
    await postgres.drop_database(postgres_server, url)


async def test_one_replica_claims_the_batches_of_a_replica_that_is_gone(
    replicas: tuple[str, list[PostgresStore]],
) -> None:
    url, (runner, first, second) = replicas
    await runner.insert_batch(batch("job", owner=link(runner).replica_id))
    assert await first.claim_batches(link(first).replica_id) == []  # its owner is alive
    await expire_lease(url, runner)
    claims = await asyncio.gather(
        first.claim_batches(link(first).replica_id), second.claim_batches(link(second).replica_id)
    )
    assert sorted(b.job_id for claimed in claims for b in claimed) == ["job"]
    assert [] in claims
    winner = first if claims[0] else second
    claimed = await winner.get_batch("ns", "job")
    assert claimed is not None and claimed.owner == link(winner).replica_id
    assert not await runner.save_batch_progress("ns", "job", link(runner).replica_id, claimed.progress)


async def test_a_deleted_namespace_takes_its_batches_along(store: Store) -> None:
    await store.insert_batch(batch("job"))
    await store.insert_batch(batch("job", namespace_id="kept"))
    await store.delete_namespace("ns")
    assert await store.get_batch("ns", "job") is None
    assert await store.get_batch("kept", "job") is not None
