"""Runs the real benchmark (every workload), tiny, against the Temporal dev server.

Asserts only on completeness and output shape, never on speed, so it cannot
flake on a slow or busy machine.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_servers import resolve_executable

RUN_PY = Path(__file__).resolve().parents[1] / "run.py"


@pytest.mark.skipif(resolve_executable("temporal") is None, reason="temporal CLI not installed")
def test_tiny_run_against_temporal(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    argv = [sys.executable, str(RUN_PY), "--only", "temporal", "--workflows", "6"]
    argv += ["--concurrency", "3", "--sequential", "2", "--warmup", "1", "--json", str(out)]
    argv += ["--timer-workflows", "2", "--timer-concurrency", "2", "--timer-durations", "0.1,1"]
    argv += ["--signals", "8", "--signal-workflows", "2", "--signal-concurrency", "3"]
    argv += ["--queries", "5", "--query-workflows", "2", "--query-concurrency", "2"]
    completed = subprocess.run(argv, capture_output=True, text=True, timeout=110, check=False)
    assert completed.returncode == 0, completed.stderr + completed.stdout
    assert "concurrent throughput" in completed.stdout
    assert "lateness p50, all (ms)" in completed.stdout
    assert "signal latency p50 (ms)" in completed.stdout
    assert "query latency p50 (ms)" in completed.stdout
    document = json.loads(out.read_text())
    temporal = document["servers"]["temporal"]
    assert temporal["ok"] is True
    assert (temporal["workflows_ok"], temporal["workflows_failed"]) == (8, 0)
    assert temporal["peak_rss_mb"] > 0
    assert temporal["cpu_s_per_1000"] > 0
    timers = document["timers"]["servers"]["temporal"]
    assert timers["ok"] is True
    assert (timers["workflows_ok"], timers["timers_fired"]) == (2, 4)
    assert set(timers["by_duration"]) == {"0.1", "1"}
    assert timers["lateness_p50_ms"] is not None
    for workload, calls in (("signal", 8), ("query", 5)):
        figures = document[workload]["servers"]["temporal"]
        assert figures["ok"] is True, figures
        assert (figures["calls_ok"], figures["calls_failed"]) == (calls, 0)
        assert (figures["workflows_ok"], figures["workflows_failed"]) == (2, 0)
        assert figures["p50_ms"] is not None
