"""Namespaces: registration and lookup, cached in memory since they rarely change."""

from __future__ import annotations

import logging
import uuid

from cadenza.exceptions import (
    InvalidArgumentError,
    NamespaceAlreadyExistsError,
    NamespaceNotFoundError,
    NotFoundError,
)
from cadenza.persistence.records import NamespaceRecord
from cadenza.persistence.roles import NamespaceStore
from cadenza.visibility.attributes import BUILT_IN, SYSTEM_CUSTOM, TYPE_NAMES

logger = logging.getLogger(__name__)

DEFAULT_RETENTION_SECONDS = 86400
MAX_CUSTOM_ATTRIBUTES_PER_TYPE = 100
"""Custom search attributes a namespace may register of each type. Temporal's SQL stores
cap each type by their columns (10 Keyword, 3 of each other type on the dev server);
Cadenza keeps values as JSON and has no columns to run out of, but bounds the registry
so that no call can grow it without end."""


def _check_per_type_limit(current: dict[str, int], wanted: dict[str, int]) -> None:
    merged = {**current, **wanted}
    for kind in sorted(set(wanted.values())):
        limit = MAX_CUSTOM_ATTRIBUTES_PER_TYPE if kind else 0
        if sum(1 for k in merged.values() if k == kind) > limit:
            raise InvalidArgumentError(
                f"Unable to create search attributes: cannot have more than {limit} search "
                f"attribute of type {TYPE_NAMES.get(kind, 'Unspecified')}."
            )


class NamespaceRegistry:
    """Looks namespaces up by name, from memory after the first read."""

    def __init__(self, store: NamespaceStore) -> None:
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

    def cached_name(self, namespace_id: str) -> str | None:
        """The name of a namespace this registry has loaded, by its ID; never reads the store."""
        return next((r.name for r in self._by_name.values() if r.id == namespace_id), None)

    def is_cached(self, name: str) -> bool:
        """Whether this registry has loaded the namespace ``name``; never reads the store."""
        return name in self._by_name

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
        logger.info("namespace %s registered", name, extra={"namespace": name})
        self._by_name[name] = record
        return record

    async def ensure(self, name: str) -> NamespaceRecord:
        """Create the namespace if it does not exist yet (the default one, at start)."""
        existing = await self._store.get_namespace(name)
        if existing is not None:
            return existing
        try:
            return await self.register(name)
        except NamespaceAlreadyExistsError:
            # A replica starting alongside created it first.
            created = await self._store.get_namespace(name)
            assert created is not None
            return created

    async def list_all(self) -> list[NamespaceRecord]:
        return await self._store.list_namespaces()

    @staticmethod
    def search_attribute_types(record: NamespaceRecord) -> dict[str, int]:
        """The namespace's custom search attributes and their types."""
        registered = record.info.get("search_attributes") or {}
        assert isinstance(registered, dict)
        return {str(name): int(kind) for name, kind in registered.items()}

    async def add_search_attributes(self, name: str, wanted: dict[str, int]) -> None:
        """Register attributes; re-adding one with the same type is a no-op, as in Temporal."""
        for kind in wanted.values():
            if kind not in TYPE_NAMES and kind != 0:
                raise InvalidArgumentError(f"Unknown search attribute type: {kind}.")
        record = await self.get(name)
        current = self.search_attribute_types(record)
        _check_per_type_limit(current, wanted)
        for attribute, kind in wanted.items():
            if attribute in BUILT_IN or attribute in SYSTEM_CUSTOM:
                raise InvalidArgumentError(f"Search attribute {attribute} is reserved by system.")
            if attribute in current and current[attribute] != kind:
                raise InvalidArgumentError(f"Search attribute {attribute} already exists with another type.")
        await self._save_search_attributes(record, {**current, **wanted})
        logger.info("namespace %s: search attributes added: %s", name, ", ".join(wanted))

    async def remove_search_attributes(self, name: str, names: list[str]) -> None:
        record = await self.get(name)
        current = self.search_attribute_types(record)
        for attribute in names:
            if attribute not in current:
                raise NotFoundError(f"Search attribute {attribute} doesn't exist.")
            del current[attribute]
        await self._save_search_attributes(record, current)
        logger.info("namespace %s: search attributes removed: %s", name, ", ".join(names))

    async def delete(self, name: str) -> str:
        """Remove a namespace and all its executions; the default one cannot go."""
        if name == "default":
            raise InvalidArgumentError("Unable to delete default namespace.")
        record = await self.get(name)
        await self._store.delete_namespace(record.id)
        logger.info("namespace %s deleted with its executions", name, extra={"namespace": name})
        self._by_name.pop(name, None)
        return name

    async def update_info(self, name: str, changes: dict[str, object]) -> NamespaceRecord:
        record = await self.get(name)
        updated = NamespaceRecord(record.id, record.name, {**record.info, **changes})
        await self._store.update_namespace(updated)
        self._by_name[name] = updated
        return updated

    async def _save_search_attributes(self, record: NamespaceRecord, types: dict[str, int]) -> None:
        updated = NamespaceRecord(record.id, record.name, {**record.info, "search_attributes": types})
        await self._store.update_namespace(updated)
        self._by_name[record.name] = updated
