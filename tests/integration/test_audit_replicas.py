"""Audit rows under conflicting commits: two replicas on one PostgreSQL signal the same
workflow at once, so their changes lose to each other and are retried; each signal that
lands has exactly one row, committed with it."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from cadenza.persistence.audit_records import AuditFilter
from cadenza.persistence.backends import open_store
from tests.acceptance import workflows_messages as wm
from tests.integration.replica_servers import replicas

pytestmark = [pytest.mark.replicas, pytest.mark.timeout(120)]
SIGNALS = 30


async def test_conflicting_signals_each_leave_one_row(postgres_database: str, tmp_path: Path) -> None:
    async with replicas(postgres_database, tmp_path, 2, extra_args=("--audit",)) as started:
        clients = [await Client.connect(server.address) for server in started]
        workflow_id = f"contended-{uuid.uuid4().hex[:8]}"
        await clients[0].start_workflow(wm.Mailbox.run, id=workflow_id, task_queue="nobody-polls")
        await asyncio.gather(
            *(
                clients[n % 2].get_workflow_handle(workflow_id).signal(wm.Mailbox.deliver, str(n))
                for n in range(SIGNALS)
            )
        )
        events = [e async for e in clients[1].get_workflow_handle(workflow_id).fetch_history_events()]
    signaled = [e for e in events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED]
    assert len(signaled) == SIGNALS

    store = open_store(postgres_database, exclusive=False)
    await store.open()
    try:
        rows = await store.list_audit(AuditFilter(limit=1000))
    finally:
        await store.close()
    landed = [r for r in rows if r.method == "SignalWorkflowExecution" and r.outcome == "ok"]
    per_request = Counter(r.request_id for r in landed)
    assert len(per_request) == SIGNALS and set(per_request.values()) == {1}
    assert {r.workflow_id for r in landed} == {workflow_id}
