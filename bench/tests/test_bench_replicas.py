"""Runs the activity workload, tiny, on two Cadenza replicas sharing one PostgreSQL database.

Skipped without PostgreSQL (a server named by CADENZA_TEST_DB or
CADENZA_TEST_POSTGRES, or installed binaries for a private cluster).
Asserts only on completeness and on both replicas having been used.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests import postgres

RUN_PY = Path(__file__).resolve().parents[1] / "run.py"


@pytest.fixture
def server_url() -> Iterator[str]:
    """A PostgreSQL server to create the benchmark's database on."""
    with postgres.any_server() as url:
        if url is None:
            pytest.skip("PostgreSQL is not available")
        yield url


def test_two_replicas_share_the_activity_workload(server_url: str, tmp_path: Path) -> None:
    database = asyncio.run(postgres.create_database(server_url))
    out = tmp_path / "results.json"
    argv = [sys.executable, str(RUN_PY), "--only", "cadenza", "--workloads", "activity"]
    argv += ["--workflows", "6", "--concurrency", "3", "--sequential", "2", "--warmup", "2"]
    argv += ["--json", str(out), "--keep-tmp"]
    env = {**os.environ, "CADENZA_BENCH_DB": database, "CADENZA_BENCH_REPLICAS": "2"}
    completed = subprocess.run(argv, capture_output=True, text=True, timeout=110, check=False, env=env)
    assert completed.returncode == 0, completed.stderr + completed.stdout
    cadenza = json.loads(out.read_text())["servers"]["cadenza"]
    assert cadenza["ok"] is True
    assert (cadenza["workflows_ok"], cadenza["workflows_failed"]) == (8, 0)
    kept = re.search(r"keeping scratch files in (\S+)", completed.stderr)
    assert kept is not None, completed.stderr
    workdir = Path(kept.group(1)) / "activity" / "cadenza"
    logs = sorted(p.name for p in workdir.iterdir() if p.suffix == ".log")
    shutil.rmtree(kept.group(1))
    assert logs == ["server-0.log", "server-1.log", "worker-0.log", "worker-1.log"]
