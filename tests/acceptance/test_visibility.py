"""Listing and counting workflows with the list-filter language, and custom search attributes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.enums.v1 import WorkflowExecutionStatus as EnumStatus
from temporalio.api.filter.v1 import (
    StartTimeFilter,
    StatusFilter,
    WorkflowExecutionFilter,
    WorkflowTypeFilter,
)
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.api.workflowservice.v1 import (
    ListClosedWorkflowExecutionsRequest,
    ListOpenWorkflowExecutionsRequest,
    ListWorkflowExecutionsRequest,
    RegisterNamespaceRequest,
)
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker

from tests.acceptance import workflows_messages as wm


async def test_list_count_and_filter_by_custom_attributes(client: Client, task_queue: str) -> None:
    suffix = uuid.uuid4().hex[:8]
    color = f"Color{suffix}"
    size = f"Size{suffix}"
    await client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace="default",
            search_attributes={
                color: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
                size: IndexedValueType.INDEXED_VALUE_TYPE_INT,
            },
        )
    )
    listed = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace="default")
    )
    assert color in listed.custom_attributes
    color_key = SearchAttributeKey.for_keyword(color)
    size_key = SearchAttributeKey.for_int(size)
    async with Worker(client, task_queue=task_queue, workflows=wm.WORKFLOWS):
        handles = []
        for i, shade in enumerate(["red", "red", "blue"]):
            handles.append(
                await client.start_workflow(
                    wm.Mailbox.run,
                    id=f"vis-{suffix}-{i}",
                    task_queue=task_queue,
                    search_attributes=TypedSearchAttributes(
                        [SearchAttributePair(color_key, shade), SearchAttributePair(size_key, i)]
                    ),
                    execution_timeout=timedelta(seconds=60),
                )
            )
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
        closed = [
            w async for w in client.list_workflows(f"WorkflowId = 'vis-{suffix}-0' AND CloseTime IS NOT NULL")
        ]
        assert [w.status for w in closed] == [WorkflowExecutionStatus.COMPLETED]
        for handle in handles[1:]:
            await handle.terminate(reason="test over")


async def test_malformed_or_unknown_filters_are_invalid(client: Client) -> None:
    for query in ("WorkflowType = ", "NoSuchAttribute = 'x'", "ExecutionStatus = 'Sleeping'"):
        with pytest.raises(RPCError) as raised:
            _ = [w async for w in client.list_workflows(query)]
        assert raised.value.status == RPCStatusCode.INVALID_ARGUMENT


async def fresh_namespace(client: Client) -> Client:
    """A client on a namespace of its own, so listings see only this test's runs."""
    name = f"vis-{uuid.uuid4().hex[:8]}"
    await client.workflow_service.register_namespace(
        RegisterNamespaceRequest(namespace=name, workflow_execution_retention_period=Duration(seconds=86400))
    )
    return await Client.connect(client.service_client.config.target_host, namespace=name)


KEYS: dict[str, SearchAttributeKey[Any]] = {
    "Kw": SearchAttributeKey.for_keyword("Kw"),
    "Txt": SearchAttributeKey.for_text("Txt"),
    "Num": SearchAttributeKey.for_int("Num"),
    "Dbl": SearchAttributeKey.for_float("Dbl"),
    "Flag": SearchAttributeKey.for_bool("Flag"),
    "When": SearchAttributeKey.for_datetime("When"),
    "Tags": SearchAttributeKey.for_keyword_list("Tags"),
}
T = IndexedValueType
DAY0 = datetime(2030, 1, 1, tzinfo=UTC)
PROBES: dict[str, dict[str, object]] = {
    "p0": {
        "Kw": "red",
        "Txt": "the quick brown fox",
        "Num": 1,
        "Dbl": 1.5,
        "Flag": True,
        "When": DAY0,
        "Tags": ["a", "b"],
    },
    "p1": {
        "Kw": "blue",
        "Txt": "lazy dog sleeps",
        "Num": 5,
        "Dbl": 2.25,
        "Flag": False,
        "When": DAY0 + timedelta(days=1),
        "Tags": ["b", "c"],
    },
    "p2": {
        "Kw": "red-ish",
        "Txt": "Quick foxes",
        "Num": -3,
        "Dbl": -0.5,
        "Flag": True,
        "When": DAY0 + timedelta(days=2),
        "Tags": ["c"],
    },
    "p3": {},  # closed, and without any custom attribute
}


@pytest.fixture(scope="module")
async def probes(client: Client) -> Client:
    """Four runs with a value of every search attribute type (p3 has none and is closed)."""
    scoped = await fresh_namespace(client)
    await scoped.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=scoped.namespace,
            search_attributes={
                "Kw": T.INDEXED_VALUE_TYPE_KEYWORD,
                "Txt": T.INDEXED_VALUE_TYPE_TEXT,
                "Num": T.INDEXED_VALUE_TYPE_INT,
                "Dbl": T.INDEXED_VALUE_TYPE_DOUBLE,
                "Flag": T.INDEXED_VALUE_TYPE_BOOL,
                "When": T.INDEXED_VALUE_TYPE_DATETIME,
                "Tags": T.INDEXED_VALUE_TYPE_KEYWORD_LIST,
            },
        )
    )
    for workflow_id, values in PROBES.items():
        pairs = [SearchAttributePair(KEYS[name], value) for name, value in values.items()]
        await scoped.start_workflow(
            "Probe", id=workflow_id, task_queue="probe-q", search_attributes=TypedSearchAttributes(pairs)
        )
    await scoped.get_workflow_handle("p3").terminate(reason="closed for the test")
    return scoped


# Expected answers checked against the real Temporal server (SQLite visibility), newest
# first: open runs (p2, p1, p0) before closed ones (p3).
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Kw = 'red'", ["p0"]),
        ("Kw != 'red'", ["p2", "p1"]),
        ("Kw > 'blue'", ["p2", "p0"]),
        ("Kw IN ('red', 'blue')", ["p1", "p0"]),
        ("Kw NOT IN ('red')", ["p2", "p1"]),
        ("Kw STARTS_WITH 'red'", ["p2", "p0"]),
        ("Kw BETWEEN 'b' AND 'r'", ["p1"]),
        ("Kw IS NULL", ["p3"]),
        ("Kw IS NOT NULL", ["p2", "p1", "p0"]),
        ("Txt = 'quick'", ["p2", "p0"]),
        ("Txt = 'QUICK'", ["p2", "p0"]),
        ("Txt = 'fox'", ["p0"]),
        ("Txt = 'qui'", []),
        ("Txt = 'quick fox'", ["p2", "p0"]),
        ("Txt = 'brown-fox'", ["p0"]),
        ("Txt != 'quick'", ["p1", "p3"]),
        ("NOT Txt = 'quick'", ["p1", "p3"]),
        ("Num = 5", ["p1"]),
        ("Num > 1", ["p1"]),
        ("Num >= 1", ["p1", "p0"]),
        ("Num < 1", ["p2"]),
        ("Num <= 1", ["p2", "p0"]),
        ("Num BETWEEN -3 AND 1", ["p2", "p0"]),
        ("Num NOT BETWEEN -3 AND 1", ["p1"]),
        ("Num IN (1, 5)", ["p1", "p0"]),
        ("Num = 1.5", []),
        ("Dbl > 1", ["p1", "p0"]),
        ("Dbl = 2.25", ["p1"]),
        ("Dbl IN (1.5, -0.5)", ["p2", "p0"]),
        ("Flag = true", ["p2", "p0"]),
        ("Flag != true", ["p1"]),
        ("Flag = false", ["p1"]),
        ("When > '2030-01-01T12:00:00Z'", ["p2", "p1"]),
        ("When <= '2030-01-02T00:00:00Z'", ["p1", "p0"]),
        ("When BETWEEN '2030-01-01T12:00:00Z' AND '2030-01-02T12:00:00+00:00'", ["p1"]),
        ("Tags = 'b'", ["p1", "p0"]),
        ("Tags != 'b'", ["p2", "p3"]),
        ("NOT Tags = 'b'", ["p2", "p3"]),
        ("Tags IN ('a', 'c')", ["p2", "p1", "p0"]),
        ("Tags NOT IN ('a')", ["p2", "p1", "p3"]),
        ("Tags IS NULL", ["p3"]),
        ("ExecutionStatus = 'Running' AND (Num = 1 OR Num = 5)", ["p1", "p0"]),
        ("ExecutionStatus = 'Terminated'", ["p3"]),
        ("ExecutionStatus != 'Running'", ["p3"]),
        ("CloseTime IS NULL", ["p2", "p1", "p0"]),
        ("CloseTime IS NOT NULL", ["p3"]),
        ("WorkflowId = 'p0' OR WorkflowId = 'p1' AND Kw = 'blue'", ["p1", "p0"]),
        (
            "WorkflowType = 'Probe' AND TaskQueue = 'probe-q' AND ExecutionStatus = 'Running'",
            ["p2", "p1", "p0"],
        ),
        ('`Kw` = "red"', ["p0"]),
        ("", ["p2", "p1", "p0", "p3"]),
    ],
)
async def test_each_operator_on_each_attribute_type(probes: Client, query: str, expected: list[str]) -> None:
    assert [w.id async for w in probes.list_workflows(query)] == expected


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ("Kw = 'x' ORDER BY Kw DESC", "'ORDER BY' clause takes one of StartTime, CloseTime"),
        ("Kw = 'x' LIMIT 1", "'LIMIT' clause"),
        ("Txt STARTS_WITH 'the'", "operator 'STARTS_WITH' not supported for Text"),
        ("Tags > 'a'", "operator '>' not supported for KeywordList"),
        ("Num = '5'", "search attribute Num of type Int"),
        ("Flag = 'true'", "search attribute Flag of type Bool"),
        ("When < '2030-01-02'", "unable to parse datetime"),
        ("Nope = 'x'", "invalid search attribute: Nope"),
        ("(Kw = 'red'", "expected ')'"),
    ],
)
async def test_filters_that_do_not_fit_are_invalid_arguments_naming_the_problem(
    probes: Client,
    query: str,
    problem: str,
) -> None:
    with pytest.raises(RPCError) as raised:
        _ = [w async for w in probes.list_workflows(query)]
    assert raised.value.status == RPCStatusCode.INVALID_ARGUMENT
    assert problem in raised.value.message


async def test_counting_groups_only_by_status(probes: Client) -> None:
    grouped = await probes.count_workflows("GROUP BY ExecutionStatus")
    assert sorted((g.group_values[0], g.count) for g in grouped.groups) == [("Running", 3), ("Terminated", 1)]
    assert (await probes.count_workflows("Txt = 'fox'")).count == 1
    with pytest.raises(RPCError, match="not supported for search attribute WorkflowType"):
        await probes.count_workflows("GROUP BY WorkflowType")


async def test_list_open_and_closed_executions_through_the_raw_service(client: Client) -> None:
    scoped = await fresh_namespace(client)
    service, ns = scoped.workflow_service, scoped.namespace
    async with Worker(scoped, task_queue="oc-q", workflows=wm.WORKFLOWS):
        before = Timestamp()
        before.GetCurrentTime()
        boxes = [
            await scoped.start_workflow(wm.Mailbox.run, id=f"box{i}", task_queue="oc-q") for i in range(4)
        ]
        await scoped.execute_workflow(wm.Countdown.run, 0, id="count0", task_queue="oc-q")
        await boxes[0].signal(wm.Mailbox.finish)
        await boxes[0].result()
        await boxes[1].terminate(reason="over")
        after = Timestamp()
        after.GetCurrentTime()

        async def open_ids(**fields: Any) -> list[str]:
            response = await service.list_open_workflow_executions(
                ListOpenWorkflowExecutionsRequest(namespace=ns, **fields)
            )
            return [e.execution.workflow_id for e in response.executions]

        async def closed_ids(**fields: Any) -> list[str]:
            response = await service.list_closed_workflow_executions(
                ListClosedWorkflowExecutionsRequest(namespace=ns, **fields)
            )
            return [e.execution.workflow_id for e in response.executions]

        assert await open_ids() == ["box3", "box2"]
        assert await open_ids(type_filter=WorkflowTypeFilter(name="Countdown")) == []
        assert await open_ids(execution_filter=WorkflowExecutionFilter(workflow_id="box2")) == ["box2"]
        assert await open_ids(start_time_filter=StartTimeFilter(earliest_time=after)) == []
        assert await open_ids(start_time_filter=StartTimeFilter(latest_time=after)) == ["box3", "box2"]
        # Closed: newest close first; the time filter is on close time.
        assert await closed_ids() == ["box1", "box0", "count0"]
        assert await closed_ids(type_filter=WorkflowTypeFilter(name="Countdown")) == ["count0"]
        assert await closed_ids(
            status_filter=StatusFilter(status=EnumStatus.WORKFLOW_EXECUTION_STATUS_TERMINATED)
        ) == ["box1"]
        assert await closed_ids(
            start_time_filter=StartTimeFilter(earliest_time=before, latest_time=after)
        ) == ["box1", "box0", "count0"]
        assert await closed_ids(start_time_filter=StartTimeFilter(earliest_time=after)) == []

        pages: list[list[str]] = []
        token = b""
        while True:
            page = await service.list_closed_workflow_executions(
                ListClosedWorkflowExecutionsRequest(namespace=ns, maximum_page_size=2, next_page_token=token)
            )
            pages.append([e.execution.workflow_id for e in page.executions])
            token = page.next_page_token
            if not token:
                break
        assert pages == [["box1", "box0"], ["count0"]]

        for bad in (
            ListClosedWorkflowExecutionsRequest(
                namespace=ns, status_filter=StatusFilter(status=EnumStatus.WORKFLOW_EXECUTION_STATUS_RUNNING)
            ),
            ListClosedWorkflowExecutionsRequest(
                namespace=ns, start_time_filter=StartTimeFilter(earliest_time=after, latest_time=before)
            ),
        ):
            with pytest.raises(RPCError) as raised:
                await service.list_closed_workflow_executions(bad)
            assert raised.value.status == RPCStatusCode.INVALID_ARGUMENT
        for handle in boxes[2:]:
            await handle.terminate(reason="test over")


async def test_runs_with_large_memos_are_listed_over_several_pages(client: Client, task_queue: str) -> None:
    """Three memos near the blob limit would make one page past gRPC's 4 MB: it ends early."""
    memo = {"blob": "m" * 1_500_000}
    started = [
        await client.start_workflow(
            "NeverPolled", id=f"big-memo-{uuid.uuid4().hex[:8]}", task_queue=task_queue, memo=memo
        )
        for _ in range(3)
    ]
    query = f"TaskQueue = '{task_queue}'"
    first = await client.workflow_service.list_workflow_executions(
        ListWorkflowExecutionsRequest(namespace="default", query=query, page_size=10)
    )
    assert 0 < len(first.executions) < 3 and first.next_page_token
    listed = [w async for w in client.list_workflows(query)]
    assert sorted(w.id for w in listed) == sorted(h.id for h in started)
    for listed_run in listed:
        assert await listed_run.memo_value("blob") == memo["blob"]
