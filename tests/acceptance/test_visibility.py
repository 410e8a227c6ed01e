"""Listing and counting workflows with the list-filter language, and custom search attributes."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker

from tests.acceptance import workflows_messages as wm


async def test_list_count_and_filter_by_custom_attributes(client: Client, task_queue: str) -> None:
    suffix = uuid.uuid4().hex[:8]
    color = f"Color{suffix}"
    size = f"Size{suffix}"
    await client.operator_service.add_search_attributes(AddSearchAttributesRequest(
        namespace="default", search_attributes={
            color: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
            size: IndexedValueType.INDEXED_VALUE_TYPE_INT,
        }))
    listed = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace="default"))
    assert color in listed.custom_attributes
    color_key = SearchAttributeKey.for_keyword(color)
    size_key = SearchAttributeKey.for_int(size)
    async with Worker(client, task_queue=task_queue, workflows=wm.WORKFLOWS):
        handles = []
        for i, shade in enumerate(["red", "red", "blue"]):
            handles.append(await client.start_workflow(
                wm.Mailbox.run, id=f"vis-{suffix}-{i}", task_queue=task_queue,
                search_attributes=TypedSearchAttributes([SearchAttributePair(color_key, shade),
                                                         SearchAttributePair(size_key, i)]),
                execution_timeout=timedelta(seconds=60)))
        await handles[0].signal(wm.Mailbox.finish)
        await handles[0].result()

        red = [w.id async for w in client.list_workflows(f"{color} = 'red'")]
        assert sorted(red) == [f"vis-{suffix}-0", f"vis-{suffix}-1"]
        big = [w.id async for w in client.list_workflows(f"{size} >= 1 AND {color} IN ('red', 'blue')")]
        assert sorted(big) == [f"vis-{suffix}-1", f"vis-{suffix}-2"]
        newest = [w.id async for w in client.list_workflows(f"WorkflowId STARTS_WITH 'vis-{suffix}-'")]
        assert newest == [f"vis-{suffix}-2", f"vis-{suffix}-1", f"vis-{suffix}-0"]
        assert (await client.count_workflows(f"{color} = 'red'")).count == 2
        grouped = await client.count_workflows(f"TaskQueue = '{task_queue}' GROUP BY ExecutionStatus")
        by_status = {g.group_values[0]: g.count for g in grouped.groups}
        assert by_status == {"Running": 2, "Completed": 1}
        closed = [w async for w in client.list_workflows(
            f"WorkflowId = 'vis-{suffix}-0' AND CloseTime IS NOT NULL")]
        assert [w.status for w in closed] == [WorkflowExecutionStatus.COMPLETED]
        for handle in handles[1:]:
            await handle.terminate(reason="test over")


async def test_malformed_or_unknown_filters_are_invalid(client: Client) -> None:
    for query in ("WorkflowType = ", "NoSuchAttribute = 'x'", "ExecutionStatus = 'Sleeping'"):
        with pytest.raises(RPCError) as raised:
            _ = [w async for w in client.list_workflows(query)]
        assert raised.value.status == RPCStatusCode.INVALID_ARGUMENT
