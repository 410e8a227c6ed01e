"""Unit tests for the pure summarising/formatting code (no servers, no timings)."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_report import ServerResult, compute_ratios, format_table, percentile


def test_percentile_interpolates_between_ranks() -> None:
    values = [4.0, 1.0, 3.0, 2.0]
    assert percentile(values, 0) == 1.0
    assert percentile(values, 100) == 4.0
    assert percentile(values, 50) == 2.5
    assert math.isclose(percentile(list(map(float, range(101))), 99), 99.0)


def test_percentile_of_nothing_is_nan() -> None:
    assert math.isnan(percentile([], 50))


def _result(server: str, throughput: float, p50: float, cpu: float) -> ServerResult:
    return ServerResult(
        server=server,
        ok=True,
        throughput_wfps=throughput,
        concurrent_p50_ms=p50,
        cpu_s_per_1000=cpu,
    )


def test_ratios_are_oriented_as_documented() -> None:
    cadenza = _result("cadenza", throughput=200.0, p50=10.0, cpu=5.0)
    temporal = _result("temporal", throughput=100.0, p50=40.0, cpu=20.0)
    ratios = {r.key: r for r in compute_ratios(cadenza, temporal)}
    assert ratios["throughput"].value == 2.0
    assert ratios["throughput"].label == "cadenza/temporal"
    assert ratios["concurrent_p50"].value == 4.0
    assert ratios["concurrent_p50"].label == "temporal/cadenza"
    assert ratios["cpu_per_1000"].value == 0.25
    assert ratios["cpu_per_1000"].label == "cadenza/temporal"


def test_ratios_are_nan_when_a_figure_is_missing_or_zero() -> None:
    cadenza = ServerResult(server="cadenza")
    temporal = _result("temporal", throughput=0.0, p50=40.0, cpu=20.0)
    ratios = {r.key: r.value for r in compute_ratios(cadenza, temporal)}
    assert math.isnan(ratios["throughput"])
    assert math.isnan(ratios["concurrent_p50"])


def test_table_has_ratio_column_only_when_comparing() -> None:
    temporal = _result("temporal", throughput=100.0, p50=40.0, cpu=20.0)
    alone = format_table([temporal], [])
    assert "temporal" in alone
    assert "100.0" in alone
    assert "cadenza vs temporal" not in alone

    cadenza = _result("cadenza", throughput=200.0, p50=10.0, cpu=5.0)
    both = format_table([cadenza, temporal], compute_ratios(cadenza, temporal))
    assert "2.00x (cadenza/temporal)" in both
    assert "4.00x (temporal/cadenza)" in both


def test_missing_figures_render_as_dash() -> None:
    table = format_table([ServerResult(server="cadenza")], [])
    throughput_row = next(line for line in table.splitlines() if "throughput" in line)
    assert throughput_row.endswith(" -")
    assert "nan" not in table


def test_json_form_replaces_nan_with_null() -> None:
    encoded = json.dumps(ServerResult(server="cadenza").to_json(), allow_nan=False)
    assert json.loads(encoded)["throughput_wfps"] is None
