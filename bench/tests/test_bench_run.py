"""Unit tests for argument handling and result assembly in run.py (no servers)."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_driver import PhaseResult
from bench_report import ServerResult
from run import CpuReading, apply_phases, parse_args, ratios_for, results_document, selected_servers


def test_defaults_match_the_documented_workload() -> None:
    config = parse_args([])
    assert (config.workflows, config.concurrency, config.sequential) == (500, 50, 50)
    assert config.only is None
    assert config.json_path is None


def test_only_restricts_the_server_list() -> None:
    assert selected_servers(parse_args(["--only", "temporal"]).only) == ["temporal"]
    assert selected_servers(None) == ["cadenza", "temporal"]


@pytest.mark.parametrize("argv", [["--workflows", "0"], ["--concurrency", "-1"], ["--only", "x"]])
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


def test_results_document_is_strict_json(tmp_path: Path) -> None:
    config = parse_args(["--json", str(tmp_path / "out.json")])
    results = [ServerResult(server="cadenza"), ServerResult(server="temporal")]
    document = json.loads(json.dumps(results_document(config, results), allow_nan=False))
    assert set(document["servers"]) == {"cadenza", "temporal"}
    assert document["ratios"]["throughput"]["value"] is None
    assert document["config"]["json_path"].endswith("out.json")
