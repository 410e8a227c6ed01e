"""The Store's Worker Deployments, run on every backend: a row per namespace and name, each write
conditional on the revision read, deleted, and gone with its namespace."""

from __future__ import annotations

from cadenza.deployments.model import Deployment, Version
from cadenza.persistence.records import NamespaceRecord
from cadenza.persistence.store import Store


async def test_a_write_lands_only_on_the_revision_it_read(store: Store) -> None:
    assert await store.put_worker_deployment("ns", "checkout", b"first", 0)
    assert not await store.put_worker_deployment("ns", "checkout", b"again", 0)  # it exists now
    assert await store.get_worker_deployment("ns", "checkout") == (1, b"first")
    assert await store.put_worker_deployment("ns", "checkout", b"second", 1)
    assert not await store.put_worker_deployment("ns", "checkout", b"stale", 1)
    assert await store.put_worker_deployment("ns", "billing", b"other", 0)
    assert await store.worker_deployments() == [
        ("ns", "billing", 1, b"other"),
        ("ns", "checkout", 2, b"second"),
    ]
    assert not await store.delete_worker_deployment("ns", "checkout", 1)
    assert await store.delete_worker_deployment("ns", "checkout", 2)
    assert await store.get_worker_deployment("ns", "checkout") is None


async def test_a_deployment_reads_back_whole(store: Store) -> None:
    deployment = Deployment("checkout", 10.0, current_build="1.0", revision=3)
    deployment.versions["1.0"] = Version("1.0", 9.0, task_queues=[("orders", 1), ("orders", 2)])
    deployment.versions["1.0"].metadata["owner"] = "b3duZXI="
    await store.put_worker_deployment("ns", "checkout", deployment.to_bytes(), 0)
    [(_, _, _, data)] = await store.worker_deployments()
    assert Deployment.from_bytes(data) == deployment


async def test_a_deleted_namespace_takes_its_deployments(store: Store) -> None:
    await store.create_namespace(NamespaceRecord("gone-id", "gone", {}))
    await store.create_namespace(NamespaceRecord("kept-id", "kept", {}))
    await store.put_worker_deployment("gone-id", "d", b"x", 0)
    await store.put_worker_deployment("kept-id", "d", b"y", 0)
    await store.delete_namespace("gone-id")
    assert await store.worker_deployments() == [("kept-id", "d", 1, b"y")]
