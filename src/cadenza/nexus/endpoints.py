"""The Nexus endpoint registry: endpoints by ID and by name, with the real server's checks.

An endpoint routes the operations a caller workflow names it in to a target: a namespace and
task queue where handler workers poll (or an external URL, stored but not called). The checks
and messages are Temporal 1.32's, so ``temporal operator nexus endpoint`` fails alike on both.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass

from temporalio.api.nexus.v1 import EndpointSpec

from cadenza.clock import Clock
from cadenza.exceptions import (
    AlreadyExistsError,
    FailedPreconditionError,
    InvalidArgumentError,
    NamespaceNotFoundError,
    NotFoundError,
)
from cadenza.namespaces import NamespaceRegistry
from cadenza.persistence.records import StoredNexusEndpoint
from cadenza.persistence.roles import NexusEndpointStore

NAME_PATTERN = re.compile(r"^[a-zA-Z][a-zA-Z0-9\-]*[a-zA-Z0-9]$")
MAX_NAME_LENGTH = 200
MAX_PAGE_SIZE = 100
"""The real server's defaults (``system.nexusEndpointNameMaxLength``, list page size)."""


@dataclass(frozen=True)
class Endpoint:
    """A stored endpoint with its spec decoded."""

    record: StoredNexusEndpoint
    spec: EndpointSpec

    @property
    def url_prefix(self) -> str:
        return f"/nexus/endpoints/{self.record.endpoint_id}/services"


class NexusEndpoints:
    """Create, read, update, delete and list endpoints, checked as the real server checks them."""

    def __init__(self, store: NexusEndpointStore, namespaces: NamespaceRegistry, clock: Clock) -> None:
        self._store = store
        self._namespaces = namespaces
        self._clock = clock

    async def create(self, spec: EndpointSpec) -> Endpoint:
        await self._check_spec(spec)
        record = StoredNexusEndpoint(
            str(uuid.uuid4()), spec.name, 1, self._clock.now(), None, spec.SerializeToString()
        )
        if not await self._store.create_nexus_endpoint(record):
            raise AlreadyExistsError(
                f"error creating Nexus endpoint. Endpoint with name {spec.name} already registered"
            )
        return Endpoint(record, spec)

    async def get(self, endpoint_id: str) -> Endpoint:
        check_endpoint_id(endpoint_id)
        record = await self._store.get_nexus_endpoint(endpoint_id)
        if record is None:
            raise NotFoundError(f"Nexus endpoint with ID `{endpoint_id}` not found")
        return _decoded(record)

    async def by_name(self, name: str) -> Endpoint | None:
        record = await self._store.get_nexus_endpoint_by_name(name)
        return None if record is None else _decoded(record)

    async def update(self, endpoint_id: str, version: int, spec: EndpointSpec) -> Endpoint:
        check_endpoint_id(endpoint_id)
        await self._check_spec(spec)
        record = StoredNexusEndpoint(
            endpoint_id, spec.name, version + 1, 0.0, self._clock.now(), spec.SerializeToString()
        )
        if await self._store.update_nexus_endpoint(record, version):
            stored = await self._store.get_nexus_endpoint(endpoint_id)
            return _decoded(stored or record)
        current = await self._store.get_nexus_endpoint(endpoint_id)
        if current is None:
            raise NotFoundError(f"error updating Nexus endpoint. endpoint ID {endpoint_id} not found")
        if current.version != version:
            raise FailedPreconditionError(
                f"nexus endpoint version mismatch. received: {version} expected {current.version}"
            )
        raise AlreadyExistsError(
            f"error updating Nexus endpoint. Endpoint with name {spec.name} already registered"
        )

    async def delete(self, endpoint_id: str) -> None:
        check_endpoint_id(endpoint_id)
        if not await self._store.delete_nexus_endpoint(endpoint_id):
            raise NotFoundError(f"error deleting nexus endpoint with ID: {endpoint_id}")

    async def page(self, after_id: str, page_size: int) -> list[Endpoint]:
        """Up to ``page_size`` endpoints (the server's default when 0) after ``after_id``."""
        if page_size < 0:
            raise InvalidArgumentError("page_size is negative")
        limit = min(page_size or MAX_PAGE_SIZE, MAX_PAGE_SIZE)
        return [_decoded(r) for r in await self._store.list_nexus_endpoints(after_id, limit)]

    async def _check_spec(self, spec: EndpointSpec) -> None:
        """The real server's order: a worker target's namespace must exist, then every fault
        of the name and the target is named in one message."""
        worker = spec.target.worker if spec.target.HasField("worker") else None
        if worker is not None and worker.namespace:
            try:
                await self._namespaces.get(worker.namespace)
            except NamespaceNotFoundError as error:
                raise FailedPreconditionError(
                    f"could not verify namespace referenced by target exists: {error}"
                ) from error
        faults = [fault for fault in (name_fault(spec.name), target_fault(spec)) if fault]
        if faults:
            raise InvalidArgumentError(", ".join(faults))


def name_fault(name: str) -> str:
    if not name:
        return "endpoint name not set"
    if len(name) > MAX_NAME_LENGTH:
        return f"endpoint name exceeds length limit of {MAX_NAME_LENGTH}"
    if not NAME_PATTERN.match(name):
        # Quoted as Go's %q quotes it, backslashes doubled.
        return f"endpoint name must match the regex: {json.dumps(NAME_PATTERN.pattern)}"
    return ""


def target_fault(spec: EndpointSpec) -> str:
    variant = spec.target.WhichOneof("variant")
    if variant is None:
        return "empty target variant"
    if variant == "external":
        return "" if spec.target.external.url else "empty target URL"
    worker = spec.target.worker
    if not worker.namespace:
        return "target namespace not set"
    if not worker.task_queue:
        return 'invalid target task queue: "taskQueue is not set"'
    return ""


def check_endpoint_id(endpoint_id: str) -> None:
    if not endpoint_id:
        raise InvalidArgumentError("endpoint ID not set")
    try:
        uuid.UUID(endpoint_id)
    except ValueError as error:
        length = len(endpoint_id)
        reason = "invalid UUID format" if length in (32, 36, 38, 45) else f"invalid UUID length: {length}"
        raise InvalidArgumentError(f'malformed endpoint ID: "{reason}"') from error


def _decoded(record: StoredNexusEndpoint) -> Endpoint:
    return Endpoint(record, EndpointSpec.FromString(record.spec))
