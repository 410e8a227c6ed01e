"""Unit tests for the signal/query workload helpers and their report (fake handles, no servers)."""

from __future__ import annotations

import asyncio
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_defs import CounterWorkflow
from bench_report import CallResult, compute_call_ratios, format_call_table
from bench_rpc import CounterHandle, SignalSender, finish_and_check, query_batch, run_calls, start_value


class FakeHandle:
    """Stands in for a CounterWorkflow handle: counts increments, answers queries, finishes."""

    def __init__(self, index: int, fail_every: int = 0) -> None:
        self.id = f"wf-{index}"
        self.count = start_value(index)
        self.calls = 0
        self.fail_every = fail_every
        self.finished = False

    async def signal(self, signal: Any) -> None:
        await asyncio.sleep(0)
        self.calls += 1
        if self.fail_every and self.calls % self.fail_every == 0:
            raise RuntimeError("signal rejected")
        if signal is CounterWorkflow.increment:
            self.count += 1
        elif signal is CounterWorkflow.finish:
            self.finished = True

    async def query(self, query: Any) -> int:
        assert query is CounterWorkflow.count
        await asyncio.sleep(0)
        return self.count

    async def result(self) -> int:
        assert self.finished
        return self.count


def as_handles(fakes: Sequence[FakeHandle]) -> list[CounterHandle]:
    return cast(list[CounterHandle], list(fakes))


def test_run_calls_times_successes_and_counts_failures() -> None:
    async def call(index: int) -> None:
        await asyncio.sleep(0)
        if index % 4 == 3:
            raise ValueError(f"no {index}")

    phase = asyncio.run(run_calls(call, 10, 3))
    assert len(phase.latencies_s) == 8
    assert phase.failures == 2
    assert phase.first_error is not None
    assert phase.first_error.startswith("ValueError: no ")
    assert phase.wall_s > 0


def test_run_calls_respects_the_concurrency_bound() -> None:
    in_flight = peak = 0

    async def call(index: int) -> None:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0)
        in_flight -= 1

    asyncio.run(run_calls(call, 20, 4))
    assert peak == 4


def test_signals_are_spread_round_robin_across_batches_and_checked() -> None:
    fakes = [FakeHandle(i) for i in range(3)]
    sender = SignalSender(as_handles(fakes))

    async def scenario() -> tuple[int, int]:
        warm = await sender.batch(2, 2)
        measured = await sender.batch(7, 3)
        completion = await finish_and_check(as_handles(fakes), sender.expected_results())
        return len(warm.latencies_s) + len(measured.latencies_s), completion.ok

    assert asyncio.run(scenario()) == (9, 3)
    assert sender.delivered == [3, 3, 3]
    assert sender.expected_results() == [4, 5, 6]


def test_lost_signals_fail_the_check() -> None:
    fakes = [FakeHandle(0), FakeHandle(1)]
    sender = SignalSender(as_handles(fakes))

    async def scenario() -> None:
        await sender.batch(4, 2)
        fakes[1].count -= 1  # the server "lost" one acknowledged signal
        completion = await finish_and_check(as_handles(fakes), sender.expected_results())
        assert (completion.ok, completion.failed) == (1, 1)
        assert completion.first_error == "wf-1 counted 3, expected 4 (signals lost or duplicated)"

    asyncio.run(scenario())


def test_rejected_signals_are_not_expected_to_arrive() -> None:
    fakes = [FakeHandle(0, fail_every=2)]
    sender = SignalSender(as_handles(fakes))
    phase = asyncio.run(sender.batch(4, 1))
    assert (len(phase.latencies_s), phase.failures) == (2, 2)
    assert sender.expected_results() == [1 + 2]


def test_queries_check_each_answer() -> None:
    fakes = [FakeHandle(i) for i in range(2)]
    phase = asyncio.run(query_batch(as_handles(fakes), 6, 2))
    assert (len(phase.latencies_s), phase.failures) == (6, 0)
    fakes[0].count = 99
    phase = asyncio.run(query_batch(as_handles(fakes), 6, 2))
    assert (len(phase.latencies_s), phase.failures) == (3, 3)
    assert phase.first_error == "ValueError: wf-0 answered 99, expected 1"


def _calls(server: str, latencies_ms: Sequence[float], wall_s: float, cpu: float) -> CallResult:
    result = CallResult(server=server, workflows_ok=10, cpu_s_per_1000=cpu)
    result.apply_latencies([ms / 1000 for ms in latencies_ms], wall_s)
    return result


def test_call_ratios_and_table() -> None:
    cadenza = _calls("cadenza", [10.0, 20.0], wall_s=0.1, cpu=1.0)
    temporal = _calls("temporal", [40.0, 80.0], wall_s=0.4, cpu=4.0)
    ratios = {r.key: r for r in compute_call_ratios(cadenza, temporal)}
    assert math.isclose(ratios["throughput"].value, 4.0)
    assert ratios["throughput"].label == "cadenza/temporal"
    assert math.isclose(ratios["p50"].value, 4.0)
    assert ratios["p50"].label == "temporal/cadenza"
    assert math.isclose(ratios["cpu_per_1000"].value, 0.25)
    table = format_call_table("query", [cadenza, temporal], list(ratios.values()))
    assert "queries ok / failed" in table
    assert "2/0" in table
    row = next(line for line in table.splitlines() if line.startswith("query latency p50"))
    assert "15.0" in row
    assert "60.0" in row
    assert row.endswith("4.00x (temporal/cadenza)")
    assert "signals / s" in format_call_table("signal", [cadenza], [])


def test_empty_call_result_renders_dashes_and_null_json() -> None:
    table = format_call_table("signal", [CallResult(server="cadenza")], [])
    assert "nan" not in table
    assert next(line for line in table.splitlines() if "p99" in line).endswith(" -")
    encoded = json.loads(json.dumps(CallResult(server="x").to_json(), allow_nan=False))
    assert encoded["p50_ms"] is None
    assert encoded["calls_ok"] == 0
    assert "calls_cell" not in encoded
