"""``cadenza auth key`` beside a running server started with ``--auth``: the first key made
while it serves, used by the SDK, listed with its last use, revoked."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from tests import postgres
from tests.helpers import eventually
from tests.servers import running


def cadenza(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cadenza", *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env={**os.environ, "COLUMNS": "1000"},
    )


async def test_keys_are_made_listed_and_revoked_while_the_server_runs(tmp_path: Path) -> None:
    served = tmp_path / "served.db"
    suite_server = postgres.suite_server()
    db = postgres.database_for_path(suite_server, served) if suite_server else str(served)
    async with running(served, tmp_path / "server.log", env={"CADENZA_AUTH": "1"}) as server:
        assert f"cadenza auth key create --db {db} --cluster-admin" in server.log_text()
        made = cadenza(
            "auth",
            "key",
            "create",
            "--db",
            db,
            "--namespace",
            "default",
            "--role",
            "writer",
            "--name",
            "app",
        )
        assert made.returncode == 0, made.stderr
        key = made.stdout.strip()
        assert key.startswith("cdz_") and made.stdout.count("\n") == 1
        if suite_server is None:
            assert key.split("_", 2)[2] not in served.read_bytes().decode(errors="replace")

        client = await Client.connect(server.address, api_key=key, tls=False)
        await client.count_workflows()
        key_id = key.split("_")[1]

        async def listed_as_used() -> None:
            shown = cadenza("auth", "key", "list", "--db", db, "--namespace", "default")
            row = next(line for line in shown.stdout.splitlines() if line.startswith(key_id))
            assert row.split()[1:5] == ["app", "default", "writer", "active"] and not row.endswith(" -")

        await eventually(listed_as_used)
        assert key.split("_", 2)[2] not in cadenza("auth", "key", "list", "--db", db).stdout

        revoked = cadenza("auth", "key", "revoke", "--db", db, key_id)
        assert (revoked.returncode, revoked.stdout) == (0, f"revoked {key_id}\n")
        again = cadenza("auth", "key", "revoke", "--db", db, key_id)
        assert again.returncode == 1 and "revoked already" in again.stderr

        async def refused() -> None:
            try:
                await client.count_workflows()
            except RPCError as error:
                assert error.status is RPCStatusCode.UNAUTHENTICATED
            else:
                raise AssertionError("the revoked key still works")

        await eventually(refused)


def test_bad_key_commands_say_why_and_change_nothing(tmp_path: Path) -> None:
    db = str(tmp_path / "keys.db")
    for args, why in [
        (("--namespace", "default"), "give a namespace and a role"),
        (("--cluster-admin", "--role", "reader"), "no namespace and no role"),
        (("--namespace", "default", "--role", "reader", "--expires", "soon"), "expected 30d"),
        (("--namespace", "default", "--role", "reader", "--expires", "2001-01-01"), "in the past"),
    ]:
        refused = cadenza("auth", "key", "create", "--db", db, *args)
        assert refused.returncode == 1 and why in refused.stderr and refused.stdout == ""
    assert cadenza("auth", "key", "create", "--db", ":memory:", "--cluster-admin").returncode == 1
    assert cadenza("auth", "key", "list", "--db", db).stdout.strip().startswith("ID")
    assert len(cadenza("auth", "key", "list", "--db", db).stdout.strip().splitlines()) == 1


def test_auth_is_a_flag_and_a_variable_of_server_start() -> None:
    shown = cadenza("server", "start", "--help").stdout
    assert "--auth" in shown and "CADENZA_AUTH" in shown
    assert "cadenza auth key create" in cadenza("--help").stdout
