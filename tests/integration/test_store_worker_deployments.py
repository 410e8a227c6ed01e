"""The Store's Worker Deployments, run on every backend: a row per namespace and name, written
over, deleted, and gone with its namespace."""

from __future__ import annotations

from cadenza.deployments.model import Deployment, Version
from cadenza.persistence.records import NamespaceRecord
from cadenza.persistence.store import Store


async def test_a_deployment_is_written_over_and_deleted(store: Store) -> None:
    await store.put_worker_deployment("ns", "checkout", b"first")
    await store.put_worker_deployment("ns", "checkout", b"second")
    await store.put_worker_deployment("ns", "billing", b"other")
    assert await store.worker_deployments() == [("ns", "billing", b"other"), ("ns", "checkout", b"second")]
    await store.delete_worker_deployment("ns", "checkout")
    assert await store.worker_deployments() == [("ns", "billing", b"other")]


async def test_a_deployment_reads_back_whole(store: Store) -> None:
    deployment = Deployment("checkout", 10.0, current_build="1.0", revision=3)
    deployment.versions["1.0"] = Version("1.0", 9.0, task_queues=[("orders", 1), ("orders", 2)])
    deployment.versions["1.0"].metadata["owner"] = "b3duZXI="
    await store.put_worker_deployment("ns", "checkout", deployment.to_bytes())
    [(_, _, data)] = await store.worker_deployments()
    assert Deployment.from_bytes(data) == deployment


async def test_a_deleted_namespace_takes_its_deployments(store: Store) -> None:
    await store.create_namespace(NamespaceRecord("gone-id", "gone", {}))
    await store.create_namespace(NamespaceRecord("kept-id", "kept", {}))
    await store.put_worker_deployment("gone-id", "d", b"x")
    await store.put_worker_deployment("kept-id", "d", b"y")
    await store.delete_namespace("gone-id")
    assert await store.worker_deployments() == [("kept-id", "d", b"y")]
