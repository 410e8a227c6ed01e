"""A real server's log lines about a request carry the request's RPC, its own request ID, and
the namespace, workflow and run it names, in JSON (one object per line) and in text."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from temporalio.client import Client, WorkflowHandle

from tests import servers
from tests.acceptance import workflows_messages as wm
from tests.helpers import free_port
from tests.servers import ServerProcess

BLOB_WARNING = "exceeds the warning limit of 100 bytes"


async def started_server(tmp_path: Path, *args: str) -> ServerProcess:
    server = servers.cadenza(
        tmp_path / "logs.db",
        tmp_path / "server.log",
        extra_args=("--dynamic-config-value", "limit.blobSize.warn=100", *args),
    )
    server.start()
    await server.wait_ready()
    return server


async def signal_over_the_warning_limit(
    server: ServerProcess, workflow_id: str, naming_the_run: bool
) -> WorkflowHandle[Any, Any]:
    """Start a run, then signal it (naming the run, or only the workflow) with a payload the
    server logs a warning about; return a handle on the run."""
    client = await Client.connect(server.address)
    started = await client.start_workflow(wm.Mailbox.run, id=workflow_id, task_queue="no-worker")
    handle = client.get_workflow_handle(workflow_id, run_id=started.result_run_id)
    signaled = handle if naming_the_run else client.get_workflow_handle(workflow_id)
    await signaled.signal(wm.Mailbox.deliver, "x" * 200)
    await handle.terminate(reason="test over")
    return handle


async def test_json_lines_carry_the_request_fields(tmp_path: Path, workflow_id: str) -> None:
    server = await started_server(tmp_path, "--log-format", "json", "--log-level", "debug")
    try:
        handle = await signal_over_the_warning_limit(server, workflow_id, naming_the_run=True)
    finally:
        server.stop()
    lines = [line for line in server.log_text().splitlines() if not line.startswith("Cadenza ")]
    records = [json.loads(line) for line in lines]  # every line logged is one JSON object
    for record in records:
        assert {"time", "level", "logger", "message"} <= record.keys()
        assert datetime.fromisoformat(record["time"]).tzinfo is not None
    assert any(record["level"] == "DEBUG" for record in records)

    [warning] = [r for r in records if BLOB_WARNING in r["message"]]
    assert warning["level"] == "WARNING"
    assert warning["logger"] == "cadenza.api.requests"
    assert warning["rpc"] == "SignalWorkflowExecution"
    assert (warning["namespace"], warning["workflow_id"], warning["run_id"]) == (
        "default",
        workflow_id,
        handle.run_id,
    )
    assert re.fullmatch(r"[0-9a-f]{32}", warning["request_id"])

    [started] = [r for r in records if r["message"].startswith(f"workflow {workflow_id} started")]
    assert started["rpc"] == "StartWorkflowExecution"
    assert (started["namespace"], started["workflow_id"], started["run_id"]) == (
        "default",
        workflow_id,
        handle.run_id,
    )
    assert started["task_queue"] == "no-worker"  # the line's own fields are kept
    assert started["request_id"] != warning["request_id"]  # one ID per call

    [terminated] = [r for r in records if r["message"].startswith(f"workflow {workflow_id} terminated")]
    assert terminated["rpc"] == "TerminateWorkflowExecution"


async def test_text_lines_show_the_request_fields_before_the_message(
    tmp_path: Path, workflow_id: str
) -> None:
    """The signal names only the workflow: its line names the run it reached, the current one."""
    server = await started_server(tmp_path, "--log-level", "info")
    try:
        handle = await signal_over_the_warning_limit(server, workflow_id, naming_the_run=False)
    finally:
        server.stop()
    log = server.log_text()
    assert re.search(
        r"^\S+ \S+ WARNING cadenza\.api\.requests \[rpc=SignalWorkflowExecution request_id=[0-9a-f]{32} "
        rf"namespace=default workflow_id={workflow_id} run_id={handle.run_id}\]: blob data size 2\d\d "
        + BLOB_WARNING
        + "$",
        log,
        re.MULTILINE,
    ), log
    # A line about no request has no brackets.
    assert re.search(r"^\S+ \S+ INFO cadenza\.server: stopping", log, re.MULTILINE), log


async def test_a_call_over_http_logs_with_the_fields_of_its_grpc_twin(
    tmp_path: Path, workflow_id: str
) -> None:
    http_port = free_port()
    server = await started_server(tmp_path, "--log-format", "json", "--http-port", str(http_port))
    try:
        client = await Client.connect(server.address)
        started = await client.start_workflow(wm.Mailbox.run, id=workflow_id, task_queue="no-worker")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{http_port}", timeout=30) as http:
            answer = await http.post(
                f"/api/v1/namespaces/default/workflows/{workflow_id}/signal/deliver",
                json={"input": ["x" * 200]},
            )
        assert answer.status_code == 200, answer.text
        await started.terminate(reason="test over")
    finally:
        server.stop()
    lines = [line for line in server.log_text().splitlines() if line.startswith("{")]
    [warning] = [r for r in map(json.loads, lines) if BLOB_WARNING in r["message"]]
    assert warning["rpc"] == "SignalWorkflowExecution"
    assert (warning["namespace"], warning["workflow_id"], warning["run_id"]) == (
        "default",
        workflow_id,
        started.result_run_id,
    )
