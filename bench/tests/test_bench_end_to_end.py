"""Runs the real benchmark, tiny, against the Temporal dev server.

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
    completed = subprocess.run(argv, capture_output=True, text=True, timeout=110, check=False)
    assert completed.returncode == 0, completed.stderr + completed.stdout
    assert "concurrent throughput" in completed.stdout
    temporal = json.loads(out.read_text())["servers"]["temporal"]
    assert temporal["ok"] is True
    assert (temporal["workflows_ok"], temporal["workflows_failed"]) == (8, 0)
    assert temporal["peak_rss_mb"] > 0
    assert temporal["cpu_s_per_1000"] > 0
