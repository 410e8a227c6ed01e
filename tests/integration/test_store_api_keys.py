"""The Store's API keys, run on every backend: a hash stored, never the key; revoke once; last use."""

from __future__ import annotations

import pytest

from cadenza.auth.api_keys import new_key, parse, secret_hash
from cadenza.auth.principal import Role
from cadenza.exceptions import ConcurrentUpdateError
from cadenza.persistence.store import Store


async def test_a_key_is_stored_by_its_hash_and_read_back_whole(store: Store) -> None:
    made = new_key("orders", Role.WORKER, 100.0, name="payments worker", expires_at=200.0)
    await store.create_api_key(made.record)
    stored = await store.get_api_key(made.record.key_id)
    assert stored == made.record
    parsed = parse(made.key)
    assert parsed is not None and stored.secret_hash == secret_hash(parsed[1])
    assert parsed[1] not in repr(stored), "the secret itself is never stored"
    assert await store.get_api_key("0" * 16) is None
    with pytest.raises(ConcurrentUpdateError):
        await store.create_api_key(made.record)


async def test_keys_are_listed_oldest_first_and_by_namespace(store: Store) -> None:
    admin = new_key("*", Role.ADMIN, 1.0, cluster_admin=True)
    reader = new_key("orders", Role.READER, 2.0)
    writer = new_key("billing", Role.WRITER, 3.0)
    for made in (writer, admin, reader):
        await store.create_api_key(made.record)
    assert [k.key_id for k in await store.list_api_keys()] == [
        admin.record.key_id,
        reader.record.key_id,
        writer.record.key_id,
    ]
    assert [k.key_id for k in await store.list_api_keys("orders")] == [reader.record.key_id]
    listed = await store.list_api_keys("*")
    assert [(k.cluster_admin, k.role) for k in listed] == [(True, "admin")]


async def test_a_key_is_revoked_once_and_its_use_recorded(store: Store) -> None:
    made = new_key("orders", Role.READER, 1.0)
    await store.create_api_key(made.record)
    await store.touch_api_key(made.record.key_id, 42.5)
    assert await store.revoke_api_key(made.record.key_id, 50.0)
    assert not await store.revoke_api_key(made.record.key_id, 60.0)
    assert not await store.revoke_api_key("0" * 16, 60.0)
    stored = await store.get_api_key(made.record.key_id)
    assert stored is not None and (stored.revoked_at, stored.last_used_at) == (50.0, 42.5)
