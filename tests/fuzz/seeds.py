"""Real data on the server under fuzzing.

Witnesses are workflows and a schedule the fuzzer is never told about: whatever it sends,
they must stay as they were and stay listable. Targets are workflows, task tokens and a
schedule it is told about, so its requests reach the code behind the lookups; they may
change, as the requests ask.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import grpc
from temporalio.api.command.v1 import Command
from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import CommandType, IndexedValueType, WorkflowExecutionStatus
from temporalio.api.operatorservice.v1 import request_response_pb2 as opv1
from temporalio.api.operatorservice.v1.service_pb2_grpc import OperatorServiceStub
from temporalio.api.schedule.v1 import message_pb2 as schedule_pb2
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv1
from temporalio.api.workflowservice.v1.service_pb2_grpc import WorkflowServiceStub

from tests.fuzz.strategies import Known, Made, fresh

NAMESPACE = "default"
SPARE_NAMESPACE = "fuzz-spare"
"""Where calls that change or delete a namespace itself are aimed, so ``default`` stays."""
WITNESS_QUEUE = "fuzz-witness-queue"
WITNESS_SCHEDULE = "fuzz-witness-schedule"
WITNESS_TYPE = "FuzzWitness"
WITNESSES = 3
SEARCH_ATTRIBUTES = {
    "FuzzKeyword": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    "FuzzInt": IndexedValueType.INDEXED_VALUE_TYPE_INT,
    "FuzzDatetime": IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
}
TIMEOUT = 10.0
WORKFLOW_TASK_TIMEOUT = 60
"""Long enough that a task opened for a request is still open when the request is sent."""


def _json(text: str, kind: bytes = b"") -> Payload:
    payload = Payload(data=f'"{text}"'.encode())
    payload.metadata["encoding"] = b"json/plain"
    if kind:
        payload.metadata["type"] = kind
    return payload


def _start_request(workflow_id: str, workflow_type: str, queue: str) -> wsv1.StartWorkflowExecutionRequest:
    request = wsv1.StartWorkflowExecutionRequest(
        namespace=NAMESPACE,
        workflow_id=workflow_id,
        task_queue=TaskQueue(name=queue),
        identity="fuzz-seed",
        request_id=str(uuid.uuid4()),
    )
    request.workflow_type.name = workflow_type
    request.workflow_task_timeout.FromSeconds(WORKFLOW_TASK_TIMEOUT)
    request.memo.fields["note"].CopyFrom(_json("kept"))
    request.search_attributes.indexed_fields["FuzzKeyword"].CopyFrom(_json("seed", b"Keyword"))
    return request


def _schedule(workflow_id: str, workflow_type: str, queue: str) -> schedule_pb2.Schedule:
    schedule = schedule_pb2.Schedule()
    schedule.spec.interval.add().interval.FromSeconds(3600)
    start = schedule.action.start_workflow
    start.workflow_id, start.task_queue.name, start.workflow_type.name = workflow_id, queue, workflow_type
    schedule.state.paused = True
    schedule.state.notes = "kept"
    return schedule


@dataclass
class Witnesses:
    """What the witnesses looked like when seeded."""

    histories: dict[str, bytes] = field(default_factory=dict)
    schedule: bytes = b""


class Seeder:
    """Seeds one server through its gRPC API, and checks the witnesses afterwards."""

    def __init__(self, channel: grpc.Channel) -> None:
        self._workflows = WorkflowServiceStub(channel)
        self._operator = OperatorServiceStub(channel)
        self._numbers = itertools.count()

    def prepare(self) -> Witnesses:
        self._operator.AddSearchAttributes(
            opv1.AddSearchAttributesRequest(namespace=NAMESPACE, search_attributes=SEARCH_ATTRIBUTES),
            timeout=TIMEOUT,
        )
        self.ensure_spare_namespace()
        witnesses = Witnesses()
        for index in range(WITNESSES):
            workflow_id = f"fuzz-witness-{index}"
            self._workflows.StartWorkflowExecution(
                _start_request(workflow_id, WITNESS_TYPE, WITNESS_QUEUE), timeout=TIMEOUT
            )
            witnesses.histories[workflow_id] = self._history(workflow_id)
        self._workflows.CreateSchedule(
            wsv1.CreateScheduleRequest(
                namespace=NAMESPACE,
                schedule_id=WITNESS_SCHEDULE,
                request_id=str(uuid.uuid4()),
                schedule=_schedule("fuzz-witness-scheduled", WITNESS_TYPE, WITNESS_QUEUE),
            ),
            timeout=TIMEOUT,
        )
        witnesses.schedule = self._schedule_of(WITNESS_SCHEDULE)
        return witnesses

    def ensure_spare_namespace(self) -> None:
        request = wsv1.RegisterNamespaceRequest(namespace=SPARE_NAMESPACE)
        request.workflow_execution_retention_period.FromSeconds(86400)
        try:
            self._workflows.RegisterNamespace(request, timeout=TIMEOUT)
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.ALREADY_EXISTS:
                raise

    def targets(self, batch: str) -> Known:
        """Fresh workflows (one with its workflow task started, one with an activity
        started), a schedule, and the tokens to answer them, all named after ``batch``."""
        queue, activity_queue = f"fuzz-q-{batch}", f"fuzz-aq-{batch}"
        run_ids = []
        workflow_ids = [f"fuzz-target-{batch}-{index}" for index in range(2)]
        for workflow_id in workflow_ids:
            response = self._workflows.StartWorkflowExecution(
                _start_request(workflow_id, "FuzzTarget", queue), timeout=TIMEOUT
            )
            run_ids.append(response.run_id)
        workflow_tokens = [self._poll_workflow_task(queue) for _ in workflow_ids]
        self._schedule_activity(workflow_tokens[1], activity_queue)
        activity = self._workflows.PollActivityTaskQueue(
            wsv1.PollActivityTaskQueueRequest(
                namespace=NAMESPACE, task_queue=TaskQueue(name=activity_queue), identity="fuzz-seed"
            ),
            timeout=TIMEOUT,
        )
        schedule_id = f"fuzz-schedule-{batch}"
        self._workflows.CreateSchedule(
            wsv1.CreateScheduleRequest(
                namespace=NAMESPACE,
                schedule_id=schedule_id,
                request_id=str(uuid.uuid4()),
                schedule=_schedule(f"fuzz-scheduled-{batch}", "FuzzTarget", queue),
            ),
            timeout=TIMEOUT,
        )
        return Known(
            {
                "namespace": [NAMESPACE],
                "workflow_id": [*workflow_ids, fresh(f"fuzz-new-{batch}")],
                "run_id": ["", *run_ids],
                "first_execution_run_id": ["", run_ids[0]],
                "task_token": [Made(self.open_workflow_task), workflow_tokens[0], activity.task_token],
                "schedule_id": [schedule_id, fresh(f"fuzz-new-schedule-{batch}")],
                "activity_id": ["fuzz-activity"],
                "TaskQueue.name": [queue, activity_queue],
                "WorkflowType.name": ["FuzzTarget"],
                "ActivityType.name": ["FuzzActivity"],
                "identity": ["fuzz"],
                "request_id": [f"fuzz-request-{batch}"],
                "signal_name": ["fuzz-signal"],
                "WorkflowQuery.query_type": ["fuzz-query"],
                "update_id": ["fuzz-update"],
                "Input.name": ["fuzz-update"],
                "query": ["", "WorkflowType = 'FuzzTarget'"],
            }
        )

    def open_workflow_task(self) -> bytes:
        """The token of a workflow task just started, on a workflow of its own."""
        number = next(self._numbers)
        queue = f"fuzz-open-q-{number}"
        self._workflows.StartWorkflowExecution(
            _start_request(f"fuzz-open-{number}", "FuzzTarget", queue), timeout=TIMEOUT
        )
        return self._poll_workflow_task(queue)

    def open_activity(self) -> tuple[str, bytes]:
        """The workflow ID and task token of an activity (``fuzz-activity``) just started,
        on a workflow of its own."""
        number = next(self._numbers)
        queue, activity_queue = f"fuzz-open-q-{number}", f"fuzz-open-aq-{number}"
        workflow_id = f"fuzz-open-{number}"
        self._workflows.StartWorkflowExecution(
            _start_request(workflow_id, "FuzzTarget", queue), timeout=TIMEOUT
        )
        self._schedule_activity(self._poll_workflow_task(queue), activity_queue)
        activity = self._workflows.PollActivityTaskQueue(
            wsv1.PollActivityTaskQueueRequest(
                namespace=NAMESPACE, task_queue=TaskQueue(name=activity_queue), identity="fuzz-seed"
            ),
            timeout=TIMEOUT,
        )
        return workflow_id, bytes(activity.task_token)

    def _poll_workflow_task(self, queue: str) -> bytes:
        response = self._workflows.PollWorkflowTaskQueue(
            wsv1.PollWorkflowTaskQueueRequest(
                namespace=NAMESPACE, task_queue=TaskQueue(name=queue), identity="fuzz-seed"
            ),
            timeout=TIMEOUT,
        )
        assert response.task_token, f"no workflow task on {queue}"
        return bytes(response.task_token)

    def _schedule_activity(self, token: bytes, queue: str) -> None:
        command = Command(command_type=CommandType.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK)
        attributes = command.schedule_activity_task_command_attributes
        attributes.activity_id, attributes.activity_type.name = "fuzz-activity", "FuzzActivity"
        attributes.task_queue.name = queue
        attributes.start_to_close_timeout.FromSeconds(3600)
        self._workflows.RespondWorkflowTaskCompleted(
            wsv1.RespondWorkflowTaskCompletedRequest(
                namespace=NAMESPACE, task_token=token, commands=[command], identity="fuzz-seed"
            ),
            timeout=TIMEOUT,
        )

    def _history(self, workflow_id: str) -> bytes:
        request = wsv1.GetWorkflowExecutionHistoryRequest(namespace=NAMESPACE)
        request.execution.workflow_id = workflow_id
        return bytes(
            self._workflows.GetWorkflowExecutionHistory(request, timeout=TIMEOUT).history.SerializeToString(
                deterministic=True
            )
        )

    def _schedule_of(self, schedule_id: str) -> bytes:
        response = self._workflows.DescribeSchedule(
            wsv1.DescribeScheduleRequest(namespace=NAMESPACE, schedule_id=schedule_id), timeout=TIMEOUT
        )
        return bytes(response.schedule.SerializeToString(deterministic=True))

    def check(self, witnesses: Witnesses) -> list[str]:
        """What differs from the seeded witnesses, or cannot be read or listed."""
        problems: list[str] = []
        checks: list[tuple[str, Callable[[], list[str]]]] = [
            ("describe", lambda: self._check_described(witnesses)),
            ("history", lambda: self._check_histories(witnesses)),
            ("list", lambda: self._check_listed(witnesses)),
            ("schedules", lambda: self._check_schedule(witnesses)),
        ]
        for description, check in checks:
            try:
                problems += check()
            except grpc.RpcError as error:
                problems.append(f"{description}: {error.code().name} {error.details()}")
        return problems

    def _check_described(self, witnesses: Witnesses) -> list[str]:
        problems = []
        for workflow_id in witnesses.histories:
            request = wsv1.DescribeWorkflowExecutionRequest(namespace=NAMESPACE)
            request.execution.workflow_id = workflow_id
            info = self._workflows.DescribeWorkflowExecution(request, timeout=TIMEOUT).workflow_execution_info
            if info.status != WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING:
                problems.append(f"{workflow_id} is {WorkflowExecutionStatus.Name(info.status)}")
            if info.memo.fields["note"].data != b'"kept"':
                problems.append(f"{workflow_id} memo changed: {info.memo}")
        return problems

    def _check_histories(self, witnesses: Witnesses) -> list[str]:
        return [
            f"{workflow_id} history changed"
            for workflow_id, history in witnesses.histories.items()
            if self._history(workflow_id) != history
        ]

    def _check_listed(self, witnesses: Witnesses) -> list[str]:
        listed: set[str] = set()
        page_token = b""
        while True:
            response = self._workflows.ListWorkflowExecutions(
                wsv1.ListWorkflowExecutionsRequest(
                    namespace=NAMESPACE, page_size=1000, next_page_token=page_token
                ),
                timeout=TIMEOUT,
            )
            listed |= {e.execution.workflow_id for e in response.executions}
            page_token = response.next_page_token
            if not page_token:
                break
        filtered = self._workflows.ListWorkflowExecutions(
            wsv1.ListWorkflowExecutionsRequest(namespace=NAMESPACE, query=f"WorkflowType = '{WITNESS_TYPE}'"),
            timeout=TIMEOUT,
        )
        counted = self._workflows.CountWorkflowExecutions(
            wsv1.CountWorkflowExecutionsRequest(
                namespace=NAMESPACE, query=f"WorkflowType = '{WITNESS_TYPE}'"
            ),
            timeout=TIMEOUT,
        )
        problems = [f"{w} not listed" for w in witnesses.histories if w not in listed]
        if {e.execution.workflow_id for e in filtered.executions} != set(witnesses.histories):
            problems.append(f"filtered listing is {[e.execution.workflow_id for e in filtered.executions]}")
        if counted.count != len(witnesses.histories):
            problems.append(f"count is {counted.count}")
        return problems

    def _check_schedule(self, witnesses: Witnesses) -> list[str]:
        problems = []
        if self._schedule_of(WITNESS_SCHEDULE) != witnesses.schedule:
            problems.append("witness schedule changed")
        listed: set[str] = set()
        page_token = b""
        while True:
            response = self._workflows.ListSchedules(
                wsv1.ListSchedulesRequest(
                    namespace=NAMESPACE, maximum_page_size=1000, next_page_token=page_token
                ),
                timeout=TIMEOUT,
            )
            listed |= {s.schedule_id for s in response.schedules}
            page_token = response.next_page_token
            if not page_token:
                break
        if WITNESS_SCHEDULE not in listed:
            problems.append("witness schedule not listed")
        return problems


def ping(channel: grpc.Channel, timeout: float) -> bool:
    """Whether the server answers GetSystemInfo within ``timeout``."""
    try:
        WorkflowServiceStub(channel).GetSystemInfo(wsv1.GetSystemInfoRequest(), timeout=timeout)
        return True
    except grpc.RpcError:
        return False
