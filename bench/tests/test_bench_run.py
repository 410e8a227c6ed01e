"""Unit tests for argument handling and result assembly in run.py (no servers)."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_driver import PhaseResult
from bench_report import CallResult, ServerResult, TimerResult
from bench_rpc import Completion
from bench_timers import TimerLateness, TimerSample
from run import (
    CpuReading,
    RunResults,
    apply_call_run,
    apply_phases,
    apply_timer_run,
    parse_args,
    ratios_for,
    report,
    results_document,
    selected_servers,
)


def test_defaults_match_the_documented_workload() -> None:
    config = parse_args([])
    assert (config.workflows, config.concurrency, config.sequential) == (500, 50, 50)
    assert config.only is None
    assert config.json_path is None
    assert config.workloads == ("activity", "timers", "signal", "query")
    assert (config.timer_workflows, config.timer_concurrency) == (100, 50)
    assert (config.signals, config.signal_workflows, config.signal_concurrency) == (500, 10, 20)
    assert (config.queries, config.query_workflows, config.query_concurrency) == (300, 10, 10)
    assert any(d < 1 for d in config.timer_durations)
    assert any(d >= 1 for d in config.timer_durations)


def test_workloads_are_selectable_and_run_in_a_fixed_order() -> None:
    assert parse_args(["--workloads", "timers"]).workloads == ("timers",)
    assert parse_args(["--workloads", "timers,activity"]).workloads == ("activity", "timers")
    assert parse_args(["--workloads", "query,signal"]).workloads == ("signal", "query")
    assert parse_args(["--timer-durations", "2,0.5"]).timer_durations == (2.0, 0.5)


def test_only_restricts_the_server_list() -> None:
    assert selected_servers(parse_args(["--only", "temporal"]).only) == ["temporal"]
    assert selected_servers(None) == ["cadenza", "temporal"]


@pytest.mark.parametrize(
    "argv",
    [
        ["--workflows", "0"],
        ["--concurrency", "-1"],
        ["--only", "x"],
        ["--workloads", "activity,sleepy"],
        ["--workloads", ","],
        ["--timer-durations", "0.5,0"],
        ["--timer-durations", "1,x"],
        ["--timer-durations", "nan"],
        ["--timer-workflows", "0"],
        ["--signals", "0"],
        ["--signal-workflows", "0"],
        ["--query-concurrency", "0"],
        ["--workloads", "signals"],
    ],
)
def test_invalid_arguments_are_rejected(argv: list[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args(argv)


def test_apply_phases_derives_headline_figures() -> None:
    result = ServerResult(server="temporal")
    concurrent = PhaseResult(latencies_s=[0.1, 0.2, 0.3, 0.4], wall_s=2.0)
    sequential = PhaseResult(latencies_s=[0.05], wall_s=0.05, failures=1, first_error="boom")
    apply_phases(result, concurrent, sequential, cpu=CpuReading(server_s=1.0, driver_s=0.5, worker_s=0.25))
    assert result.workflows_ok == 5
    assert result.workflows_failed == 1
    assert result.throughput_wfps == 2.0
    assert math.isclose(result.concurrent_p50_ms, 250.0)
    assert math.isclose(result.sequential_p50_ms, 50.0)
    assert math.isclose(result.cpu_s_per_1000, 200.0)
    assert math.isclose(result.driver_cpu_s_per_1000, 100.0)
    assert math.isclose(result.worker_cpu_s_per_1000, 50.0)
    assert result.error == "boom"


def test_ratios_need_both_servers() -> None:
    assert ratios_for([ServerResult(server="temporal")]) == []
    both = [ServerResult(server="cadenza"), ServerResult(server="temporal")]
    assert {r.key for r in ratios_for(both)} >= {"throughput", "cpu_per_1000"}


def _both_results() -> RunResults:
    return RunResults(
        activity=[ServerResult(server="cadenza"), ServerResult(server="temporal")],
        timers=[TimerResult(server="cadenza"), TimerResult(server="temporal")],
        signal=[CallResult(server="cadenza"), CallResult(server="temporal")],
        query=[CallResult(server="cadenza"), CallResult(server="temporal")],
    )


def test_results_document_is_strict_json(tmp_path: Path) -> None:
    config = parse_args(["--json", str(tmp_path / "out.json")])
    document = json.loads(json.dumps(results_document(config, _both_results()), allow_nan=False))
    assert set(document["servers"]) == {"cadenza", "temporal"}
    assert document["ratios"]["throughput"]["value"] is None
    assert document["config"]["json_path"].endswith("out.json")
    assert document["config"]["workloads"] == ["activity", "timers", "signal", "query"]
    assert set(document["timers"]["servers"]) == {"cadenza", "temporal"}
    assert document["timers"]["ratios"]["lateness_p50"]["value"] is None
    for workload in ("signal", "query"):
        assert set(document[workload]["servers"]) == {"cadenza", "temporal"}
        assert document[workload]["ratios"]["p99"]["value"] is None
        assert document[workload]["ratios"]["p99"]["meaning"] == "temporal/cadenza"


def test_results_document_leaves_out_workloads_not_run() -> None:
    config = parse_args(["--workloads", "activity"])
    results = RunResults(activity=[ServerResult(server="temporal")])
    document = results_document(config, results)
    assert "timers" not in document
    assert "signal" not in document
    assert "query" not in document
    assert set(document["servers"]) == {"temporal"}
    only_query = results_document(parse_args(["--workloads", "query"]), _both_results())
    assert "query" in only_query
    assert "signal" not in only_query


def test_report_prints_one_table_per_selected_workload() -> None:
    both = report(parse_args([]), _both_results())
    assert "concurrent throughput" in both
    assert "timers workload" in both
    assert "lateness p50, all (ms)" in both
    timers_only = report(parse_args(["--workloads", "timers"]), RunResults(timers=_both_results().timers))
    assert "concurrent throughput" not in timers_only
    assert "lateness p99, >= 1 s timers (ms)" in timers_only
    assert "signal workload: 500 signals over 10 workflows" in both
    assert "signal latency p99 (ms)" in both
    assert "query workload: 300 queries over 10 workflows" in both
    assert "queries / s" in both
    signal_only = report(parse_args(["--workloads", "signal"]), RunResults(signal=_both_results().signal))
    assert "signal latency p50 (ms)" in signal_only
    assert "query latency" not in signal_only
    assert "lateness" not in signal_only


def test_apply_call_run_summarises_the_calls() -> None:
    result = CallResult(server="cadenza")
    phase = PhaseResult(latencies_s=[0.01, 0.02, 0.03, 0.04], wall_s=0.5)
    cpu = CpuReading(server_s=0.2, driver_s=0.1, worker_s=0.4)
    apply_call_run(result, phase, cpu, Completion(ok=3))
    assert (result.calls_ok, result.calls_failed) == (4, 0)
    assert (result.workflows_ok, result.workflows_failed) == (3, 0)
    assert result.calls_per_s == 8.0
    assert math.isclose(result.p50_ms, 25.0)
    assert math.isclose(result.max_ms, 40.0)
    assert math.isclose(result.cpu_s_per_1000, 50.0)
    assert math.isclose(result.driver_cpu_s_per_1000, 25.0)
    assert math.isclose(result.worker_cpu_s_per_1000, 100.0)
    assert result.error is None


def test_apply_call_run_reports_failed_calls_and_wrong_counts() -> None:
    result = CallResult(server="temporal")
    phase = PhaseResult(latencies_s=[0.01], wall_s=0.1, failures=2, first_error="RPCError: boom")
    wrong = Completion(ok=1, failed=1, first_error="wf-1 counted 3, expected 4")
    apply_call_run(result, phase, CpuReading(), wrong)
    assert (result.calls_ok, result.calls_failed, result.workflows_failed) == (1, 2, 1)
    assert result.error == "RPCError: boom"
    result = CallResult(server="temporal")
    apply_call_run(result, PhaseResult(latencies_s=[0.01], wall_s=0.1), CpuReading(), wrong)
    assert result.error == "wf-1 counted 3, expected 4"


def test_all_ok_covers_every_workload() -> None:
    results = RunResults(signal=[CallResult(server="cadenza", ok=True)])
    assert results.all_ok()
    results.query.append(CallResult(server="cadenza", ok=False))
    assert not results.all_ok()


def test_apply_timer_run_summarises_the_histories() -> None:
    result = TimerResult(server="cadenza")
    phase = PhaseResult(latencies_s=[3.0, 3.1], wall_s=3.2)
    lateness = TimerLateness(samples=[TimerSample(0.5, 0.01), TimerSample(2.0, 0.03)] * 2)
    apply_timer_run(result, phase, lateness, server_cpu_s=0.5, timers_per_workflow=2)
    assert (result.workflows_ok, result.workflows_failed, result.timers_fired) == (2, 0, 4)
    assert result.wall_s == 3.2
    assert math.isclose(result.cpu_s_per_1000, 250.0)
    assert math.isclose(result.subsecond_p50_ms, 10.0)
    assert math.isclose(result.long_p50_ms, 30.0)
    assert result.error is None


def test_apply_timer_run_flags_missing_timers() -> None:
    result = TimerResult(server="cadenza")
    lateness = TimerLateness(samples=[TimerSample(0.5, 0.01)], unfired=1)
    apply_timer_run(result, PhaseResult(latencies_s=[1.0]), lateness, server_cpu_s=0.0, timers_per_workflow=2)
    assert result.error is not None
    assert "expected 2" in result.error
