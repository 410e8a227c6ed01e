"""Filters and time bounds at the edges: refused as Temporal refuses them, or answered."""

from __future__ import annotations

import uuid

import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.filter.v1 import StartTimeFilter
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.api.workflowservice.v1 import (
    CountWorkflowExecutionsRequest,
    ListClosedWorkflowExecutionsRequest,
    ListOpenWorkflowExecutionsRequest,
    ListSchedulesRequest,
    ListWorkflowExecutionsRequest,
    ScanWorkflowExecutionsRequest,
)
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

NESTED = "(" * 5000 + "WorkflowId = 'x'" + ")" * 5000


async def _refused(call: object) -> str:
    with pytest.raises(RPCError) as caught:
        await call  # type: ignore[misc]
    assert caught.value.status == RPCStatusCode.INVALID_ARGUMENT, caught.value.message
    return caught.value.message


async def test_deeply_nested_filters_are_invalid_everywhere_a_filter_is_taken(client: Client) -> None:
    service = client.workflow_service
    expected = "invalid query: malformed SQL query: max nesting level reached at position 228"
    for call in (
        service.list_workflow_executions(ListWorkflowExecutionsRequest(namespace="default", query=NESTED)),
        service.scan_workflow_executions(ScanWorkflowExecutionsRequest(namespace="default", query=NESTED)),
        service.count_workflow_executions(CountWorkflowExecutionsRequest(namespace="default", query=NESTED)),
        service.list_schedules(
            ListSchedulesRequest(namespace="default", query="(" * 5000 + "ScheduleId = 'x'" + ")" * 5000)
        ),
    ):
        assert await _refused(call) == expected
    long_chain = " OR ".join(f"WorkflowId = 'x{i}'" for i in range(5000))
    message = await _refused(
        service.count_workflow_executions(
            CountWorkflowExecutionsRequest(namespace="default", query=long_chain)
        )
    )
    assert message == "invalid query: malformed SQL query: max ast depth reached"


async def test_filters_temporal_takes_are_answered(client: Client) -> None:
    """Each of these broke the database layer: numbers past 64 bits, long NOT chains,
    deep alternations of AND and OR, and thousands of values on a KeywordList."""
    service = client.workflow_service
    tags = f"Tags{uuid.uuid4().hex[:8]}"
    await client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace="default", search_attributes={tags: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST}
        )
    )
    alternating = _alternating(60)
    for query in (
        "HistoryLength > 99999999999999999999999",
        "HistoryLength < -99999999999999999999999",
        "HistoryLength > 9223372036854775808",
        "NOT " * 199 + "WorkflowId = 'x'",
        "(NOT " * 99 + "WorkflowId = 'x'" + ")" * 99,
        alternating,
        f"{tags} IN (" + ", ".join(f"'v{i}'" for i in range(5000)) + ")",
        " OR ".join(f"WorkflowId = 'x{i}'" for i in range(995)),
    ):
        await service.count_workflow_executions(
            CountWorkflowExecutionsRequest(namespace="default", query=query)
        )
        await service.list_workflow_executions(
            ListWorkflowExecutionsRequest(namespace="default", query=query, page_size=1)
        )


def _alternating(levels: int) -> str:
    filter_text = "WorkflowId = 'x'"
    for level in range(levels):
        filter_text = f"WorkflowId = 'y{level}' {'AND' if level % 2 else 'OR'} ({filter_text})"
    return filter_text


async def test_and_or_alternating_past_what_the_database_parses_is_invalid(client: Client) -> None:
    message = await _refused(
        client.workflow_service.count_workflow_executions(
            CountWorkflowExecutionsRequest(namespace="default", query=_alternating(150))
        )
    )
    assert "AND and OR nest too deeply" in message


def _window(earliest: Timestamp | None = None, latest: Timestamp | None = None) -> StartTimeFilter:
    window = StartTimeFilter()
    if earliest is not None:
        window.earliest_time.CopyFrom(earliest)
    if latest is not None:
        window.latest_time.CopyFrom(latest)
    return window


async def test_open_and_closed_listings_take_any_time_before_year_10000(client: Client) -> None:
    service = client.workflow_service
    before_year_1 = Timestamp(seconds=-62135596801)
    negative_nanos = Timestamp(seconds=5, nanos=-1)
    for window in (
        _window(earliest=before_year_1),
        _window(latest=before_year_1),
        _window(earliest=negative_nanos),
        _window(latest=Timestamp(nanos=10**9)),
    ):
        await service.list_open_workflow_executions(
            ListOpenWorkflowExecutionsRequest(namespace="default", start_time_filter=window)
        )
        await service.list_closed_workflow_executions(
            ListClosedWorkflowExecutionsRequest(namespace="default", start_time_filter=window)
        )
    year_10000 = Timestamp(seconds=253402300800)
    expected = "invalid query: invalid expression: unable to parse datetime '10000-01-01T00:00:00Z'"
    assert (
        await _refused(
            service.list_open_workflow_executions(
                ListOpenWorkflowExecutionsRequest(
                    namespace="default", start_time_filter=_window(earliest=year_10000)
                )
            )
        )
        == expected
    )
    assert (
        await _refused(
            service.list_closed_workflow_executions(
                ListClosedWorkflowExecutionsRequest(
                    namespace="default", start_time_filter=_window(latest=year_10000)
                )
            )
        )
        == expected
    )
