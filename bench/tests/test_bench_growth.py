"""Unit tests for the fanout, history and scale workloads' figures, tables and options (no servers)."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import (
    ActivityTaskCompletedEventAttributes,
    HistoryEvent,
    WorkflowTaskCompletedEventAttributes,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_driver import PhaseResult
from bench_fanout import FANOUT_GROWTH_ROWS, FANOUT_METRICS, apply_fanout
from bench_history import HistoryResult, compute_history_ratios, first_and_last, format_history_table, spans
from bench_report import CallResult
from bench_scale import SCALE_METRICS, apply_scale
from bench_sized import SizedResult, compute_sized_ratios, format_sized_table
from run import RunResults, parse_args, report, results_document, scale_sizes

BASE_NS = 1_700_000_000 * 1_000_000_000
MS = 1_000_000


def test_growth_workloads_are_off_by_default_and_selectable() -> None:
    config = parse_args([])
    assert not {"fanout", "history", "scale"} & set(config.workloads)
    assert config.fanout_sizes == (100, 1000)
    assert config.history_events == 10_000
    assert config.scale_sizes == (10_000, 100_000)
    assert not config.scale_million
    chosen = parse_args(["--workloads", "scale,fanout,history,activity"]).workloads
    assert chosen == ("activity", "fanout", "history", "scale")
    assert parse_args(["--fanout-sizes", "1000,100,100"]).fanout_sizes == (100, 1000)


@pytest.mark.parametrize(
    "argv", [["--fanout-sizes", "0,10"], ["--scale-sizes", "x"], ["--history-events", "0"]]
)
def test_bad_sizes_are_rejected(argv: list[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args(argv)


def test_the_million_is_behind_a_flag_and_temporal_may_store_fewer() -> None:
    config = parse_args(["--scale-sizes", "10,20", "--scale-temporal-sizes", "5"])
    assert scale_sizes("cadenza", config) == (10, 20)
    assert scale_sizes("temporal", config) == (5,)
    million = parse_args(["--scale-sizes", "10", "--scale-million"])
    assert scale_sizes("cadenza", million) == (10, 1_000_000)


def test_fanout_figures_per_width_and_growth() -> None:
    result = SizedResult(server="cadenza")
    apply_fanout(
        result, 100, PhaseResult(latencies_s=[1.0, 1.0], wall_s=2.0), server_cpu_s=0.5, worker_cpu_s=1.0
    )
    apply_fanout(
        result, 1000, PhaseResult(latencies_s=[10.0], wall_s=10.0), server_cpu_s=3.0, worker_cpu_s=2.0
    )
    assert result.sizes() == [100, 1000]
    assert result.workflows_ok == 3
    assert math.isclose(result.get(100, "activities_per_s"), 100.0)
    assert math.isclose(result.get(100, "cpu_ms_per_activity"), 2.5)
    assert math.isclose(result.get(1000, "cpu_ms_per_activity"), 3.0)
    result.compute_growth([key for _, key in FANOUT_GROWTH_ROWS])
    assert math.isclose(result.growth["cpu_ms_per_activity"], 1.2)


def test_sized_ratios_table_and_json() -> None:
    cadenza, temporal = SizedResult(server="cadenza"), SizedResult(server="temporal")
    for result, cpu in ((cadenza, 0.25), (temporal, 1.0)):
        apply_fanout(
            result, 10, PhaseResult(latencies_s=[1.0], wall_s=1.0), server_cpu_s=cpu, worker_cpu_s=0.1
        )
        result.compute_growth(["cpu_ms_per_activity"])
    ratios = {r.key: r for r in compute_sized_ratios(cadenza, temporal, FANOUT_METRICS)}
    assert math.isclose(ratios["cpu_ms_per_activity@10"].value, 0.25)
    assert ratios["cpu_ms_per_activity@10"].label == "cadenza/temporal"
    assert ratios["p50_ms@10"].label == "temporal/cadenza"
    assert "worker_cpu_ms_per_activity@10" not in ratios
    table = format_sized_table([cadenza, temporal], list(ratios.values()), FANOUT_METRICS, FANOUT_GROWTH_ROWS)
    assert "N=10: server CPU ms / activity" in table
    assert "0.25x (cadenza/temporal)" in table
    assert "nan" not in table
    encoded = json.loads(json.dumps(cadenza.to_json(), allow_nan=False))
    assert encoded["growth"] == {"cpu_ms_per_activity": None}  # one size: no growth
    assert encoded["by_size"]["10"]["cpu_ms_per_activity"] == pytest.approx(25.0)


def test_scale_figures() -> None:
    result = SizedResult(server="cadenza")
    apply_scale(result, 1000, PhaseResult([0.1] * 8, 1.0), PhaseResult([0.02, 0.04], 0.06), server_cpu_s=0.1)
    assert math.isclose(result.get(1000, "cpu_ms_per_wf"), 10.0)
    assert math.isclose(result.get(1000, "throughput_wfps"), 8.0)
    assert math.isclose(result.get(1000, "sequential_p50_ms"), 30.0)
    table = format_sized_table([result], [], SCALE_METRICS)
    assert "1,000 stored: server CPU ms / workflow" in table
    assert "-" in table  # populate rate and RSS were not recorded


def _event(event_id: int, at_ms: int, kind: EventType.ValueType, scheduled: int = 0) -> HistoryEvent:
    stamp = Timestamp()
    stamp.FromNanoseconds(BASE_NS + at_ms * MS)
    event = HistoryEvent(event_id=event_id, event_time=stamp, event_type=kind)
    if kind == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
        event.workflow_task_completed_event_attributes.CopyFrom(
            WorkflowTaskCompletedEventAttributes(scheduled_event_id=scheduled)
        )
    if kind == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
        event.activity_task_completed_event_attributes.CopyFrom(
            ActivityTaskCompletedEventAttributes(scheduled_event_id=scheduled)
        )
    return event


def test_history_latencies_come_from_server_timestamps() -> None:
    task_scheduled = EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED
    task_done = EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
    act_scheduled = EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    act_done = EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED
    events = [
        _event(1, 0, task_scheduled),
        _event(2, 10, task_done, scheduled=1),
        _event(3, 10, act_scheduled),
        _event(4, 40, act_done, scheduled=3),
        _event(5, 40, task_scheduled),
        _event(6, 70, task_done, scheduled=5),
    ]
    assert [round(s * 1000) for s in spans(events, task_scheduled, task_done)] == [10, 30]
    result = HistoryResult(server="cadenza")
    result.apply_history(events)
    assert result.events == 6
    assert (round(result.task_first_p50_ms), round(result.task_last_p50_ms)) == (10, 30)
    assert math.isclose(result.task_growth, 3.0)
    assert math.isclose(result.activity_growth, 1.0)


def test_first_and_last_take_a_tenth_each() -> None:
    first, last, growth = first_and_last([0.001] * 10 + [0.005] * 80 + [0.002] * 10)
    assert (round(first, 3), round(last, 3), round(growth, 3)) == (1.0, 2.0, 2.0)
    assert all(math.isnan(x) for x in first_and_last([]))


def test_history_table_and_report() -> None:
    cadenza, temporal = HistoryResult(server="cadenza"), HistoryResult(server="temporal")
    cadenza.cpu_ms_per_event, temporal.cpu_ms_per_event = 0.5, 2.0
    ratios = compute_history_ratios(cadenza, temporal)
    assert "0.25x (cadenza/temporal)" in format_history_table([cadenza, temporal], ratios)
    config = parse_args(["--workloads", "fanout,history,scale"])
    results = RunResults(
        fanout=[SizedResult(server="cadenza")],
        history=[cadenza, temporal],
        scale=[SizedResult(server="cadenza")],
    )
    text = report(config, results)
    assert "fanout workload" in text
    assert "history workload: one workflow grown to 10000 events" in text
    assert "scale workload" in text
    document = json.loads(json.dumps(results_document(config, results), allow_nan=False))
    assert set(document["history"]["servers"]) == {"cadenza", "temporal"}
    assert document["history"]["ratios"]["cpu_per_event"]["value"] == pytest.approx(0.25)
    assert document["fanout"]["ratios"] == {}
    assert "list" not in document


def test_one_at_a_time_server_cpu_per_call() -> None:
    result = CallResult(server="cadenza")
    result.apply_sequential([0.01, 0.01, 0.01, 0.01], server_cpu_s=0.002)
    assert math.isclose(result.sequential_cpu_ms, 0.5)
    result.apply_sequential([])
    assert math.isclose(result.sequential_cpu_ms, 0.5)  # nothing succeeded: left as it was
