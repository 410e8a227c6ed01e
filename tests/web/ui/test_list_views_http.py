"""The workflow list's views over HTTP with real workflows: columns chosen in the query string
(search attributes decoded), sorting by start and close time with paging that lists each run
once, the quick time range written into the filter, and saved views kept on the server, shared,
unique by name, and refused in read-only mode."""

from __future__ import annotations

import csv
import datetime
import html
import io
import re
import uuid
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import httpx
import pytest
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client, WorkflowExecution
from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker

from cadenza.web.ui.workflows import PAGE_SIZE
from tests.servers import in_process
from tests.web.ui import workflows_ui

HTML = {"Accept": "text/html"}
LIST = "/namespaces/default/workflows"
TAGS = SearchAttributeKey.for_keyword_list("ViewTags")
DUE = SearchAttributeKey.for_datetime("ViewDue")
ORDERS = ("StartTime ASC", "StartTime DESC", "CloseTime ASC", "CloseTime DESC")


@pytest.fixture
async def http(base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
async def attributes(sdk_client: Client) -> None:
    await sdk_client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace="default",
            search_attributes={
                "ViewTags": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
                "ViewDue": IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
            },
        )
    )


async def _runs(client: Client, task_queue: str, prefix: str, done: int, running: int) -> list[str]:
    """``done`` completed Greeters, then ``running`` runs nobody works on; their IDs."""
    ids = []
    for index in range(done):
        handle = await client.start_workflow(
            workflows_ui.Greeter.run, {"name": "Ada"}, id=f"{prefix}-done-{index}", task_queue=task_queue
        )
        await handle.result()
        ids.append(handle.id)
    for index in range(running):
        handle = await client.start_workflow(
            "Nobody", id=f"{prefix}-open-{index}", task_queue=f"{task_queue}-nobody"
        )
        ids.append(handle.id)
    return ids


def _listed_ids(page: str) -> list[str]:
    return [html.unescape(found) for found in re.findall(r'<tr data-workflow-id="([^"]+)"', page)]


def _key(run: WorkflowExecution, order: str) -> tuple[float, ...]:
    start = run.start_time.timestamp()
    close = run.close_time.timestamp() if run.close_time else 9e18
    return (close, start) if order.startswith("CloseTime") else (start,)


async def test_chosen_columns_show_fields_and_decoded_search_attributes(
    http: httpx.AsyncClient, sdk_client: Client, attributes: None, task_queue: str
) -> None:
    due = datetime.datetime(2030, 5, 1, 12, 30, tzinfo=datetime.UTC)
    handle = await sdk_client.start_workflow(
        "Nobody",
        id=f"columns-{uuid.uuid4().hex[:8]}",
        task_queue=task_queue,
        search_attributes=TypedSearchAttributes(
            [SearchAttributePair(TAGS, ["gold", "vip"]), SearchAttributePair(DUE, due)]
        ),
    )
    columns = "WorkflowId,TaskQueue,ViewTags,ViewDue,HistoryLength"
    page = await http.get(LIST, params={"id": handle.id, "columns": columns}, headers=HTML)
    assert page.status_code == 200
    headers = re.findall(r'<th scope="col" data-column="([^"]+)"', page.text)
    assert headers == columns.split(",")
    assert f'data-column="TaskQueue">{task_queue}</td>' in page.text
    assert 'data-column="ViewTags">gold, vip</td>' in page.text
    assert 'data-column="ViewDue">2030-05-01 12:30:00 UTC</td>' in page.text
    assert 'value="ViewDue" checked' in page.text and 'value="ExecutionStatus" >' in page.text
    exported = await http.get(
        f"{LIST}.csv", params={"id": handle.id, "columns": "WorkflowId,ViewTags,ViewDue"}
    )
    assert list(csv.reader(io.StringIO(exported.text))) == [
        ["Workflow ID", "ViewTags", "ViewDue"],
        [handle.id, "gold, vip", "2030-05-01 12:30:00 UTC"],
    ]
    clear = f'href="{LIST}?columns={columns.replace(",", "%2C")}">Clear</a>'
    assert clear in html.unescape(page.text)
    default = await http.get(LIST, params={"id": handle.id, "columns": "NoSuchThing"}, headers=HTML)
    headers = re.findall(r'<th scope="col" data-column="([^"]+)"', default.text)
    assert headers == ["ExecutionStatus", "WorkflowId", "RunId", "WorkflowType", "StartTime", "CloseTime"]
    await handle.terminate()


async def test_each_order_pages_through_every_run_once(
    http: httpx.AsyncClient, sdk_client: Client, ui_worker: Worker, task_queue: str
) -> None:
    prefix = f"sort-{uuid.uuid4().hex[:6]}"
    ids = await _runs(sdk_client, task_queue, prefix, done=4, running=3)
    for order in ORDERS:
        listed = [
            run
            async for run in sdk_client.list_workflows(
                f'WorkflowId STARTS_WITH "{prefix}" ORDER BY {order}', page_size=2
            )
        ]
        assert sorted(run.id for run in listed) == sorted(ids), order
        keys = [_key(run, order) for run in listed]
        assert keys == sorted(keys, reverse=order.endswith("DESC")), order
    oldest_first = await http.get(
        LIST, params={"query": f'WorkflowId STARTS_WITH "{prefix}"', "sort": "start-asc"}, headers=HTML
    )
    assert _listed_ids(oldest_first.text) == ids
    newest_first = await http.get(
        LIST, params={"query": f'WorkflowId STARTS_WITH "{prefix}"', "sort": "start-desc"}, headers=HTML
    )
    assert _listed_ids(newest_first.text) == ids[::-1]
    assert 'aria-sort="descending"' in newest_first.text
    typed = await http.get(
        LIST, params={"query": f'WorkflowId STARTS_WITH "{prefix}" order by StartTime'}, headers=HTML
    )
    assert _listed_ids(typed.text) == ids and '<option value="start-asc" selected>' in typed.text
    closed_first = await http.get(
        LIST, params={"query": f'WorkflowId STARTS_WITH "{prefix}"', "sort": "close-asc"}, headers=HTML
    )
    assert _listed_ids(closed_first.text)[:4] == ids[:4]
    for run_id in ids[4:]:
        await sdk_client.get_workflow_handle(run_id).terminate()


async def test_the_list_pages_by_its_next_link_keeping_filter_and_order(
    http: httpx.AsyncClient, sdk_client: Client, task_queue: str
) -> None:
    prefix = f"paged-{uuid.uuid4().hex[:6]}"
    ids = await _runs(sdk_client, task_queue, prefix, done=0, running=PAGE_SIZE + 5)
    params = {"query": f'WorkflowId STARTS_WITH "{prefix}"', "sort": "start-asc"}
    first = await http.get(LIST, params=params, headers=HTML)
    assert _listed_ids(first.text) == ids[:PAGE_SIZE]
    assert re.findall(r'data-status="All">All <strong>(\d+)</strong>', first.text) == [str(len(ids))]
    assert "First page" not in first.text
    following = html.unescape(re.findall(r'<a rel="next" href="([^"]+)">', first.text)[0])
    assert {
        key: values[0] for key, values in parse_qs(urlsplit(following).query).items() if key != "token"
    } == params
    second = await http.get(following, headers=HTML)
    assert _listed_ids(second.text) == ids[PAGE_SIZE:]
    assert 'rel="next"' not in second.text and "First page" in second.text
    for workflow_id in ids:
        await sdk_client.get_workflow_handle(workflow_id).terminate()


async def _refusal(client: Client, query: str) -> RPCError | None:
    try:
        _ = [run async for run in client.list_workflows(query, page_size=1)]
    except RPCError as error:
        return error
    return None


@pytest.mark.differential
async def test_orders_by_time_are_taken_where_temporal_sql_visibility_refuses_every_order(
    sdk_client: Client, temporal_client: Client
) -> None:
    """Temporal's Elasticsearch visibility orders by start or close time; its SQL visibility,
    which the dev server runs, refuses any ORDER BY. Cadenza takes those two, and refuses
    every other order as both refuse it."""
    for query in ("ORDER BY StartTime", "ORDER BY CloseTime DESC"):
        assert await _refusal(sdk_client, query) is None
        refused = await _refusal(temporal_client, query)
        assert refused is not None and "'ORDER BY' clause" in refused.message
    for client in (sdk_client, temporal_client):
        refused = await _refusal(client, "ORDER BY WorkflowType")
        assert refused is not None and refused.status == RPCStatusCode.INVALID_ARGUMENT
        assert "operation is not supported: 'ORDER BY' clause" in refused.message


async def test_a_time_range_is_written_into_the_editable_filter(
    http: httpx.AsyncClient, sdk_client: Client, ui_worker: Worker, task_queue: str
) -> None:
    prefix = f"range-{uuid.uuid4().hex[:6]}"
    ids = await _runs(sdk_client, task_queue, prefix, done=1, running=0)
    query = f'WorkflowId STARTS_WITH "{prefix}"'
    moved = await http.get(LIST, params={"query": query, "time": "CloseTime", "range": "1h"}, headers=HTML)
    assert moved.status_code == 303
    written = parse_qs(urlsplit(moved.headers["location"]).query)["query"][0]
    assert re.fullmatch(rf'{re.escape(query)} AND CloseTime > "\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\dZ"', written)
    page = await http.get(moved.headers["location"], headers=HTML)
    assert _listed_ids(page.text) == ids and f'name="query" value="{written}"' in html.unescape(page.text)
    custom = {"query": written, "time": "StartTime", "range": "custom", "from": "2020-01-01T00:00"}
    moved = await http.get(LIST, params={**custom, "to": "2020-01-02T00:00"}, headers=HTML)
    rewritten = parse_qs(urlsplit(moved.headers["location"]).query)["query"][0]
    assert rewritten == f'{query} AND StartTime BETWEEN "2020-01-01T00:00:00Z" AND "2020-01-02T00:00:00Z"'
    assert _listed_ids((await http.get(moved.headers["location"], headers=HTML)).text) == []
    untouched = await http.get(
        LIST, params={"query": query, "time": "StartTime", "range": "", "from": ""}, headers=HTML
    )
    assert (
        untouched.status_code == 303
        and untouched.headers["location"] == f"{LIST}?{urlencode({'query': query})}"
    )
    backwards = await http.get(LIST, params={**custom, "to": "2019-01-01T00:00"}, headers=HTML)
    assert backwards.status_code == 400 and "ends before it starts" in backwards.text


async def test_saved_views_are_created_listed_opened_and_deleted_once_each(http: httpx.AsyncClient) -> None:
    name = f"Failed/orders? #{uuid.uuid4().hex[:6]}"
    view = "query=WorkflowType+%3D+%22Order%22&status=Failed&columns=WorkflowId,CloseTime&sort=close-desc&token=abc"
    saved = await http.post(
        "/namespaces/default/saved-views", data={"name": name, "view": view, "confirm": "yes"}
    )
    assert saved.status_code == 303
    kept = "query=WorkflowType+%3D+%22Order%22&status=Failed&columns=WorkflowId%2CCloseTime&sort=close-desc"
    assert saved.headers["location"] == f"{LIST}?{kept}"
    page = html.unescape((await http.get(LIST, headers=HTML)).text)
    assert f'<li data-view="{name}">' in page and f'href="{LIST}?{kept}"' in page
    opened = await http.get(saved.headers["location"], headers=HTML)
    assert "aria-current" in html.unescape(opened.text).split(f'data-view="{name}"')[1].split("</li>")[0]

    again = await http.post(
        "/namespaces/default/saved-views", data={"name": name, "view": "status=Running", "confirm": "yes"}
    )
    assert again.status_code == 409 and "already exists" in again.text
    assert f'href="{LIST}?{kept}"' in html.unescape((await http.get(LIST, headers=HTML)).text)

    unconfirmed = await http.post("/namespaces/default/saved-views", data={"name": "x", "view": ""})
    nameless = await http.post("/namespaces/default/saved-views", data={"name": " ", "confirm": "yes"})
    assert (unconfirmed.status_code, nameless.status_code) == (400, 400)
    elsewhere = await http.post("/namespaces/nowhere/saved-views", data={"name": "x", "confirm": "yes"})
    assert elsewhere.status_code == 404

    page = html.unescape((await http.get(LIST, headers=HTML)).text)
    path = page.split(f'<li data-view="{name}">')[1].split('action="')[1].split('"')[0]
    assert path == f"/namespaces/default/saved-views/{quote(name)}/delete"
    assert (await http.post(path, data={"confirm": "yes"})).status_code == 303
    assert f'data-view="{name}"' not in (await http.get(LIST, headers=HTML)).text
    assert (await http.post(path, data={"confirm": "yes"})).status_code == 404


async def test_read_only_mode_shows_saved_views_but_refuses_changing_them() -> None:
    async with in_process(http_port=0, ui_read_only=True) as server:
        assert server.server.addresses is not None
        async with httpx.AsyncClient(base_url=f"http://{server.server.addresses.http}") as http:
            page = await http.get(LIST, headers=HTML)
            assert page.status_code == 200 and "Save view" not in page.text
            refused = await http.post(
                "/namespaces/default/saved-views", data={"name": "x", "view": "", "confirm": "yes"}
            )
            assert refused.status_code == 403
            deleting = await http.post("/namespaces/default/saved-views/x/delete", data={"confirm": "yes"})
            assert deleting.status_code == 403
