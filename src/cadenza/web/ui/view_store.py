"""The seam through which the UI keeps saved views, handed to the UI by the server
(``cadenza.api.saved_view_calls``): read from the store, changed by authorized calls, so the
UI itself imports no storage."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol
from urllib.parse import quote

from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest, DescribeNamespaceResponse

from cadenza.api.saved_view_calls import ViewChange
from cadenza.web.ui.rpc import Rpc


class SavedView(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def query_string(self) -> str: ...
    @property
    def created_at(self) -> float: ...
    @property
    def created_by(self) -> str: ...


class SavedViews(Protocol):
    """Where saved views are kept, by namespace ID; a change raises ``CallFailed`` when its
    caller may not make it, or it cannot be made (a name taken, a view that is not there)."""

    async def saved_views(self, namespace_id: str) -> Sequence[SavedView]: ...

    async def save_view(self, change: ViewChange, client_certificate: bytes | None = None) -> None: ...

    async def delete_view(self, change: ViewChange, client_certificate: bytes | None = None) -> None: ...


async def namespace_id(rpc: Rpc, namespace: str) -> str:
    described = await rpc(
        "DescribeNamespace", DescribeNamespaceRequest(namespace=namespace), DescribeNamespaceResponse
    )
    return described.namespace_info.id


def list_url(namespace: str, query_string: str) -> str:
    base = f"/namespaces/{quote(namespace, safe='')}/workflows"
    return f"{base}?{query_string}" if query_string else base
