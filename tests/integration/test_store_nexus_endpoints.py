"""The Store's Nexus endpoints, run on every backend: names unique, updates conditional on the
version, listing in ID order."""

from __future__ import annotations

from cadenza.persistence.records import StoredNexusEndpoint
from cadenza.persistence.store import Store


def endpoint(endpoint_id: str, name: str, version: int = 1, spec: bytes = b"spec") -> StoredNexusEndpoint:
    return StoredNexusEndpoint(endpoint_id, name, version, 1000.5, None, spec)


async def test_an_endpoint_is_created_once_per_id_and_name(store: Store) -> None:
    assert await store.create_nexus_endpoint(endpoint("id-1", "one"))
    assert not await store.create_nexus_endpoint(endpoint("id-1", "other"))
    assert not await store.create_nexus_endpoint(endpoint("id-2", "one"))
    assert await store.get_nexus_endpoint("id-1") == endpoint("id-1", "one")
    assert await store.get_nexus_endpoint_by_name("one") == endpoint("id-1", "one")
    assert await store.get_nexus_endpoint("id-2") is None
    assert await store.get_nexus_endpoint_by_name("other") is None


async def test_an_update_lands_only_on_the_version_it_read(store: Store) -> None:
    await store.create_nexus_endpoint(endpoint("id-1", "one"))
    await store.create_nexus_endpoint(endpoint("id-2", "two"))
    renamed = StoredNexusEndpoint("id-1", "uno", 2, 1000.5, 2000.25, b"new")
    assert not await store.update_nexus_endpoint(renamed, 5)
    assert await store.update_nexus_endpoint(renamed, 1)
    assert await store.get_nexus_endpoint("id-1") == renamed
    assert await store.get_nexus_endpoint_by_name("one") is None
    taken = StoredNexusEndpoint("id-1", "two", 3, 1000.5, 3000.0, b"x")
    assert not await store.update_nexus_endpoint(taken, 2)  # another endpoint's name
    assert await store.get_nexus_endpoint("id-1") == renamed
    gone = StoredNexusEndpoint("id-9", "nine", 2, 1000.5, 3000.0, b"x")
    assert not await store.update_nexus_endpoint(gone, 1)


async def test_endpoints_list_in_id_order_and_delete_once(store: Store) -> None:
    for endpoint_id, name in [("c", "three"), ("a", "one"), ("b", "two")]:
        await store.create_nexus_endpoint(endpoint(endpoint_id, name))
    assert [e.name for e in await store.list_nexus_endpoints("", 10)] == ["one", "two", "three"]
    assert [e.name for e in await store.list_nexus_endpoints("a", 1)] == ["two"]
    assert await store.delete_nexus_endpoint("b")
    assert not await store.delete_nexus_endpoint("b")
    assert [e.endpoint_id for e in await store.list_nexus_endpoints("", 10)] == ["a", "c"]
