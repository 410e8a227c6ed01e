"""The official `temporal` CLI runs batches against Cadenza: `workflow terminate|cancel|signal
--query` start them, `batch list|describe` show them, `batch terminate` stops one."""

from __future__ import annotations

import json
import re
import subprocess
import uuid

import pytest
from temporalio.client import Client

from tests import servers
from tests.acceptance import batch_calls as calls
from tests.helpers import eventually
from tests.servers import ServerProcess

pytestmark = pytest.mark.skipif(servers.temporal_binary() is None, reason="temporal CLI not installed")


def cli(server: ServerProcess, *args: str) -> str:
    binary = servers.temporal_binary()
    assert binary is not None
    done = subprocess.run(
        [binary, "--address", server.address, *args], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, f"temporal {' '.join(args)} failed: {done.stderr}"
    return done.stdout


def started_job(output: str) -> str:
    found = re.search(r"Started batch for job ID: (\S+)", output)
    assert found, output
    return found[1]


def described(server: ServerProcess, job_id: str) -> dict[str, str]:
    shown: dict[str, str] = json.loads(cli(server, "batch", "describe", "--job-id", job_id, "-o", "json"))
    return shown


async def test_workflow_commands_with_a_query_run_batches(
    client: Client, cadenza_server: ServerProcess
) -> None:
    kind = f"Cli{uuid.uuid4().hex[:8]}"
    await calls.start_idle(client, kind, [f"{kind}-{i}" for i in range(3)])
    query = f'WorkflowType="{kind}"'
    signalled = started_job(
        cli(cadenza_server, "workflow", "signal", "--query", query, "--name", "poke", "--yes")
    )
    cancelled = started_job(cli(cadenza_server, "workflow", "cancel", "--query", query, "--yes"))
    terminated = started_job(
        cli(cadenza_server, "workflow", "terminate", "--query", query, "--reason", "done", "--yes")
    )
    for job_id in (signalled, cancelled, terminated):

        def completed(job: str = job_id) -> dict[str, str]:
            shown = described(cadenza_server, job)
            assert shown["state"] == "BATCH_OPERATION_STATE_COMPLETED"
            return shown

        shown = await eventually(completed)
        assert shown["query"] == query
    assert shown["operationType"] == "BATCH_OPERATION_TYPE_TERMINATE_WORKFLOW"
    assert shown["reason"] == "done"
    listed = {b["jobId"]: b for b in json.loads(cli(cadenza_server, "batch", "list", "-o", "json"))}
    assert {signalled, cancelled, terminated} <= set(listed)
    assert await calls.count(client, f"{query} AND ExecutionStatus = 'Terminated'") == 3
    history = await client.get_workflow_handle(f"{kind}-0").fetch_history()
    kinds = [e.WhichOneof("attributes") for e in history.events]
    assert kinds.count("workflow_execution_signaled_event_attributes") == 1
    assert kinds.count("workflow_execution_cancel_requested_event_attributes") == 1


async def test_batch_terminate_stops_a_running_batch(client: Client, cadenza_server: ServerProcess) -> None:
    kind = f"Slow{uuid.uuid4().hex[:8]}"
    await calls.start_idle(client, kind, [f"{kind}-{i}" for i in range(20)])
    job_id = started_job(
        cli(
            cadenza_server,
            "workflow",
            "signal",
            "--query",
            f'WorkflowType="{kind}"',
            "--name",
            "x",
            "--rps",
            "2",
            "--yes",
        )
    )
    assert described(cadenza_server, job_id)["state"] == "BATCH_OPERATION_STATE_RUNNING"
    cli(cadenza_server, "batch", "terminate", "--job-id", job_id, "--reason", "enough")
    shown = described(cadenza_server, job_id)
    assert shown["state"] == "BATCH_OPERATION_STATE_FAILED"
    assert int(shown.get("completeOperationCount", "0")) < 20
