"""The `cadenza` command starts and refuses to start as an operator expects, and the official
`temporal` CLI drives a live Cadenza for everyday operations."""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.worker import Worker

import cadenza as cadenza_package
from cadenza.config import DYNAMIC_CONFIG_KEYS
from cadenza.persistence.sqlite.schema import MIGRATIONS as SQLITE_MIGRATIONS
from tests import servers
from tests.acceptance import workflows_messages as wm
from tests.helpers import free_port
from tests.servers import ServerProcess

needs_temporal_cli = pytest.mark.skipif(
    servers.temporal_binary() is None, reason="temporal CLI not installed"
)


def cli(server: ServerProcess, *args: str) -> str:
    binary = servers.temporal_binary()
    assert binary is not None
    done = subprocess.run(
        [binary, "--address", server.address, *args], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, f"temporal {' '.join(args)} failed: {done.stderr}"
    return done.stdout


def status(server: ServerProcess, workflow_id: str) -> str:
    described = json.loads(cli(server, "workflow", "describe", "-w", workflow_id, "-o", "json"))
    return str(described["workflowExecutionInfo"]["status"])


@needs_temporal_cli
async def test_namespace_and_search_attribute_commands(cadenza_server: ServerProcess) -> None:
    await cadenza_server.wait_ready()
    name = f"ns-{uuid.uuid4().hex[:8]}"
    assert "successfully registered" in cli(
        cadenza_server, "operator", "namespace", "create", "--namespace", name, "--description", "first"
    )
    assert name in cli(cadenza_server, "operator", "namespace", "list")
    assert "update succeeded" in cli(
        cadenza_server, "operator", "namespace", "update", "--namespace", name, "--description", "second"
    )
    described = json.loads(
        cli(cadenza_server, "operator", "namespace", "describe", "--namespace", name, "-o", "json")
    )
    assert described["namespaceInfo"]["description"] == "second"
    attribute = f"CliAttr{uuid.uuid4().hex[:6]}"
    assert "added" in cli(
        cadenza_server,
        "operator",
        "search-attribute",
        "create",
        "--namespace",
        name,
        "--name",
        attribute,
        "--type",
        "Keyword",
    )
    assert attribute in cli(cadenza_server, "operator", "search-attribute", "list", "--namespace", name)
    assert "removed" in cli(
        cadenza_server,
        "operator",
        "search-attribute",
        "remove",
        "--namespace",
        name,
        "--name",
        attribute,
        "--yes",
    )
    assert attribute not in cli(cadenza_server, "operator", "search-attribute", "list", "--namespace", name)
    assert "has been deleted" in cli(
        cadenza_server, "operator", "namespace", "delete", "--namespace", name, "--yes"
    )
    assert name not in cli(cadenza_server, "operator", "namespace", "list")


@needs_temporal_cli
async def test_workflow_commands(cadenza_server: ServerProcess) -> None:
    await cadenza_server.wait_ready()
    workflow_id = f"cli-{uuid.uuid4().hex[:8]}"
    queue = f"cli-q-{uuid.uuid4().hex[:6]}"
    started = cli(
        cadenza_server,
        "workflow",
        "start",
        "--type",
        "Waits",
        "--task-queue",
        queue,
        "--workflow-id",
        workflow_id,
    )
    assert "Running execution:" in started and workflow_id in started
    listed = cli(cadenza_server, "workflow", "list", "--query", f"WorkflowId = '{workflow_id}'")
    assert "Running" in listed and workflow_id in listed and "Waits" in listed
    assert "Total: 1" in cli(cadenza_server, "workflow", "count", "--query", f"WorkflowId = '{workflow_id}'")
    assert status(cadenza_server, workflow_id) == "WORKFLOW_EXECUTION_STATUS_RUNNING"
    assert "Signal workflow succeeded" in cli(
        cadenza_server, "workflow", "signal", "-w", workflow_id, "--name", "poke", "--input", '"hi"'
    )
    assert "Canceled workflow" in cli(cadenza_server, "workflow", "cancel", "-w", workflow_id)
    shown = json.loads(cli(cadenza_server, "workflow", "show", "-w", workflow_id, "-o", "json"))
    types = [e["eventType"] for e in shown["events"]]
    assert "EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED" in types
    assert "EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED" in types
    assert "Workflow terminated" in cli(
        cadenza_server, "workflow", "terminate", "-w", workflow_id, "--reason", "cli test"
    )
    assert status(cadenza_server, workflow_id) == "WORKFLOW_EXECUTION_STATUS_TERMINATED"
    described = cli(cadenza_server, "task-queue", "describe", "--task-queue", queue)
    assert "UNVERSIONED" in described and "workflow" in described
    cli(cadenza_server, "workflow", "delete", "-w", workflow_id, "--yes")
    assert "Total: 0" in cli(cadenza_server, "workflow", "count", "--query", f"WorkflowId = '{workflow_id}'")


@needs_temporal_cli
async def test_workflow_commands_answered_by_a_worker(
    cadenza_server: ServerProcess,
    client: Client,
    task_queue: str,
) -> None:
    mailbox = f"cli-box-{uuid.uuid4().hex[:8]}"
    countdown = f"cli-count-{uuid.uuid4().hex[:8]}"
    async with Worker(client, task_queue=task_queue, workflows=wm.WORKFLOWS):
        # The CLI blocks while the worker (in this process) runs the workflow.
        executed = await cli_async(
            cadenza_server,
            "workflow",
            "execute",
            "--type",
            "Countdown",
            "--task-queue",
            task_queue,
            "--workflow-id",
            countdown,
            "--input",
            "1",
        )
        assert "WorkflowExecutionContinuedAsNew" in executed
        assert "COMPLETED" in executed and '"done after run True"' in executed
        await cli_async(
            cadenza_server,
            "workflow",
            "start",
            "--type",
            "Mailbox",
            "--task-queue",
            task_queue,
            "--workflow-id",
            mailbox,
        )
        await cli_async(
            cadenza_server, "workflow", "signal", "-w", mailbox, "--name", "deliver", "--input", '"hello"'
        )
        queried = await cli_async(cadenza_server, "workflow", "query", "-w", mailbox, "--name", "count")
        assert "QueryResult  1" in queried
        await cli_async(cadenza_server, "workflow", "signal", "-w", mailbox, "--name", "finish")
        result = await cli_async(cadenza_server, "workflow", "result", "-w", mailbox)
        assert "COMPLETED" in result and '["hello"]' in result
        described = await cli_async(cadenza_server, "task-queue", "describe", "--task-queue", task_queue)
        assert "Pollers:" in described and "workflow" in described
    listed = cli(
        cadenza_server,
        "workflow",
        "list",
        "--query",
        f"WorkflowId = '{mailbox}' AND ExecutionStatus = 'Completed'",
    )
    assert mailbox in listed and "Completed" in listed
    assert "Total: 2" in cli(
        cadenza_server, "workflow", "count", "--query", f"WorkflowId = '{countdown}'"
    )  # both runs of the chain
    info = json.loads(cli(cadenza_server, "workflow", "describe", "-w", mailbox, "-o", "json"))
    assert info["workflowExecutionInfo"]["status"] == "WORKFLOW_EXECUTION_STATUS_COMPLETED"
    assert info["workflowExecutionInfo"]["type"]["name"] == "Mailbox"


async def cli_async(server: ServerProcess, *args: str) -> str:
    """The CLI run off the event loop, so a worker in this process can answer it."""
    return await asyncio.to_thread(cli, server, *args)


@needs_temporal_cli
async def test_schedule_commands(cadenza_server: ServerProcess) -> None:
    await cadenza_server.wait_ready()
    schedule_id = f"cli-sched-{uuid.uuid4().hex[:8]}"
    cli(
        cadenza_server,
        "schedule",
        "create",
        "--schedule-id",
        schedule_id,
        "--calendar",
        '{"dayOfWeek":"Fri","hour":"3","minute":"30"}',
        "--cron",
        "30 12 * * Fri",
        "--interval",
        "10m/1m",
        "--workflow-id",
        f"{schedule_id}-wf",
        "--task-queue",
        "cli-q",
        "--type",
        "Waits",
    )
    described = json.loads(
        cli(cadenza_server, "schedule", "describe", "--schedule-id", schedule_id, "-o", "json")
    )
    spec = described["schedule"]["spec"]
    assert len(spec["structuredCalendar"]) == 2 and spec["interval"][0]["phase"] == "60s"
    assert len(described["info"]["futureActionTimes"]) == 10
    assert schedule_id in cli(cadenza_server, "schedule", "list")
    cli(
        cadenza_server,
        "schedule",
        "toggle",
        "--schedule-id",
        schedule_id,
        "--pause",
        "--reason",
        "maintenance",
    )
    assert "Trigger request sent" in cli(cadenza_server, "schedule", "trigger", "--schedule-id", schedule_id)
    assert "Backfill request sent" in cli(
        cadenza_server,
        "schedule",
        "backfill",
        "--schedule-id",
        schedule_id,
        "--start-time",
        "2024-01-01T00:00:00Z",
        "--end-time",
        "2024-01-01T00:30:00Z",
        "--overlap-policy",
        "AllowAll",
    )
    described = json.loads(
        cli(cadenza_server, "schedule", "describe", "--schedule-id", schedule_id, "-o", "json")
    )
    assert described["schedule"]["state"] == {"notes": "maintenance", "paused": True}
    # The trigger, then 00:01, 00:11 and 00:21 from the backfill.
    assert described["info"]["actionCount"] == "4"
    workflow_ids = {a["startWorkflowResult"]["workflowId"] for a in described["info"]["recentActions"]}
    assert f"{schedule_id}-wf-2024-01-01T00:11:00Z" in workflow_ids
    assert "Schedule deleted" in cli(cadenza_server, "schedule", "delete", "--schedule-id", schedule_id)
    assert schedule_id not in cli(cadenza_server, "schedule", "list")


# -- the cadenza command ------------------------------------------------------------------


def cadenza(*args: str) -> subprocess.CompletedProcess[str]:
    """The ``cadenza`` command, run to its end. A server that should have refused to start
    would run on: the timeout ends it, and the test fails."""
    return subprocess.run(
        [sys.executable, "-m", "cadenza", *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env={**os.environ, "COLUMNS": "1000"},
    )


def sqlite_server(db: Path, log: Path) -> ServerProcess:
    """A server on SQLite file ``db`` whatever backend the suite runs on: the lock is SQLite's."""
    port = free_port()
    return ServerProcess(
        [
            sys.executable,
            "-m",
            "cadenza",
            "server",
            "start",
            "--port",
            str(port),
            "--http-port",
            str(free_port()),
            "--db",
            str(db),
            "--log-level",
            "info",
        ],
        port,
        log,
    )


def start_args(db: Path | str, port: int | None = None) -> list[str]:
    return [
        "server",
        "start",
        "--port",
        str(port or free_port()),
        "--http-port",
        str(free_port()),
        "--db",
        str(db),
    ]


def one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, f"expected one line, got:\n{text}"
    return lines[0]


async def test_a_second_server_on_a_served_sqlite_file_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "one.db"
    first = sqlite_server(db, tmp_path / "first.log")
    first.start()
    try:
        await first.wait_ready()
        second = cadenza(*start_args(db))
        assert second.returncode == 1
        assert f"the SQLite database {db} is in use by another Cadenza process" in one_line(second.stderr)
        refused = cadenza("db", "migrate", "--db", str(db))  # its schema is the server's
        assert refused.returncode == 1 and "is in use" in one_line(refused.stderr)
        status = cadenza("db", "status", "--db", str(db))  # reading is fine
        assert status.returncode == 0 and "pending" not in status.stdout
        first.kill()  # SIGKILL: the kernel lets go of the lock with the process
        again = sqlite_server(db, tmp_path / "again.log")
        again.start()
        try:
            await again.wait_ready()
        finally:
            again.stop()
    finally:
        first.stop()
    assert not (tmp_path / "one.db.lock").exists()  # a clean stop leaves no lock file


def test_a_port_in_use_is_refused_in_one_line_before_the_database_is_touched(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        started = cadenza(*start_args(tmp_path / "never.db", port))
    assert started.returncode == 1
    assert one_line(started.stderr) == (
        f"cadenza: cannot listen for gRPC on 127.0.0.1:{port}: Address already in use"
    )
    assert list(tmp_path.iterdir()) == []


def test_a_database_in_a_missing_folder_is_refused_in_one_line(tmp_path: Path) -> None:
    db = tmp_path / "missing" / "x.db"
    started = cadenza(*start_args(db))
    assert started.returncode == 1
    assert one_line(started.stderr) == (
        f"cadenza: cannot open the SQLite database {db}: folder {db.parent} does not exist"
    )


@pytest.mark.parametrize("flag", ["--port", "--http-port"])
@pytest.mark.parametrize("value", ["99999", "65536", "-1"])
def test_a_port_out_of_range_is_refused(tmp_path: Path, flag: str, value: str) -> None:
    started = cadenza(*start_args(tmp_path / "never.db"), flag, value)
    assert started.returncode == 2
    assert one_line(started.stderr) == f"cadenza: {flag} {value} is out of range: a port is 0 to 65535"
    assert list(tmp_path.iterdir()) == []


def test_version() -> None:
    shown = cadenza("--version")
    assert shown.returncode == 0
    assert shown.stdout == f"cadenza {cadenza_package.__version__}\n"


@pytest.mark.parametrize(
    ("argv", "listed"),
    [
        (
            (),
            [
                "server",
                "run the server",
                "db",
                "inspect and migrate the database schema",
                "cadenza server start",
            ],
        ),
        (("server",), ["start", "start the server and serve until SIGINT or SIGTERM"]),
        (("db",), ["status", "migrate", "verify"]),
    ],
)
def test_a_command_line_without_a_command_shows_the_commands(
    argv: tuple[str, ...], listed: list[str]
) -> None:
    shown = cadenza(*argv)
    assert shown.returncode == 2
    assert "usage: cadenza" in shown.stderr and "COMMAND" in shown.stderr
    for text in listed:
        assert text in shown.stderr
    assert "{" not in shown.stderr and "required" not in shown.stderr


def test_db_status_of_a_file_not_yet_created_lists_the_shipped_migrations(tmp_path: Path) -> None:
    db = tmp_path / "later.db"
    shown = cadenza("db", "status", "--db", str(db))
    assert shown.returncode == 0, shown.stderr
    for migration in SQLITE_MIGRATIONS:
        assert re.search(rf"^{migration.version}\s+{migration.name}\s+pending\s", shown.stdout, re.M)
    assert f"schema version 0; this Cadenza knows up to {SQLITE_MIGRATIONS[-1].version}" in shown.stdout
    assert not db.exists()


def test_the_help_lists_every_honoured_dynamic_config_key() -> None:
    shown = cadenza("server", "start", "--help")
    assert shown.returncode == 0
    for key in DYNAMIC_CONFIG_KEYS:
        assert key in shown.stdout


async def test_info_logs_each_run_started_and_closed_and_each_new_poller(
    cadenza_server: ServerProcess,
    client: Client,
    task_queue: str,
    workflow_id: str,
) -> None:
    async with Worker(client, task_queue=task_queue, workflows=wm.WORKFLOWS):
        await client.execute_workflow(wm.Countdown.run, 1, id=workflow_id, task_queue=task_queue)
    log = cadenza_server.log_text()
    about_the_workflow = [
        line.split(": ", 1)[1].split(":", 1)[0]
        for line in log.splitlines()
        if f"workflow {workflow_id} " in line
    ]
    # One line at each end of each run (it continued as new once), none per event or task.
    assert about_the_workflow == [
        f"workflow {workflow_id} started",
        f"workflow {workflow_id} continued_as_new",
        f"workflow {workflow_id} started",
        f"workflow {workflow_id} completed",
    ]
    assert log.count(f"polls workflow task queue {task_queue}\n") == 1
