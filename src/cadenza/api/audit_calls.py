"""Reading the audit log over HTTP (its API route and its UI page), authorized as an RPC.

The listing runs through the same RPC wrappers as every WorkflowService call,
as the method ``ListAuditRecords`` of ``AUDIT_SERVICE`` with the namespace it
reads: authorization admits it by the same rules and the same credentials (an
``authorization`` header), and its refusals are audited like any other.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from google.rpc import code_pb2, status_pb2

from cadenza.api.http_calls import CallFailed, HttpCallContext, RpcWrapper, called
from cadenza.audit.export import as_json
from cadenza.audit.log import AuditLog
from cadenza.audit.query import filter_from
from cadenza.observability.hooks import Handler
from cadenza.persistence.audit_records import AuditFilter

AUDIT_SERVICE = "cadenza.audit.v1.AuditService"
LIST_AUDIT_RECORDS = "ListAuditRecords"


@dataclass(frozen=True)
class AuditListing:
    """The request the listing is authorized as: ``namespace`` is the one it reads ("" for
    every namespace, which only a cluster-wide role may)."""

    namespace: str
    wanted: AuditFilter


class AuditCalls:
    """Audit listings, each authorized as the call ``ListAuditRecords``."""

    def __init__(self, log: AuditLog, wrap: RpcWrapper) -> None:
        self._log = log
        self._handler: Handler = wrap(AUDIT_SERVICE, LIST_AUDIT_RECORDS, self._list)

    async def _list(self, request: AuditListing, context: Any) -> list[dict[str, Any]]:
        return [as_json(record) for record in await self._log.list(request.wanted)]

    async def list(
        self,
        query: Mapping[str, str],
        metadata: Iterable[tuple[str, str]] | None,
        namespace: str | None = None,
        client_certificate: bytes | None = None,
    ) -> list[dict[str, Any]]:
        """Rows (as JSON objects, newest first) ``query`` asks for, as the caller ``metadata``
        (None: the signed-in browser's, for a page) or the connection's ``client_certificate``
        proves may read them; ``CallFailed`` for a bad query or a refusal."""
        try:
            wanted = filter_from(query, self._log.clock.now(), namespace)
        except ValueError as error:
            raise CallFailed(status_pb2.Status(code=code_pb2.INVALID_ARGUMENT, message=str(error))) from None
        context = HttpCallContext(metadata, client_certificate=client_certificate)
        rows: list[dict[str, Any]] = await called(
            self._handler, AuditListing(wanted.namespace or "", wanted), context
        )
        return rows
