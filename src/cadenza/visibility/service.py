"""Listing and counting executions for the API, from the store's visibility columns."""

from __future__ import annotations

import json
from dataclasses import dataclass

from temporalio.api.common.v1 import (
    Memo,
    Payload,
    SearchAttributes,
    WorkflowExecution,
    WorkflowType,
)
from temporalio.api.workflow.v1 import WorkflowExecutionInfo

from cadenza.exceptions import InvalidArgumentError
from cadenza.history import events as ev
from cadenza.namespaces import NamespaceRegistry
from cadenza.persistence import Store
from cadenza.persistence.records import ListedExecution, NamespaceRecord
from cadenza.visibility import attributes as attrs
from cadenza.visibility.query import parse

DEFAULT_PAGE_SIZE = 1000


@dataclass(frozen=True)
class Page:
    executions: list[WorkflowExecutionInfo]
    next_page_token: bytes


class Visibility:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def list_page(self, namespace: NamespaceRecord, query: str, page_size: int,
                   token: bytes) -> Page:
        parsed = parse(query)
        if parsed.group_by:
            raise InvalidArgumentError("invalid query: GROUP BY is only allowed when counting")
        limit = page_size or DEFAULT_PAGE_SIZE
        offset = _offset(token)
        rows = await self._store.list_executions(
            namespace.id, parsed, NamespaceRegistry.search_attribute_types(namespace), limit, offset)
        following = json.dumps({"offset": offset + len(rows)}).encode() if len(rows) == limit else b""
        return Page([_info(row) for row in rows], following)

    async def count(self, namespace: NamespaceRecord, query: str) -> tuple[int, list[tuple[Payload, int]]]:
        parsed = parse(query)
        if parsed.order_by:
            raise InvalidArgumentError("invalid query: ORDER BY is not allowed when counting")
        rows = await self._store.count_executions(
            namespace.id, parsed, NamespaceRegistry.search_attribute_types(namespace))
        total = sum(count for _, count in rows)
        groups = []
        if parsed.group_by:
            for status, count in rows:
                name = attrs.STATUS_BY_NUMBER.get(int(status or 0), "Unspecified")
                value = Payload(metadata={"encoding": b"json/plain"}, data=json.dumps(name).encode())
                groups.append((value, count))
        return total, groups


def _offset(token: bytes) -> int:
    if not token:
        return 0
    try:
        return int(json.loads(token)["offset"])
    except (ValueError, KeyError, TypeError) as exc:
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
    info.start_time.CopyFrom(ev.timestamp(row.start_time))
    info.execution_time.CopyFrom(ev.timestamp(row.execution_time or row.start_time))
    if row.close_time:
        info.close_time.CopyFrom(ev.timestamp(row.close_time))
    return info
