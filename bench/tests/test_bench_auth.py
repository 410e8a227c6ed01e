"""The `cadenza-auth` server variant and the auth-cost section of the report."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_auth import CADENZA_AUTH, auth_ratios_for, auth_report, compute_auth_ratios
from bench_driver import run_sequential, worker_process
from bench_report import ServerResult
from bench_servers import resolve_executable
from run import (
    RunResults,
    fresh_workload,
    parse_args,
    report,
    results_document,
    running_server,
    selected_servers,
)

RUN_PY = Path(__file__).resolve().parents[1] / "run.py"


def test_auth_variant_runs_only_when_named() -> None:
    assert CADENZA_AUTH not in selected_servers(parse_args([]).only)
    only = parse_args(["--only", "cadenza-auth,cadenza"]).only
    assert selected_servers(only) == ["cadenza", "cadenza-auth"]
    with pytest.raises(SystemExit):
        parse_args(["--only", "cadenza,cadenza-authz"])


def test_ratios_are_auth_on_over_off() -> None:
    off = ServerResult(server="cadenza", cpu_s_per_1000=10.0, sequential_p50_ms=20.0)
    on = ServerResult(server=CADENZA_AUTH, cpu_s_per_1000=12.0, sequential_p50_ms=25.0)
    ratios = {r.key: r.value for r in compute_auth_ratios(off, on)}
    assert ratios["auth_cpu_per_1000"] == pytest.approx(1.2)
    assert ratios["auth_sequential_p50"] == pytest.approx(1.25)
    assert auth_ratios_for([off]) == []
    assert auth_report([on]) is None


def test_report_and_document_hold_the_auth_section_when_both_variants_ran() -> None:
    off = ServerResult(server="cadenza", cpu_s_per_1000=10.0)
    on = ServerResult(server=CADENZA_AUTH, cpu_s_per_1000=15.0)
    config = parse_args(["--workloads", "activity", "--only", "cadenza,cadenza-auth"])
    results = RunResults(activity=[off, on])
    assert "auth cost" in report(config, results)
    assert "1.50x" in report(config, results)
    document = json.loads(json.dumps(results_document(config, results), allow_nan=False))
    assert document["auth"]["ratios"]["auth_cpu_per_1000"]["value"] == pytest.approx(1.5)
    plain = RunResults(activity=[off])
    assert "auth" not in results_document(config, plain)
    assert "auth cost" not in report(config, plain)


async def test_auth_variant_refuses_plain_clients_and_audits_what_the_key_does(tmp_path: Path) -> None:
    async with running_server(CADENZA_AUTH, tmp_path) as srv:
        assert srv.api_key is not None
        plain = await Client.connect(srv.target)
        with pytest.raises(RPCError) as refused:
            await plain.count_workflows()
        assert refused.value.status == RPCStatusCode.UNAUTHENTICATED
        load = fresh_workload(srv.client)
        async with worker_process(srv.target, load.task_queue, tmp_path / "worker.log", api_key=srv.api_key):
            phase = await run_sequential(load, 2)
        assert (len(phase.latencies_s), phase.failures) == (2, 0), phase.first_error
    exe = resolve_executable("cadenza")
    assert exe is not None
    argv = [str(exe), "audit", "list", "--db", str(tmp_path / "cadenza.db"), "--json"]
    listed = await asyncio.to_thread(
        subprocess.run, argv, capture_output=True, text=True, timeout=60, check=True
    )
    started = [
        row for row in map(json.loads, listed.stdout.splitlines()) if "StartWorkflow" in json.dumps(row)
    ]
    assert len(started) == 2


def test_tiny_run_of_both_cadenza_variants(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    argv = [sys.executable, str(RUN_PY), "--only", "cadenza,cadenza-auth", "--workloads", "activity"]
    argv += [
        "--workflows",
        "4",
        "--concurrency",
        "2",
        "--sequential",
        "2",
        "--warmup",
        "1",
        "--json",
        str(out),
    ]
    completed = subprocess.run(argv, capture_output=True, text=True, timeout=110, check=False)
    assert completed.returncode == 0, completed.stderr + completed.stdout
    assert "auth cost" in completed.stdout
    document = json.loads(out.read_text())
    for name in ("cadenza", CADENZA_AUTH):
        assert document["servers"][name]["ok"] is True
        assert document["servers"][name]["workflows_ok"] == 6
    assert document["auth"]["ratios"]["auth_cpu_per_1000"]["meaning"] == "cadenza-auth/cadenza"
