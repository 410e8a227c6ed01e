"""Namespaces: registration and lookup, cached in memory since they rarely change."""

from __future__ import annotations

import uuid

from cadenza.exceptions import InvalidArgumentError, NamespaceNotFoundError
from cadenza.persistence import Store
from cadenza.persistence.records import NamespaceRecord

DEFAULT_RETENTION_SECONDS = 86400


class NamespaceRegistry:
    """Looks namespaces up by name, from memory after the first read."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._by_name: dict[str, NamespaceRecord] = {}

    async def get(self, name: str) -> NamespaceRecord:
        """The namespace, or ``NamespaceNotFoundError``."""
        if not name:
            raise InvalidArgumentError("Namespace is empty.")
        record = self._by_name.get(name)
        if record is None:
            record = await self._store.get_namespace(name)
            if record is None:
                raise NamespaceNotFoundError(name)
            self._by_name[name] = record
        return record

    async def register(
        self,
        name: str,
        *,
        description: str = "",
        owner_email: str = "",
        retention_seconds: float = DEFAULT_RETENTION_SECONDS,
        data: dict[str, str] | None = None,
    ) -> NamespaceRecord:
        if not name:
            raise InvalidArgumentError("Namespace is empty.")
        record = NamespaceRecord(
            id=str(uuid.uuid4()),
            name=name,
            info={
                "description": description,
                "owner_email": owner_email,
                "retention_seconds": retention_seconds,
                "data": data or {},
            },
        )
        await self._store.create_namespace(record)
        self._by_name[name] = record
        return record

    async def ensure(self, name: str) -> NamespaceRecord:
        """Create the namespace if it does not exist yet (the default one, at start)."""
        existing = await self._store.get_namespace(name)
        return existing if existing is not None else await self.register(name)

    async def list(self) -> list[NamespaceRecord]:
        return await self._store.list_namespaces()
