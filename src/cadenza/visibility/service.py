"""Listing and counting executions for the API, from the store's visibility columns."""

from __future__ import annotations

import json
from dataclasses import dataclass

import orjson
from temporalio.api.common.v1 import (
    Memo,
    Payload,
    SearchAttributes,
    WorkflowExecution,
    WorkflowType,
)
from temporalio.api.workflow.v1 import WorkflowExecutionInfo

from cadenza.exceptions import InvalidArgumentError
from cadenza.history.machine import events as ev
from cadenza.namespaces import NamespaceRegistry
from cadenza.persistence.records import ListCursor, ListedExecution, NamespaceRecord
from cadenza.persistence.roles import VisibilityStore
from cadenza.protoutil import keyword_payload
from cadenza.visibility import attributes as attrs
from cadenza.visibility import filters
from cadenza.visibility.query import Query, parse

# Temporal's default limit.visibilityMaxPageSize: pages are never larger.
MAX_PAGE_SIZE = 1000

PAGE_BYTES = 3 * 1024 * 1024
"""A page ends early past this many bytes, well inside the 4 MB a gRPC answer may have:
runs with memos near the 2 MB limit would otherwise make a whole page unsendable, and
with it every listing of the namespace."""


@dataclass(frozen=True)
class Page:
    executions: list[WorkflowExecutionInfo]
    next_page_token: bytes


class Visibility:
    def __init__(self, store: VisibilityStore) -> None:
        self._store = store

    async def list_page(self, namespace: NamespaceRecord, query: str, page_size: int, token: bytes) -> Page:
        """One page of the runs a list filter matches, in Temporal's listing order."""
        return await self.list_parsed(namespace, parse(query), page_size, token)

    async def list_parsed(
        self, namespace: NamespaceRecord, parsed: Query, page_size: int, token: bytes
    ) -> Page:
        types = NamespaceRegistry.search_attribute_types(namespace)
        checked = filters.check(parsed, types)
        limit = page_size if 0 < page_size <= MAX_PAGE_SIZE else MAX_PAGE_SIZE
        rows = await self._store.list_executions(namespace.id, checked, types, limit, _cursor(token))
        executions = _within_bytes([_info(row) for row in rows])
        more = len(executions) < len(rows) or len(rows) == limit
        following = _token(rows[len(executions) - 1]) if more else b""
        return Page(executions, following)

    async def count(self, namespace: NamespaceRecord, query: str) -> tuple[int, list[tuple[Payload, int]]]:
        types = NamespaceRegistry.search_attribute_types(namespace)
        checked = filters.check(parse(query), types, counting=True)
        rows = await self._store.count_executions(namespace.id, checked, types)
        total = sum(count for _, count in rows)
        groups = []
        if checked.group_by:
            for status, count in rows:
                name = attrs.STATUS_BY_NUMBER.get(int(status or 0), "Unspecified")
                groups.append((keyword_payload(name), count))
        return total, groups


def _within_bytes(executions: list[WorkflowExecutionInfo]) -> list[WorkflowExecutionInfo]:
    """The first executions whose encoded size stays within ``PAGE_BYTES``; at least one,
    since one run alone always fits (its memo and search attributes are limited)."""
    total = 0
    for kept, execution in enumerate(executions):
        total += execution.ByteSize()
        if total > PAGE_BYTES and kept > 0:
            return executions[:kept]
    return executions


def _token(last: ListedExecution) -> bytes:
    return json.dumps([last.close_time, last.start_time, last.run_id]).encode()


def _cursor(token: bytes) -> ListCursor | None:
    if not token:
        return None
    try:
        close_time, start_time, run_id = json.loads(token)
        return ListCursor(None if close_time is None else float(close_time), float(start_time), str(run_id))
    except (ValueError, TypeError) as exc:
        raise InvalidArgumentError("Invalid NextPageToken.") from exc


def _info(row: ListedExecution) -> WorkflowExecutionInfo:
    info = WorkflowExecutionInfo(
        execution=WorkflowExecution(workflow_id=row.workflow_id, run_id=row.run_id),
        type=WorkflowType(name=row.workflow_type),
        status=row.status,  # type: ignore[arg-type]
        history_length=row.history_length,
        task_queue=row.task_queue,
        memo=Memo.FromString(row.memo),
        search_attributes=SearchAttributes.FromString(row.search_attribute_payloads),
    )
    ev.set_timestamp(info.start_time, row.start_time)
    ev.set_timestamp(info.execution_time, row.execution_time or row.start_time)
    if row.close_time:
        ev.set_timestamp(info.close_time, row.close_time)
        info.execution_duration.CopyFrom(ev.between(row.execution_time or row.start_time, row.close_time))
    _fill_system_values(info, _search_values(row.search_attributes))
    return info


def _search_values(text: str) -> dict[str, object]:
    """The row's search attributes as JSON values: read by orjson, many times quicker (a page
    reads up to 1,000), or by json when orjson refuses the text (a NaN). The values used here are
    the IDs and 64-bit counters the server wrote, which both read alike."""
    try:
        values: dict[str, object] = orjson.loads(text or "{}")
    except orjson.JSONDecodeError:
        values = json.loads(text or "{}")
    return values


def _fill_system_values(info: WorkflowExecutionInfo, values: dict[str, object]) -> None:
    """Root, parent and the counters recorded at close, as Temporal's listing shows them."""
    if attrs.ROOT_WORKFLOW_ID in values:
        info.root_execution.workflow_id = str(values[attrs.ROOT_WORKFLOW_ID])
        info.root_execution.run_id = str(values.get(attrs.ROOT_RUN_ID, ""))
    if attrs.PARENT_WORKFLOW_ID in values:
        info.parent_execution.workflow_id = str(values[attrs.PARENT_WORKFLOW_ID])
        info.parent_execution.run_id = str(values.get(attrs.PARENT_RUN_ID, ""))
    size = values.get(attrs.HISTORY_SIZE_BYTES)
    if isinstance(size, int):
        info.history_size_bytes = size
    transitions = values.get(attrs.STATE_TRANSITION_COUNT)
    if isinstance(transitions, int):
        info.state_transition_count = transitions
