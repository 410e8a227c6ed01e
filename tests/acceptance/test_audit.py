"""The audit log through the official SDK: one row per mutating call, with its outcome; none
for reads or a worker's traffic; exported by ``cadenza audit list``."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.api.workflowservice.v1 import StartWorkflowExecutionRequest
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleIntervalSpec,
    ScheduleSpec,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker

from cadenza.audit.calls import WORKFLOW_SERVICE
from cadenza.persistence.audit_records import AuditFilter, AuditRecord
from tests.acceptance import workflows_messages as wm
from tests.helpers import Registered, eventually, worker_for
from tests.servers import InProcessServer, in_process

IDENTITY = "audit-test-client"


@pytest.fixture
async def audited(tmp_path: Path) -> AsyncIterator[InProcessServer]:
    async with in_process(tmp_path / "cadenza.db", audit=True) as server:
        yield server


@pytest.fixture
async def audited_client(audited: InProcessServer) -> Client:
    return await Client.connect(audited.address, identity=IDENTITY)


@pytest.fixture
async def worker(audited_client: Client, task_queue: str) -> AsyncIterator[Worker]:
    async with worker_for(audited_client, task_queue, Registered(wm.WORKFLOWS)) as running:
        yield running


async def rows(server: InProcessServer, count: int) -> list[AuditRecord]:
    """The ``count`` rows, oldest first, once written (a failed call's row is written as its
    caller hears the failure: gRPC answers an abort at once)."""

    async def written() -> list[AuditRecord]:
        found = list(reversed(await server.server.audit.log.list(AuditFilter(limit=1000))))
        assert len(found) >= count
        return found

    return await eventually(written)


async def test_each_mutating_call_is_one_row_with_its_ids_and_outcome(
    audited: InProcessServer, audited_client: Client, worker: Worker, task_queue: str
) -> None:
    client = audited_client
    mailbox = await client.start_workflow(
        wm.Mailbox.run, id=f"mb-{uuid.uuid4().hex[:8]}", task_queue=task_queue
    )
    await mailbox.signal(wm.Mailbox.deliver, "one")
    assert await mailbox.execute_update(wm.Mailbox.deliver_and_count, "two") == 2
    with pytest.raises(WorkflowUpdateFailedError):
        await mailbox.execute_update(wm.Mailbox.deliver_and_count, "")  # refused by its validator
    assert await mailbox.query(wm.Mailbox.count) == 2  # a read: not audited
    await mailbox.describe()
    await mailbox.cancel()

    other_id = f"other-{uuid.uuid4().hex[:8]}"
    other = await client.start_workflow(wm.Mailbox.run, id=other_id, task_queue=task_queue)
    with pytest.raises(WorkflowAlreadyStartedError):
        await client.start_workflow(wm.Mailbox.run, id=other_id, task_queue=task_queue)
    await other.terminate("enough")

    schedule = await client.create_schedule(
        f"sched-{uuid.uuid4().hex[:8]}",
        Schedule(
            action=ScheduleActionStartWorkflow(wm.Mailbox.run, id="from-schedule", task_queue=task_queue),
            spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(days=365))]),
        ),
    )
    await schedule.delete()

    recorded = await rows(audited, 10)
    summary = [(r.method, r.workflow_id or r.schedule_id, r.outcome) for r in recorded]
    assert summary == [
        ("StartWorkflowExecution", mailbox.id, "ok"),
        ("SignalWorkflowExecution", mailbox.id, "ok"),
        ("UpdateWorkflowExecution", mailbox.id, "ok"),
        ("UpdateWorkflowExecution", mailbox.id, "ok"),
        ("RequestCancelWorkflowExecution", mailbox.id, "ok"),
        ("StartWorkflowExecution", other_id, "ok"),
        ("StartWorkflowExecution", other_id, "ALREADY_EXISTS"),
        ("TerminateWorkflowExecution", other_id, "ok"),
        ("CreateSchedule", schedule.id, "ok"),
        ("DeleteSchedule", schedule.id, "ok"),
    ]
    for row in recorded:
        assert (row.namespace, row.service, row.identity) == ("default", WORKFLOW_SERVICE, IDENTITY)
        assert (row.principal_kind, row.principal_name) == ("anonymous", "anonymous")
    started = recorded[0]
    assert started.run_id == mailbox.result_run_id and started.request_id
    # Each change's row names the run it changed, whether or not the call named one.
    assert {r.run_id for r in recorded[:5]} == {mailbox.result_run_id}
    assert recorded[2].request_id and recorded[2].request_id != recorded[3].request_id  # update IDs
    assert "already" in recorded[6].reason.lower() and recorded[6].run_id == ""


async def test_audit_list_exports_json_lines_and_filters(
    audited: InProcessServer, audited_client: Client, task_queue: str
) -> None:
    handle = await audited_client.start_workflow(
        wm.Mailbox.run, id=f"export-{uuid.uuid4().hex[:8]}", task_queue=task_queue
    )
    await handle.terminate()

    def audit_list(*args: str) -> list[str]:
        done = subprocess.run(
            [sys.executable, "-m", "cadenza", "audit", "list", "--db", audited.db, *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return done.stdout.splitlines()

    exported = [json.loads(line) for line in audit_list("--json", "--namespace", "default", "--since", "1h")]
    assert [(r["method"], r["workflowId"], r["outcome"]) for r in exported] == [
        ("TerminateWorkflowExecution", handle.id, "ok"),
        ("StartWorkflowExecution", handle.id, "ok"),
    ]
    assert exported[0]["principal"] == {"type": "anonymous", "name": "anonymous"}
    assert exported[1]["runId"] == handle.result_run_id and exported[1]["time"].endswith("Z")
    assert audit_list("--json", "--namespace", "elsewhere") == []
    assert len(audit_list("--json", "--limit", "1")) == 1
    table = audit_list("--principal", "anonymous")
    assert table[0].split()[:2] == ["time", "principal"] and "TerminateWorkflowExecution" in table[1]


async def test_with_auth_and_audit_off_nothing_is_recorded_and_events_name_no_principal(
    in_process_server: InProcessServer, in_process_client: Client, task_queue: str
) -> None:
    assert not in_process_server.server.config.audit_on  # off by default, as auth is
    handle = await in_process_client.start_workflow(
        wm.Mailbox.run, id=f"quiet-{uuid.uuid4().hex[:8]}", task_queue=task_queue
    )
    await handle.signal(wm.Mailbox.deliver, "x")
    await handle.terminate()
    events = [event async for event in handle.fetch_history_events()]
    assert events and not any(event.HasField("principal") for event in events)
    assert await in_process_server.server.audit.log.list(AuditFilter()) == []


async def test_a_call_turned_away_by_a_rate_limit_leaves_no_row() -> None:
    # The namespace may make one call, then none: the first start lands, the second is refused.
    limit = json.dumps([{"value": 0, "constraints": {"namespace": "default"}}])
    async with in_process(audit=True, dynamic_config={"frontend.namespaceRPS": limit}) as server:
        client = await Client.connect(server.address)
        await client.start_workflow(wm.Mailbox.run, id="first", task_queue="nobody-polls")
        request = StartWorkflowExecutionRequest(
            namespace="default", workflow_id="second", request_id=str(uuid.uuid4())
        )
        request.workflow_type.name, request.task_queue.name = "Mailbox", "nobody-polls"
        with pytest.raises(RPCError) as refused:
            await client.workflow_service.start_workflow_execution(request, retry=False)
        assert refused.value.status == RPCStatusCode.RESOURCE_EXHAUSTED
        recorded = await rows(server, 1)
    assert [(r.method, r.workflow_id, r.outcome) for r in recorded] == [
        ("StartWorkflowExecution", "first", "ok")
    ]
