"""Replicas sharing one PostgreSQL database, at the store: leases, timer claims, announcements,
shared queries."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from cadenza.persistence.backends import open_store
from cadenza.persistence.postgres.store import PostgresStore
from cadenza.persistence.records import ExecutionKey, QueryReply, SharedQuery, TaskRecord
from cadenza.persistence.replica_link import ReplicaLink
from tests import postgres
from tests.helpers import eventually
from tests.integration.test_store_contract import start, task, timer, write


@pytest.fixture
async def url(postgres_server: str) -> str:
    return await postgres.create_database(postgres_server)


@pytest.fixture
async def stores(url: str) -> AsyncIterator[list[PostgresStore]]:
    opened: list[PostgresStore] = []
    for _ in range(3):
        store = open_store(url)
        assert isinstance(store, PostgresStore)
        await store.open()
        opened.append(store)
    yield opened
    for store in opened:
        await store.close()


def link(store: PostgresStore) -> ReplicaLink:
    found = store.replicas()
    assert found is not None
    return found


async def expire_lease(url: str, store: PostgresStore) -> None:
    """What a SIGKILL leaves behind once the lease runs out: a replica that renews no more."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("UPDATE replicas SET expires_at = 0 WHERE replica_id = $1", link(store).replica_id)
    finally:
        await conn.close()


async def test_a_timer_belongs_to_its_writer_until_its_lease_runs_out(
    url: str, stores: list[PostgresStore]
) -> None:
    writer, first, second = stores
    key = ExecutionKey("ns", "wf", "run")
    await start(writer, key, timers_added=[timer("t1", key, 5.0), timer("t2", key, 6.0)])
    assert [t.timer_id for t in await writer.list_timers()] == ["t1", "t2"]
    assert await first.list_timers() == []  # a replica starting now leaves them to their owner
    assert await link(first).claim_orphan_timers() == []
    await expire_lease(url, writer)
    claims = await asyncio.gather(link(first).claim_orphan_timers(), link(second).claim_orphan_timers())
    assert sorted(t.timer_id for claimed in claims for t in claimed) == ["t1", "t2"]
    assert [] in claims  # exactly one replica took them
    assert await link(first).claim_orphan_timers() == []
    assert await link(second).claim_orphan_timers() == []


async def test_new_tasks_and_changes_are_announced_to_the_other_replicas(stores: list[PostgresStore]) -> None:
    writer, listener, _ = stores
    heard_tasks: list[TaskRecord] = []
    heard_changes: list[tuple[ExecutionKey, int]] = []
    own_news: list[object] = []
    await link(listener).listen(heard_tasks.append, lambda k, v: heard_changes.append((k, v)))
    await link(writer).listen(own_news.append, lambda k, v: own_news.append((k, v)))
    key = ExecutionKey("ns", "wf", "run")
    await start(writer, key, tasks_added=[task("a", key)])
    await writer.commit(write(key, 1, tasks_added=[task("b", key)]))
    await eventually(lambda: len(heard_tasks) == 2 and bool(heard_changes), timeout=2, interval=0.01)
    assert heard_tasks == [task("a", key), task("b", key)]
    assert heard_changes == [(key, 2)]
    assert own_news == []
    assert [t.task_id for t in await link(listener).queued_tasks("ns", "q", task("a", key).kind, 10)] == [
        "a",
        "b",
    ]


def shared_query(owner: PostgresStore, query_id: str, task_queue: str = "q") -> SharedQuery:
    return SharedQuery(query_id, link(owner).replica_id, "ns", task_queue, "wf", "run", b"\x0a\x05count", 1.0)


async def test_a_shared_query_is_handed_out_once_and_its_answer_reaches_its_owner(
    stores: list[PostgresStore],
) -> None:
    owner, first, second = stores
    offers: list[tuple[str, str, str]] = []
    own_offers: list[object] = []
    answers: list[str] = []
    others_answers: list[str] = []
    await link(first).listen(
        lambda t: None, lambda k, v: None, lambda *offer: offers.append(offer), others_answers.append
    )
    await link(owner).listen(
        lambda t: None, lambda k, v: None, lambda *offer: own_offers.append(offer), answers.append
    )
    query = shared_query(owner, "query-1")
    await link(owner).offer_query(query)
    await eventually(lambda: bool(offers), timeout=2, interval=0.01)
    assert offers == [("query-1", "ns", "q")] and own_offers == []
    assert await link(second).unclaimed_queries("ns", "q", 10) == ["query-1"]
    claims = await asyncio.gather(*(link(s).claim_query("query-1") for s in stores))
    assert [c for c in claims if c is not None] == [query]  # exactly one replica has it
    winner = stores[[c is not None for c in claims].index(True)]
    assert await link(second).unclaimed_queries("ns", "q", 10) == []
    reply = QueryReply(1, b"result", "", None)
    losers = [s for s in stores if s is not winner]
    assert not any([await link(s).answer_query("query-1", reply) for s in losers])
    assert await link(owner).query_reply("query-1") is None
    assert await link(winner).answer_query("query-1", reply)
    assert not await link(winner).answer_query("query-1", QueryReply(2, None, "late", None))
    await eventually(lambda: bool(answers), timeout=2, interval=0.01)
    assert answers == ["query-1"] and others_answers == []
    assert await link(owner).query_reply("query-1") == reply
    await link(owner).drop_query("query-1")
    assert await link(owner).query_reply("query-1") is None
    assert await link(winner).answer_query("query-1", reply) is False


async def test_queries_of_a_replica_that_is_gone_are_dropped(url: str, stores: list[PostgresStore]) -> None:
    gone, alive, other = stores
    await link(gone).offer_query(shared_query(gone, "orphan"))
    await link(alive).offer_query(shared_query(alive, "kept"))
    assert await link(other).drop_orphan_queries() == 0
    await expire_lease(url, gone)
    assert await link(other).drop_orphan_queries() == 1
    assert await link(other).unclaimed_queries("ns", "q", 10) == ["kept"]


async def test_a_nexus_request_rides_with_the_queries_and_any_replica_may_answer_it(
    stores: list[PostgresStore],
) -> None:
    owner, claimer, answerer = stores
    answers: list[str] = []
    await link(owner).listen(lambda t: None, lambda k, v: None, lambda *offer: None, answers.append)
    await link(owner).offer_query(shared_query(owner, "nexus:req-1"))
    await link(owner).offer_query(shared_query(owner, "query-1"))
    assert await link(answerer).unclaimed_queries("ns", "q", 10) == ["query-1"]
    assert await link(answerer).unclaimed_nexus_requests("ns", "q", 10) == ["nexus:req-1"]
    reply = QueryReply(1, b"answer")
    assert not await link(answerer).answer_nexus_request("nexus:req-1", "ns", reply)  # not handed out
    assert await link(claimer).claim_query("nexus:req-1") is not None
    assert await link(answerer).unclaimed_nexus_requests("ns", "q", 10) == []
    assert not await link(answerer).answer_nexus_request("nexus:req-1", "other-ns", reply)
    assert await link(answerer).answer_nexus_request("nexus:req-1", "ns", reply)
    assert not await link(claimer).answer_nexus_request("nexus:req-1", "ns", QueryReply(2, b"late"))
    await eventually(lambda: answers == ["nexus:req-1"], timeout=2, interval=0.01)
    assert await link(owner).query_reply("nexus:req-1") == QueryReply(1, b"answer")
