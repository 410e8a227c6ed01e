"""Saving and deleting the web UI's saved views, authorized and audited as RPCs.

A saved view is the UI's own state, with no RPC of Temporal's, but it is shared by everyone
on its namespace: saving or deleting one changes what every user of the namespace sees. So
the changes run through the same RPC wrappers as every WorkflowService call, as the methods
of ``SAVED_VIEW_SERVICE``: authorization admits them by the permission table's rule on the
namespace (a reader, who changes nothing, may not), the audit log records them, and a saved
view names the caller authorization found as its creator.
"""

from __future__ import annotations

from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

import grpc

from cadenza.api.http_calls import HttpCallContext, RpcWrapper, called
from cadenza.auth.principal import current_principal
from cadenza.observability.hooks import Handler
from cadenza.persistence.errors import StorageError
from cadenza.persistence.records import SavedView
from cadenza.persistence.roles import SavedViewStore

SAVED_VIEW_SERVICE = "cadenza.ui.v1.SavedViewService"
SAVE_VIEW = "SaveView"
DELETE_VIEW = "DeleteView"


@dataclass(frozen=True)
class ViewChange:
    """One saved view saved or deleted: ``namespace`` (its name) is what the call is
    authorized on, ``namespace_id`` where the view is kept."""

    namespace: str
    namespace_id: str
    name: str
    query_string: str = ""
    created_at: float = 0.0


class SavedViewCalls:
    """A namespace's saved views: read as they are (the page reading them has described the
    namespace, so its caller may see it), changed only by an authorized call."""

    def __init__(self, store: SavedViewStore, wrap: RpcWrapper) -> None:
        self._store = store
        self._save: Handler = wrap(SAVED_VIEW_SERVICE, SAVE_VIEW, self._saved)
        self._delete: Handler = wrap(SAVED_VIEW_SERVICE, DELETE_VIEW, self._deleted)

    async def saved_views(self, namespace_id: str) -> list[SavedView]:
        return await self._store.saved_views(namespace_id)

    async def save_view(self, change: ViewChange, client_certificate: bytes | None = None) -> None:
        """Save the view as the signed-in browser (or ``client_certificate``); ``CallFailed``
        when refused or when the namespace already has a view of that name."""
        await _called(self._save, change, client_certificate)

    async def delete_view(self, change: ViewChange, client_certificate: bytes | None = None) -> None:
        """Delete the view; ``CallFailed`` when refused or when there is no such view."""
        await _called(self._delete, change, client_certificate)

    async def _saved(self, change: ViewChange, context: Any) -> None:
        principal = current_principal.get()
        creator = "" if principal is None else f"{principal.kind}:{principal.name}"
        saved = await _stored(
            context,
            self._store.save_view(
                change.namespace_id, change.name, change.query_string, change.created_at, creator
            ),
        )
        if not saved:
            await context.abort(
                grpc.StatusCode.ALREADY_EXISTS,
                f"a view named {change.name!r} already exists on namespace {change.namespace}",
            )

    async def _deleted(self, change: ViewChange, context: Any) -> None:
        if not await _stored(context, self._store.delete_view(change.namespace_id, change.name)):
            await context.abort(
                grpc.StatusCode.NOT_FOUND, f"namespace {change.namespace} has no view named {change.name!r}"
            )


async def _stored(context: Any, write: Coroutine[Any, Any, bool]) -> bool:
    try:
        return await write
    except StorageError as error:
        await context.abort(grpc.StatusCode.UNAVAILABLE, f"database unavailable: {error}")
        raise  # abort raises; this keeps the type checker sure


async def _called(handler: Handler, change: ViewChange, client_certificate: bytes | None) -> None:
    await called(handler, change, HttpCallContext(None, client_certificate=client_certificate))
