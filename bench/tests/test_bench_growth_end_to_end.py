"""Runs the fanout, history and scale workloads, tiny, on each server, one workload per test.

Asserts only on completeness and output shape, never on speed, so it cannot
flake on a slow or busy machine.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_servers import resolve_executable

RUN_PY = Path(__file__).resolve().parents[1] / "run.py"
SERVERS = ["cadenza", "temporal"]


def run_tiny(server: str, workload: str, options: list[str], tmp_path: Path) -> tuple[str, dict[str, Any]]:
    """Run one workload on one server; its table and its figures from the JSON document."""
    if resolve_executable(server) is None:
        pytest.skip(f"{server} executable not installed")
    out = tmp_path / "results.json"
    argv = [sys.executable, str(RUN_PY), "--only", server, "--workloads", workload, "--warmup", "1"]
    argv += ["--json", str(out), *options]
    completed = subprocess.run(argv, capture_output=True, text=True, timeout=110, check=False)
    assert completed.returncode == 0, completed.stderr + completed.stdout
    figures = json.loads(out.read_text())[workload]["servers"][server]
    assert figures["ok"] is True, figures
    return completed.stdout, figures


@pytest.mark.parametrize("server", SERVERS)
def test_tiny_fanout(server: str, tmp_path: Path) -> None:
    options = ["--fanout-sizes", "3,12", "--fanout-workflows", "2"]
    table, fanout = run_tiny(server, "fanout", options, tmp_path)
    assert "N=12: server CPU ms / activity" in table
    assert "server CPU / activity, largest N / smallest" in table
    assert (fanout["workflows_ok"], fanout["workflows_failed"]) == (4, 0)
    assert set(fanout["by_size"]) == {"3", "12"}
    assert fanout["by_size"]["12"]["activities_per_s"] > 0
    assert "cpu_ms_per_activity" in fanout["growth"]


@pytest.mark.parametrize("server", SERVERS)
def test_tiny_history(server: str, tmp_path: Path) -> None:
    options = ["--history-events", "60", "--history-width", "4", "--history-fetches", "2"]
    table, history = run_tiny(server, "history", options, tmp_path)
    assert "full history fetch p50 (ms)" in table
    assert history["workflows_ok"] == 1
    assert history["events"] >= 60
    assert history["fetch_pages"] >= 1
    assert history["fetch_p50_ms"] > 0
    assert history["task_first_p50_ms"] is not None
    assert history["activity_last_p50_ms"] is not None


@pytest.mark.parametrize("server", SERVERS)
def test_tiny_scale(server: str, tmp_path: Path) -> None:
    options = ["--scale-sizes", "4,12", "--scale-workflows", "3", "--scale-concurrency", "2"]
    options += ["--scale-sequential", "2", "--list-concurrency", "4"]
    table, scale = run_tiny(server, "scale", options, tmp_path)
    assert "12 stored: server CPU ms / workflow" in table
    assert (scale["workflows_ok"], scale["workflows_failed"]) == (10, 0)
    assert set(scale["by_size"]) == {"4", "12"}
    assert scale["by_size"]["12"]["idle_rss_mb"] > 0
    assert scale["peak_rss_mb"] > 0
