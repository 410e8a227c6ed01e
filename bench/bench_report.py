"""Turning raw measurements into per-server summaries, ratios and a table.

Kept free of I/O and timing so it can be unit-tested deterministically.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

CADENZA = "cadenza"
TEMPORAL = "temporal"
MB = 1024 * 1024


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default), `q` in [0, 100].

    Interpolation keeps p99 meaningful for small samples such as the
    sequential phase, instead of collapsing to the maximum.
    """
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass
class ServerResult:
    """Headline figures for one server; NaN where a figure is unavailable."""

    server: str
    ok: bool = False
    error: str | None = None
    startup_s: float = math.nan
    workflows_ok: int = 0
    workflows_failed: int = 0
    throughput_wfps: float = math.nan
    concurrent_p50_ms: float = math.nan
    concurrent_p99_ms: float = math.nan
    sequential_p50_ms: float = math.nan
    sequential_p99_ms: float = math.nan
    cpu_s_per_1000: float = math.nan
    cpu_s_total: float = math.nan
    driver_cpu_s_per_1000: float = math.nan
    worker_cpu_s_per_1000: float = math.nan
    peak_rss_mb: float = math.nan

    def to_json(self) -> dict[str, Any]:
        """Dict for JSON output, with NaN mapped to null (NaN is not valid JSON)."""
        return {k: json_number(v) for k, v in asdict(self).items()}


def json_number(value: object) -> object:
    """Replace NaN floats with None."""
    return None if isinstance(value, float) and math.isnan(value) else value


@dataclass(frozen=True)
class Ratio:
    """One Cadenza-vs-Temporal comparison and which way round it was divided."""

    key: str
    label: str
    value: float


def _safe_div(num: float, den: float) -> float:
    """Division yielding NaN rather than raising for missing or zero inputs."""
    if math.isnan(num) or math.isnan(den) or den == 0:
        return math.nan
    return num / den


# (ratio key, ServerResult attribute, whether Cadenza is the numerator)
RATIO_SPECS: tuple[tuple[str, str, bool], ...] = (
    ("throughput", "throughput_wfps", True),
    ("concurrent_p50", "concurrent_p50_ms", False),
    ("concurrent_p99", "concurrent_p99_ms", False),
    ("sequential_p50", "sequential_p50_ms", False),
    ("sequential_p99", "sequential_p99_ms", False),
    ("cpu_per_1000", "cpu_s_per_1000", True),
    ("peak_rss", "peak_rss_mb", True),
)


def compute_ratios(cadenza: ServerResult, temporal: ServerResult) -> list[Ratio]:
    """Cadenza-vs-Temporal ratios.

    Throughput is cadenza/temporal and latencies temporal/cadenza, so for
    both > 1 means Cadenza is faster. CPU and RSS are cadenza/temporal cost
    ratios, so there < 1 means Cadenza is cheaper.
    """
    ratios = []
    for key, attr, cadenza_on_top in RATIO_SPECS:
        c, t = getattr(cadenza, attr), getattr(temporal, attr)
        if cadenza_on_top:
            ratios.append(Ratio(key, f"{CADENZA}/{TEMPORAL}", _safe_div(c, t)))
        else:
            ratios.append(Ratio(key, f"{TEMPORAL}/{CADENZA}", _safe_div(t, c)))
    return ratios


# (row label, ServerResult attribute, format, ratio key or None)
ROWS: tuple[tuple[str, str, str, str | None], ...] = (
    ("workflows ok / failed", "", "", None),
    ("startup (s)", "startup_s", "{:.2f}", None),
    ("concurrent throughput (wf/s)", "throughput_wfps", "{:.1f}", "throughput"),
    ("concurrent p50 latency (ms)", "concurrent_p50_ms", "{:.1f}", "concurrent_p50"),
    ("concurrent p99 latency (ms)", "concurrent_p99_ms", "{:.1f}", "concurrent_p99"),
    ("sequential p50 latency (ms)", "sequential_p50_ms", "{:.1f}", "sequential_p50"),
    ("sequential p99 latency (ms)", "sequential_p99_ms", "{:.1f}", "sequential_p99"),
    ("server CPU s / 1000 wf", "cpu_s_per_1000", "{:.2f}", "cpu_per_1000"),
    ("server peak RSS (MB)", "peak_rss_mb", "{:.1f}", "peak_rss"),
    ("driver CPU s / 1000 wf", "driver_cpu_s_per_1000", "{:.2f}", None),
    ("worker CPU s / 1000 wf", "worker_cpu_s_per_1000", "{:.2f}", None),
)


def _cell(result: ServerResult, attr: str, fmt: str) -> str:
    """Format one table cell; '-' for unavailable figures."""
    if not attr:
        return f"{result.workflows_ok}/{result.workflows_failed}"
    value = getattr(result, attr)
    return "-" if isinstance(value, float) and math.isnan(value) else fmt.format(value)


def _ratio_cell(ratios: dict[str, Ratio], key: str | None) -> str:
    """Format a ratio cell as e.g. '1.25x (cadenza/temporal)'."""
    if key is None or key not in ratios or math.isnan(ratios[key].value):
        return ""
    ratio = ratios[key]
    return f"{ratio.value:.2f}x ({ratio.label})"


def format_table(results: Sequence[ServerResult], ratios: Sequence[Ratio]) -> str:
    """Render metrics as rows, servers as columns, plus a ratio column if any."""
    by_key = {r.key: r for r in ratios}
    header = ["metric", *(r.server for r in results)] + (["cadenza vs temporal"] if ratios else [])
    rows = [header]
    for label, attr, fmt, key in ROWS:
        row = [label, *(_cell(r, attr, fmt) for r in results)]
        rows.append(row + ([_ratio_cell(by_key, key)] if ratios else []))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    numeric = range(1, len(results) + 1)
    lines = [_join_row(row, widths, numeric) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def _join_row(row: Sequence[str], widths: Sequence[int], numeric: range) -> str:
    """Pad cells to their column widths: numbers right-aligned, text left-aligned."""
    cells = (
        cell.rjust(width) if i in numeric else cell.ljust(width)
        for i, (cell, width) in enumerate(zip(row, widths, strict=True))
    )
    return "  ".join(cells)
