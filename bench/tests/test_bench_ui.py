"""Runs the UI workload, tiny, on Cadenza: a new store is populated and every page timed; given
the same file again, the store is reused. Asserts only on completeness and output shape, never on
speed, so it cannot flake on a slow or busy machine."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_servers import resolve_executable

BENCH_UI = Path(__file__).resolve().parents[1] / "bench_ui.py"
PAGES = 13


def run_tiny(db: Path) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, str(BENCH_UI), "--db", str(db), "--executions", "120", "--rounds", "2"]
    argv += ["--width", "3", "--repeats", "2", "--warmup", "0"]
    completed = subprocess.run(argv, capture_output=True, text=True, timeout=110, check=False)
    assert completed.returncode == 0, completed.stderr + completed.stdout
    return completed


def test_tiny_ui_workload_populates_once_and_times_every_page(tmp_path: Path) -> None:
    if resolve_executable("cadenza") is None:
        pytest.skip("cadenza executable not installed")
    db = tmp_path / "store" / "cadenza.db"
    first = run_tiny(db)
    assert "storing 120 executions" in first.stderr
    lines = first.stdout.splitlines()
    assert lines[0].startswith("121 executions stored; the run has ")
    rows = [line for line in lines if line.startswith("| ") and not line.startswith("| page")]
    assert len(rows) == PAGES
    assert all(len(row.split("|")) == 7 for row in rows)
    again = run_tiny(db)
    assert "reusing" in again.stderr and "storing" not in again.stderr
