"""Every flag of ``cadenza server start`` has its ``CADENZA_*`` variable, read by the real
command: a server started from the environment alone serves as its flags would make it."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from cadenza.config import ServerConfig
from tests import servers
from tests.helpers import free_port
from tests.servers import ServerProcess

START_FLAGS = (
    "--ip",
    "--port",
    "--http-port",
    "--db",
    "--dynamic-config-value",
    "--log-level",
    "--log-format",
    "--ui",
    "--ui-read-only",
    "--tls-cert",
    "--tls-key",
    "--tls-client-ca",
    "--tls-client-roles",
)

SMALL_BLOB_LIMIT = "limit.blobSize.error=1000"
"""A payload limit a 2,000-byte argument breaks, so a test can see which setting won."""


def run_cadenza(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The ``cadenza`` command run to its end, with these variables added to the environment."""
    return subprocess.run(
        [sys.executable, "-m", "cadenza", *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env={**os.environ, "COLUMNS": "1000", **(env or {})},
    )


def json_records(log: str) -> list[dict[str, object]]:
    """The JSON log lines of a server's output (the ready line is printed, not logged)."""
    return [json.loads(line) for line in log.splitlines() if line.startswith("{")]


async def start_blob(client: Client, workflow_id: str, size: int) -> None:
    """Start a run whose input is ``size`` bytes (no worker runs it)."""
    await client.start_workflow("Mailbox", "x" * size, id=workflow_id, task_queue="no-worker")


def test_the_help_names_each_flags_variable_and_how_a_repeated_flag_reads_one() -> None:
    shown = run_cadenza("server", "start", "--help")
    assert shown.returncode == 0, shown.stderr
    for flag in START_FLAGS:
        assert flag in shown.stdout
        assert "CADENZA_" + flag.removeprefix("--").replace("-", "_").upper() in shown.stdout
    assert "separated by spaces or newlines" in shown.stdout
    assert "OTEL_EXPORTER_OTLP_ENDPOINT" in shown.stdout


def test_every_flag_sets_a_config_field_which_its_variable_sets_too() -> None:
    """The variables are read for ServerConfig's fields (config.from_env): a flag that is not
    one would have no variable. The repeatable --dynamic-config-value has its own."""
    shown = run_cadenza("server", "start", "--help")
    flags = set(re.findall(r"^\s+(--[a-z-]+)", shown.stdout, re.MULTILINE)) - {"--help"}
    assert set(START_FLAGS) <= flags
    fields = {field.name for field in dataclasses.fields(ServerConfig)}
    for flag in flags - {"--dynamic-config-value"}:
        assert flag.removeprefix("--").replace("-", "_") in fields


async def test_a_server_started_from_the_environment_alone_serves_as_its_flags_would(
    tmp_path: Path, workflow_id: str
) -> None:
    port, http_port, db = free_port(), free_port(), tmp_path / "from-env.db"
    env = {
        "CADENZA_IP": "127.0.0.1",
        "CADENZA_PORT": str(port),
        "CADENZA_HTTP_PORT": str(http_port),
        "CADENZA_DB": str(db),
        "CADENZA_LOG_LEVEL": "INFO",
        "CADENZA_LOG_FORMAT": "json",
        "CADENZA_DYNAMIC_CONFIG_VALUE": f"{SMALL_BLOB_LIMIT}\n  frontend.notACadenzaKey=true",
    }
    server = ServerProcess(
        [sys.executable, "-m", "cadenza", "server", "start"], port, tmp_path / "server.log", env
    )
    server.start()
    try:
        await server.wait_ready()
        client = await Client.connect(server.address)
        with pytest.raises(RPCError) as raised:
            await start_blob(client, workflow_id, 2000)
        assert raised.value.status == RPCStatusCode.INVALID_ARGUMENT
        assert raised.value.message == "Blob data size exceeds limit."
    finally:
        server.stop()
    log = server.log_text()
    assert f"serving gRPC on 127.0.0.1:{port} and HTTP on 127.0.0.1:{http_port}, database {db}" in log
    assert db.exists()
    messages = {str(record["message"]) for record in json_records(log)}
    assert "dynamic config not used by Cadenza: frontend.notACadenzaKey" in messages


async def test_a_flag_given_wins_over_its_variable(tmp_path: Path, workflow_id: str) -> None:
    server = servers.cadenza(
        tmp_path / "flags.db",
        tmp_path / "server.log",
        env={
            "CADENZA_PORT": "1",
            "CADENZA_LOG_LEVEL": "error",
            "CADENZA_LOG_FORMAT": "json",
            "CADENZA_DYNAMIC_CONFIG_VALUE": SMALL_BLOB_LIMIT,
        },
        extra_args=("--log-format", "text", "--dynamic-config-value", "limit.blobSize.error=5000"),
    )
    server.start()
    try:
        await server.wait_ready()
        await start_blob(await Client.connect(server.address), workflow_id, 2000)
    finally:
        server.stop()
    log = server.log_text()
    assert f"workflow {workflow_id} started" in log  # --log-level info, as text
    assert not json_records(log)


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        ("CADENZA_LOG_LEVEL", "loud", "CADENZA_LOG_LEVEL: 'loud' is not one of debug, info, warning, error"),
        ("CADENZA_LOG_FORMAT", "xml", "CADENZA_LOG_FORMAT: 'xml' is not one of text, json"),
        ("CADENZA_HTTP_PORT", "http", "CADENZA_HTTP_PORT: cannot read 'http' as int"),
        (
            "CADENZA_DYNAMIC_CONFIG_VALUE",
            "limit.blobSize.warn=10 limit.blobSize.error",
            "CADENZA_DYNAMIC_CONFIG_VALUE 'limit.blobSize.error': expected KEY=VALUE",
        ),
        (
            "CADENZA_DYNAMIC_CONFIG_VALUE",
            "limit.blobSize.error=lots",
            "CADENZA_DYNAMIC_CONFIG_VALUE limit.blobSize.error: 'lots' is not a whole number",
        ),
    ],
)
def test_a_bad_variable_is_refused_by_name_before_anything_is_written(
    tmp_path: Path, variable: str, value: str, said: str
) -> None:
    started = run_cadenza(
        "server",
        "start",
        "--port",
        str(free_port()),
        "--db",
        str(tmp_path / "never.db"),
        env={variable: value},
    )
    assert started.returncode == 2
    assert started.stderr.strip() == f"cadenza: {said}"
    assert list(tmp_path.iterdir()) == []
