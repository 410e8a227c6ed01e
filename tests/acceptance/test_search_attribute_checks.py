"""Search attributes and memos as they enter: refused as Temporal refuses them, typed as it types them.

The expected messages are the real Temporal server's (1.32, SQLite visibility) for
the same requests.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Awaitable
from typing import Any

import pytest
from temporalio.api.command.v1 import (
    Command,
    ContinueAsNewWorkflowExecutionCommandAttributes,
    ModifyWorkflowPropertiesCommandAttributes,
    StartChildWorkflowExecutionCommandAttributes,
    UpsertWorkflowSearchAttributesCommandAttributes,
)
from temporalio.api.common.v1 import (
    Memo,
    Payload,
    SearchAttributes,
    WorkflowExecution,
    WorkflowType,
)
from temporalio.api.enums.v1 import CommandType, EventType, IndexedValueType
from temporalio.api.errordetails.v1 import MultiOperationExecutionFailure
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.api.schedule.v1 import Schedule, ScheduleAction, ScheduleSpec
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.update.v1 import Input as UpdateInput
from temporalio.api.update.v1 import Meta as UpdateMeta
from temporalio.api.update.v1 import Request as UpdateRequest
from temporalio.api.workflow.v1 import NewWorkflowExecutionInfo
from temporalio.api.workflowservice.v1 import (
    CountWorkflowExecutionsRequest,
    CreateScheduleRequest,
    DescribeWorkflowExecutionRequest,
    ExecuteMultiOperationRequest,
    GetWorkflowExecutionHistoryRequest,
    PollWorkflowTaskQueueRequest,
    RespondWorkflowTaskCompletedRequest,
    SignalWithStartWorkflowExecutionRequest,
    StartWorkflowExecutionRequest,
    UpdateWorkflowExecutionRequest,
)
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.common import SearchAttributeKey
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker

from tests.acceptance import workflows_messages as wm
from tests.servers import InProcessServer, in_process

T = IndexedValueType
DEEP_JSON = b"[" * 100_000 + b"]" * 100_000
NAMES = {
    "Kw": T.INDEXED_VALUE_TYPE_KEYWORD,
    "Num": T.INDEXED_VALUE_TYPE_INT,
    "When": T.INDEXED_VALUE_TYPE_DATETIME,
    "Tags": T.INDEXED_VALUE_TYPE_KEYWORD_LIST,
    "Flag": T.INDEXED_VALUE_TYPE_BOOL,
}


def json_payload(value: Any) -> Payload:
    """A value as other SDKs and the CLI send it: JSON, without type metadata."""
    return Payload(metadata={"encoding": b"json/plain"}, data=json.dumps(value).encode())


def raw_payload(data: bytes) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=data)


@pytest.fixture(scope="module")
async def scoped(client: Client) -> Client:
    """A namespace of its own with one custom attribute of several types."""
    from tests.acceptance.test_visibility import fresh_namespace

    namespaced = await fresh_namespace(client)
    await namespaced.operator_service.add_search_attributes(
        AddSearchAttributesRequest(namespace=namespaced.namespace, search_attributes=NAMES)
    )
    return namespaced


def start_request(
    client: Client, attributes: dict[str, Payload], memo: Memo | None = None
) -> StartWorkflowExecutionRequest:
    request = StartWorkflowExecutionRequest(
        namespace=client.namespace,
        workflow_id=f"sa-{uuid.uuid4().hex[:8]}",
        workflow_type=WorkflowType(name="Nobody"),
        task_queue=TaskQueue(name="nobody"),
        request_id=str(uuid.uuid4()),
        search_attributes=SearchAttributes(indexed_fields=attributes),
    )
    if memo is not None:
        request.memo.CopyFrom(memo)
    return request


async def refused(call: Awaitable[Any]) -> str:
    with pytest.raises(RPCError) as caught:
        await call
    assert caught.value.status == RPCStatusCode.INVALID_ARGUMENT, caught.value.message
    return caught.value.message


INVALID = [
    ({"Nope": json_payload("x")}, "Namespace {ns} has no mapping defined for search attribute Nope"),
    ({"Num": json_payload("abc")}, "invalid value for search attribute Num of type Int: abc"),
    ({"Num": json_payload(1.5)}, "invalid value for search attribute Num of type Int: 1.5"),
    (
        {"Num": raw_payload(b"99999999999999999999999")},
        "invalid value for search attribute Num of type Int: 1e+23",
    ),
    ({"Kw": json_payload(5)}, "invalid value for search attribute Kw of type Keyword: 5"),
    ({"Flag": json_payload("true")}, "invalid value for search attribute Flag of type Bool: true"),
    (
        {"When": json_payload("10000-01-01T00:00:00Z")},
        "invalid value for search attribute When of type Datetime: 10000-01-01T00:00:00Z",
    ),
    ({"Tags": json_payload([1, 2])}, "invalid value for search attribute Tags of type KeywordList: [1 2]"),
    (
        {"Kw": raw_payload(b"{not json")},
        "invalid value for search attribute Kw of type Keyword: value from "
        '<metadata:{key:"encoding"  value:"json/plain"}  data:"{not json">',
    ),
    (
        {"Kw": raw_payload(DEEP_JSON)},
        "invalid value for search attribute Kw of type Keyword: value from "
        '<metadata:{key:"encoding"  value:"json/plain"}  data:"[[[[',
    ),
    ({"WorkflowId": json_payload("x")}, "WorkflowId attribute can't be set in SearchAttributes"),
    ({"RootWorkflowId": json_payload("x")}, "RootWorkflowId attribute can't be set in SearchAttributes"),
    ({"Kw": json_payload("x" * 3000)}, "search attribute Kw value size 3002 exceeds size limit 2048"),
    (
        {f"Many{i}": json_payload("x") for i in range(10_000)},
        "Namespace {ns} has no mapping defined for search attribute Many",
    ),
]


@pytest.mark.parametrize(("attributes", "message"), INVALID)
async def test_start_and_signal_with_start_refuse_invalid_search_attributes(
    scoped: Client, attributes: dict[str, Payload], message: str
) -> None:
    expected = message.replace("{ns}", scoped.namespace)
    service = scoped.workflow_service
    assert (await refused(service.start_workflow_execution(start_request(scoped, attributes)))).startswith(
        expected
    )
    signal_with_start = SignalWithStartWorkflowExecutionRequest(
        namespace=scoped.namespace,
        workflow_id=f"sws-{uuid.uuid4().hex[:8]}",
        workflow_type=WorkflowType(name="Nobody"),
        task_queue=TaskQueue(name="nobody"),
        signal_name="go",
        search_attributes=SearchAttributes(indexed_fields=attributes),
    )
    assert (await refused(service.signal_with_start_workflow_execution(signal_with_start))).startswith(
        expected
    )
    assert [w async for w in scoped.list_workflows("WorkflowType = 'Nobody'")] == []


async def test_update_with_start_refuses_invalid_search_attributes(scoped: Client) -> None:
    start = start_request(scoped, {"Num": json_payload("abc")})
    update = UpdateWorkflowExecutionRequest(
        namespace=scoped.namespace,
        workflow_execution=WorkflowExecution(workflow_id=start.workflow_id),
        request=UpdateRequest(meta=UpdateMeta(update_id="u1"), input=UpdateInput(name="u")),
    )
    with pytest.raises(RPCError) as caught:
        await scoped.workflow_service.execute_multi_operation(
            ExecuteMultiOperationRequest(
                namespace=scoped.namespace,
                operations=[
                    ExecuteMultiOperationRequest.Operation(start_workflow=start),
                    ExecuteMultiOperationRequest.Operation(update_workflow=update),
                ],
            )
        )
    assert caught.value.message == "Update-with-Start could not be executed."
    failure = MultiOperationExecutionFailure()
    assert caught.value.grpc_status.details[0].Unpack(failure)
    assert [status.message for status in failure.statuses] == [
        "invalid value for search attribute Num of type Int: abc",
        "Operation was aborted.",
    ]


def schedule_request(client: Client, **fields: Any) -> CreateScheduleRequest:
    action = NewWorkflowExecutionInfo(
        workflow_id="scheduled", workflow_type=WorkflowType(name="W"), task_queue=TaskQueue(name="nobody")
    )
    if "action_attributes" in fields:
        action.search_attributes.CopyFrom(SearchAttributes(indexed_fields=fields.pop("action_attributes")))
    if "action_memo" in fields:
        action.memo.CopyFrom(fields.pop("action_memo"))
    request = CreateScheduleRequest(
        namespace=client.namespace,
        schedule_id=f"sc-{uuid.uuid4().hex[:8]}",
        request_id=str(uuid.uuid4()),
        schedule=Schedule(
            spec=ScheduleSpec(cron_string=["0 0 1 1 *"]), action=ScheduleAction(start_workflow=action)
        ),
    )
    if "attributes" in fields:
        request.search_attributes.CopyFrom(SearchAttributes(indexed_fields=fields.pop("attributes")))
    if "memo" in fields:
        request.memo.CopyFrom(fields.pop("memo"))
    return request


async def test_schedules_refuse_invalid_search_attributes_and_large_memos(scoped: Client) -> None:
    service = scoped.workflow_service
    wrong = {"Num": json_payload("abc")}
    for fields in ({"attributes": wrong}, {"action_attributes": wrong}):
        assert await refused(service.create_schedule(schedule_request(scoped, **fields))) == (
            "invalid value for search attribute Num of type Int: abc"
        )
    for fields in (
        {"attributes": {"Kw": raw_payload(DEEP_JSON)}},
        {"action_attributes": {"Kw": raw_payload(b"{not json")}},
    ):
        assert (await refused(service.create_schedule(schedule_request(scoped, **fields)))).startswith(
            "invalid value for search attribute Kw of type Keyword: value from <"
        )
    big = Memo(fields={"m": json_payload("x" * 3_000_000)})
    assert await refused(service.create_schedule(schedule_request(scoped, memo=big))) == (
        "Memo size exceeds limit."
    )
    assert await refused(service.create_schedule(schedule_request(scoped, action_memo=big))) == (
        "Blob data size exceeds limit."
    )
    assert [s async for s in await scoped.list_schedules()] == []


async def test_add_search_attributes_refuses_unknown_types_and_too_many(scoped: Client) -> None:
    operator = scoped.operator_service

    def add(attributes: dict[str, int]) -> Awaitable[Any]:
        return operator.add_search_attributes(
            AddSearchAttributesRequest(
                namespace=scoped.namespace,
                search_attributes=attributes,  # type: ignore[arg-type]
            )
        )

    assert await refused(add({"Odd": 999})) == "Unknown search attribute type: 999."
    assert await refused(add({"Unset": 0})) == (
        "Unable to create search attributes: cannot have more than 0 search attribute of type Unspecified."
    )
    assert await refused(add({f"K{i}": T.INDEXED_VALUE_TYPE_KEYWORD for i in range(10_000)})) == (
        "Unable to create search attributes: cannot have more than 100 search attribute of type Keyword."
    )


# -- the number of attributes, on a server that allows only two ---------------------------


@pytest.fixture(scope="module")
async def two_attribute_server() -> AsyncIterator[InProcessServer]:
    async with in_process(dynamic_config={"frontend.searchAttributesNumberOfKeysLimit": 2}) as server:
        yield server


@pytest.fixture
async def two_attribute_client(two_attribute_server: InProcessServer) -> Client:
    return await Client.connect(two_attribute_server.address)


async def test_more_search_attributes_than_the_limit_are_refused(two_attribute_client: Client) -> None:
    client = two_attribute_client
    await client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(namespace="default", search_attributes=NAMES)
    )
    given = {"Kw": json_payload("a"), "Num": json_payload(1), "Flag": json_payload(True)}
    assert (
        await refused(client.workflow_service.start_workflow_execution(start_request(client, given)))
        == "number of search attributes 3 exceeds limit 2"
    )
    given.pop("Flag")
    await client.workflow_service.start_workflow_execution(start_request(client, given))


# -- commands, from a worker that sends them as given --------------------------------------


async def complete_first_task(client: Client, command: Command) -> tuple[str, str]:
    """Start a run, answer its first workflow task with ``command``; (run ID, error)."""
    queue = f"raw-{uuid.uuid4().hex[:8]}"
    request = start_request(client, {})
    request.task_queue.name = queue
    await client.workflow_service.start_workflow_execution(request)
    task = await client.workflow_service.poll_workflow_task_queue(
        PollWorkflowTaskQueueRequest(
            namespace=client.namespace, task_queue=TaskQueue(name=queue), identity="raw"
        )
    )
    try:
        await client.workflow_service.respond_workflow_task_completed(
            RespondWorkflowTaskCompletedRequest(
                namespace=client.namespace, identity="raw", task_token=task.task_token, commands=[command]
            )
        )
    except RPCError as error:
        assert error.status == RPCStatusCode.INVALID_ARGUMENT
        return request.workflow_id, error.message
    return request.workflow_id, ""


def upsert(attributes: dict[str, Payload]) -> Command:
    return Command(
        command_type=CommandType.COMMAND_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
        upsert_workflow_search_attributes_command_attributes=(
            UpsertWorkflowSearchAttributesCommandAttributes(
                search_attributes=SearchAttributes(indexed_fields=attributes)
            )
        ),
    )


async def events_after_start(client: Client, workflow_id: str) -> list[int]:
    history = await client.workflow_service.get_workflow_execution_history(
        GetWorkflowExecutionHistoryRequest(
            namespace=client.namespace, execution=WorkflowExecution(workflow_id=workflow_id)
        )
    )
    return [event.event_type for event in history.history.events[3:]]


async def test_commands_with_invalid_search_attributes_fail_the_task(scoped: Client) -> None:
    cases = [
        (
            upsert({}),
            "BadSearchAttributes: IndexedFields is not set on UpsertWorkflowSearchAttributesCommand.",
        ),
        (
            upsert({"Num": json_payload("abc")}),
            "BadSearchAttributes: invalid value for search attribute Num of type Int: abc",
        ),
        (
            upsert({"Kw": raw_payload(DEEP_JSON)}),
            "BadSearchAttributes: invalid value for search attribute Kw of type Keyword: value from <",
        ),
        (
            Command(
                command_type=CommandType.COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION,
                start_child_workflow_execution_command_attributes=(
                    StartChildWorkflowExecutionCommandAttributes(
                        workflow_id="child",
                        workflow_type=WorkflowType(name="W"),
                        task_queue=TaskQueue(name="x"),
                        search_attributes=SearchAttributes(indexed_fields={"Num": json_payload("abc")}),
                    )
                ),
            ),
            "BadSearchAttributes: invalid SearchAttributes on StartChildWorkflowCommand: invalid "
            "value for search attribute Num of type Int: abc. WorkflowId=child WorkflowType=W "
            f"Namespace={scoped.namespace}",
        ),
        (
            Command(
                command_type=CommandType.COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION,
                continue_as_new_workflow_execution_command_attributes=(
                    ContinueAsNewWorkflowExecutionCommandAttributes(
                        workflow_type=WorkflowType(name="W"),
                        task_queue=TaskQueue(name="x"),
                        search_attributes=SearchAttributes(indexed_fields={"Nope": json_payload("x")}),
                    )
                ),
            ),
            "BadSearchAttributes: invalid SearchAttributes on ContinueAsNewWorkflowExecutionCommand: "
            f"Namespace {scoped.namespace} has no mapping defined for search attribute Nope. "
            'WorkflowType=W TaskQueue=name:"x"  kind:TASK_QUEUE_KIND_NORMAL',
        ),
    ]
    for command, message in cases:
        workflow_id, error = await complete_first_task(scoped, command)
        assert error.startswith(message)
        assert (await events_after_start(scoped, workflow_id))[0] == (
            EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
        )
        handle = scoped.get_workflow_handle(workflow_id)
        assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING


async def test_commands_over_a_size_limit_end_the_workflow(scoped: Client) -> None:
    big_memo = Memo(fields={"m": json_payload("x" * 2_100_000)})
    cases = [
        (
            upsert({"Kw": json_payload("x" * 3000)}),
            "BadSearchAttributes: search attribute Kw value size 3002 exceeds size limit 2048",
        ),
        (
            Command(
                command_type=CommandType.COMMAND_TYPE_MODIFY_WORKFLOW_PROPERTIES,
                modify_workflow_properties_command_attributes=(
                    ModifyWorkflowPropertiesCommandAttributes(upserted_memo=big_memo)
                ),
            ),
            "BadModifyWorkflowPropertiesAttributes: ModifyWorkflowPropertiesCommandAttributes "
            "exceeds size limit.",
        ),
        (
            Command(
                command_type=CommandType.COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION,
                start_child_workflow_execution_command_attributes=(
                    StartChildWorkflowExecutionCommandAttributes(
                        workflow_id="child",
                        workflow_type=WorkflowType(name="W"),
                        task_queue=TaskQueue(name="x"),
                        memo=big_memo,
                    )
                ),
            ),
            "BadStartChildExecutionAttributes: StartChildWorkflowExecutionCommandAttributes.Memo "
            "exceeds size limit.",
        ),
        (
            Command(
                command_type=CommandType.COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION,
                continue_as_new_workflow_execution_command_attributes=(
                    ContinueAsNewWorkflowExecutionCommandAttributes(
                        workflow_type=WorkflowType(name="W"), task_queue=TaskQueue(name="x"), memo=big_memo
                    )
                ),
            ),
            "BadContinueAsNewAttributes: ContinueAsNewWorkflowExecutionCommandAttributes. Memo "
            "exceeds size limit.",
        ),
    ]
    for command, message in cases:
        workflow_id, error = await complete_first_task(scoped, command)
        assert error == message
        handle = scoped.get_workflow_handle(workflow_id)
        assert (await handle.describe()).status == WorkflowExecutionStatus.TERMINATED


# -- the type metadata Temporal gives values, read back by the SDK ------------------------


async def test_values_carry_their_type_so_the_sdk_reads_them_typed(scoped: Client, task_queue: str) -> None:
    """Values given without type metadata (as the CLI and other SDKs give them) come back
    typed from describe, listing and upserts; the worker's build shows in BuildIds."""
    given = {
        "Kw": json_payload("red"),
        "Num": json_payload(7),
        "When": json_payload("2030-01-01T00:00:00Z"),
        "Tags": json_payload(["a", "b"]),
    }
    request = start_request(scoped, given)
    request.workflow_type.name = "Mailbox"
    request.task_queue.name = task_queue
    await scoped.workflow_service.start_workflow_execution(request)
    handle = scoped.get_workflow_handle(request.workflow_id)
    async with Worker(scoped, task_queue=task_queue, workflows=wm.WORKFLOWS):
        await handle.signal(wm.Mailbox.finish)
        await handle.result()
    typed = (await handle.describe()).typed_search_attributes
    assert typed[SearchAttributeKey.for_keyword("Kw")] == "red"
    assert typed[SearchAttributeKey.for_int("Num")] == 7
    assert typed[SearchAttributeKey.for_keyword_list("Tags")] == ["a", "b"]
    assert typed[SearchAttributeKey.for_datetime("When")].year == 2030
    builds = typed[SearchAttributeKey.for_keyword_list("BuildIds")]
    assert builds[0] == "unversioned" and builds[1].startswith("unversioned:")
    [listed] = [
        w
        async for w in scoped.list_workflows(
            f"WorkflowId = '{request.workflow_id}' AND BuildIds = 'unversioned'"
        )
    ]
    assert listed.typed_search_attributes == typed
    described = await scoped.workflow_service.describe_workflow_execution(
        DescribeWorkflowExecutionRequest(
            namespace=scoped.namespace, execution=WorkflowExecution(workflow_id=request.workflow_id)
        )
    )
    fields = described.workflow_execution_info.search_attributes.indexed_fields
    assert {name: fields[name].metadata["type"] for name in fields} == {
        "Kw": b"Keyword",
        "Num": b"Int",
        "When": b"Datetime",
        "Tags": b"KeywordList",
        "BuildIds": b"KeywordList",
    }


async def test_count_groups_carry_the_keyword_type(scoped: Client) -> None:
    await scoped.workflow_service.start_workflow_execution(start_request(scoped, {}))
    counted = await scoped.workflow_service.count_workflow_executions(
        CountWorkflowExecutionsRequest(namespace=scoped.namespace, query="GROUP BY ExecutionStatus")
    )
    for group in counted.groups:
        assert group.group_values[0].metadata["type"] == b"Keyword"
    assert counted.groups


async def test_a_one_item_list_stands_for_its_item_and_null_for_no_value(scoped: Client) -> None:
    """As on Temporal, which SDKs' older untyped search attributes rely on."""
    solo = start_request(
        scoped,
        {
            "Kw": json_payload(["solo"]),
            "Num": json_payload([41]),
            "Flag": json_payload(None),
            "When": json_payload([]),
        },
    )
    await scoped.workflow_service.start_workflow_execution(solo)
    found = [w.id async for w in scoped.list_workflows("Kw = 'solo' AND Num = 41 AND Flag IS NULL")]
    assert found == [solo.workflow_id]
    for wrong, message in (
        ({"Kw": json_payload(["a", "b"])}, "Kw of type Keyword: [a b]"),
        ({"When": json_payload("2024-01-01T00:00:00")}, "When of type Datetime: 2024-01-01T00:00:00"),
    ):
        assert (
            await refused(scoped.workflow_service.start_workflow_execution(start_request(scoped, wrong)))
        ).endswith(message)
