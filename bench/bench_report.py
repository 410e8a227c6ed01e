"""Turning raw measurements into per-server summaries, ratios and a table.

Kept free of I/O and timing so it can be unit-tested deterministically.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

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
    """Replace NaN floats with None, also inside (nested) dicts."""
    if isinstance(value, dict):
        return {k: json_number(v) for k, v in value.items()}
    return None if isinstance(value, float) and math.isnan(value) else value


class Summary(Protocol):
    """What the table needs from any per-server result."""

    server: str
    workflows_ok: int
    workflows_failed: int


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


def compute_ratios(
    cadenza: Summary, temporal: Summary, specs: Sequence[tuple[str, str, bool]] = RATIO_SPECS
) -> list[Ratio]:
    """Cadenza-vs-Temporal ratios.

    Throughput is cadenza/temporal and latencies temporal/cadenza, so for
    both > 1 means Cadenza is faster. CPU and RSS are cadenza/temporal cost
    ratios, so there < 1 means Cadenza is cheaper.
    """
    ratios = []
    for key, attr, cadenza_on_top in specs:
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


def _cell(result: Summary, attr: str, fmt: str) -> str:
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


def format_table(
    results: Sequence[Summary],
    ratios: Sequence[Ratio],
    table_rows: Sequence[tuple[str, str, str, str | None]] = ROWS,
    extra_rows: Sequence[Sequence[str]] = (),
) -> str:
    """Render metrics as rows, servers as columns, plus a ratio column if any.

    `extra_rows` are preformatted [label, one cell per result] rows appended
    at the end, with no ratio.
    """
    by_key = {r.key: r for r in ratios}
    header = ["metric", *(r.server for r in results)] + (["cadenza vs temporal"] if ratios else [])
    rows = [header]
    for label, attr, fmt, key in table_rows:
        row = [label, *(_cell(r, attr, fmt) for r in results)]
        rows.append(row + ([_ratio_cell(by_key, key)] if ratios else []))
    rows.extend([*extra, *([""] if ratios else [])] for extra in extra_rows)
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


# --- timers workload ---------------------------------------------------------

SUBSECOND_LIMIT_S = 1.0


@dataclass
class TimerResult:
    """Timer-lateness figures for one server; NaN where unavailable.

    Lateness is TimerFired time minus (TimerStarted time + requested
    duration), from the server's own history timestamps, in milliseconds.
    "subsecond" covers timers shorter than 1 s, "long" those of 1 s or more
    (the Temporal dev server rounds short timers up, so they differ a lot).
    """

    server: str
    ok: bool = False
    error: str | None = None
    startup_s: float = math.nan
    workflows_ok: int = 0
    workflows_failed: int = 0
    timers_fired: int = 0
    wall_s: float = math.nan
    lateness_p50_ms: float = math.nan
    lateness_p99_ms: float = math.nan
    lateness_max_ms: float = math.nan
    subsecond_p50_ms: float = math.nan
    subsecond_p99_ms: float = math.nan
    long_p50_ms: float = math.nan
    long_p99_ms: float = math.nan
    cpu_s_per_1000: float = math.nan
    # requested duration in seconds (as text) -> {"timers", "p50_ms", "p99_ms", "max_ms"}
    by_duration: dict[str, dict[str, float]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Dict for JSON output, with NaN mapped to null (NaN is not valid JSON)."""
        return {k: json_number(v) for k, v in asdict(self).items()}

    def duration_cell(self, duration: str) -> str:
        """'p50 / p99' lateness of the timers of one requested duration, or '-'."""
        figures = self.by_duration.get(duration)
        if not figures:
            return "-"
        return f"{figures['p50_ms']:.1f} / {figures['p99_ms']:.1f}"

    def apply_lateness(self, samples: Sequence[tuple[float, float]]) -> None:
        """Fill the lateness figures from (requested s, lateness s) pairs."""

        def ms(values: Sequence[float], q: float) -> float:
            return percentile(values, q) * 1000

        late = [lateness for _, lateness in samples]
        short = [lateness for nominal, lateness in samples if nominal < SUBSECOND_LIMIT_S]
        long = [lateness for nominal, lateness in samples if nominal >= SUBSECOND_LIMIT_S]
        self.timers_fired = len(samples)
        self.lateness_p50_ms, self.lateness_p99_ms = ms(late, 50), ms(late, 99)
        self.lateness_max_ms = ms(late, 100)
        self.subsecond_p50_ms, self.subsecond_p99_ms = ms(short, 50), ms(short, 99)
        self.long_p50_ms, self.long_p99_ms = ms(long, 50), ms(long, 99)
        self.by_duration = {}
        for nominal in sorted({n for n, _ in samples}):
            these = [lateness for n, lateness in samples if n == nominal]
            self.by_duration[f"{nominal:g}"] = {
                "timers": len(these),
                "p50_ms": ms(these, 50),
                "p99_ms": ms(these, 99),
                "max_ms": ms(these, 100),
            }


def _lateness_ratio(cadenza_ms: float, temporal_ms: float) -> float:
    """temporal/cadenza lateness; NaN unless both are positive (a ratio of ~0 or < 0 means nothing)."""
    if math.isnan(cadenza_ms) or math.isnan(temporal_ms) or cadenza_ms <= 0 or temporal_ms <= 0:
        return math.nan
    return temporal_ms / cadenza_ms


# (ratio key, TimerResult attribute); all lateness ratios are temporal/cadenza.
TIMER_LATENESS_RATIOS: tuple[tuple[str, str], ...] = (
    ("lateness_p50", "lateness_p50_ms"),
    ("lateness_p99", "lateness_p99_ms"),
    ("subsecond_p50", "subsecond_p50_ms"),
    ("subsecond_p99", "subsecond_p99_ms"),
    ("long_p50", "long_p50_ms"),
    ("long_p99", "long_p99_ms"),
)


def compute_timer_ratios(cadenza: TimerResult, temporal: TimerResult) -> list[Ratio]:
    """Timer ratios: lateness temporal/cadenza (> 1: Cadenza fires closer to on time),
    CPU cadenza/temporal (< 1: Cadenza is cheaper)."""
    ratios = [
        Ratio(key, f"{TEMPORAL}/{CADENZA}", _lateness_ratio(getattr(cadenza, a), getattr(temporal, a)))
        for key, a in TIMER_LATENESS_RATIOS
    ]
    return ratios + compute_ratios(cadenza, temporal, (("cpu_per_1000", "cpu_s_per_1000", True),))


TIMER_ROWS: tuple[tuple[str, str, str, str | None], ...] = (
    ("workflows ok / failed", "", "", None),
    ("timers fired", "timers_fired", "{}", None),
    ("startup (s)", "startup_s", "{:.2f}", None),
    ("wall time (s)", "wall_s", "{:.1f}", None),
    ("lateness p50, all (ms)", "lateness_p50_ms", "{:.1f}", "lateness_p50"),
    ("lateness p99, all (ms)", "lateness_p99_ms", "{:.1f}", "lateness_p99"),
    ("lateness p50, < 1 s timers (ms)", "subsecond_p50_ms", "{:.1f}", "subsecond_p50"),
    ("lateness p99, < 1 s timers (ms)", "subsecond_p99_ms", "{:.1f}", "subsecond_p99"),
    ("lateness p50, >= 1 s timers (ms)", "long_p50_ms", "{:.1f}", "long_p50"),
    ("lateness p99, >= 1 s timers (ms)", "long_p99_ms", "{:.1f}", "long_p99"),
    ("lateness max (ms)", "lateness_max_ms", "{:.1f}", None),
    ("server CPU s / 1000 wf", "cpu_s_per_1000", "{:.2f}", "cpu_per_1000"),
)


def format_timer_table(results: Sequence[TimerResult], ratios: Sequence[Ratio]) -> str:
    """The timers workload's table, plus one lateness row per requested duration."""
    durations = sorted({d for r in results for d in r.by_duration}, key=float)
    extra = [
        [f"lateness p50 / p99, {d} s timers (ms)", *(r.duration_cell(d) for r in results)] for d in durations
    ]
    return format_table(results, ratios, TIMER_ROWS, extra)


# --- signal and query workloads ----------------------------------------------


@dataclass
class CallResult:
    """Per-call figures for the signal or query workload on one server; NaN where unavailable.

    A "call" is one `handle.signal(...)` or `handle.query(...)`; its latency
    is the client-observed round trip, in milliseconds. Workflows count as
    ok once they finished with exactly the expected count.
    """

    server: str
    ok: bool = False
    error: str | None = None
    startup_s: float = math.nan
    workflows_ok: int = 0
    workflows_failed: int = 0
    calls_ok: int = 0
    calls_failed: int = 0
    wall_s: float = math.nan
    calls_per_s: float = math.nan
    p50_ms: float = math.nan
    p99_ms: float = math.nan
    max_ms: float = math.nan
    # one call at a time, after the concurrent phase: the latency of a call on its own
    sequential_p50_ms: float = math.nan
    sequential_p99_ms: float = math.nan
    sequential_cpu_ms: float = math.nan  # server CPU per call, one at a time
    cpu_s_per_1000: float = math.nan  # server CPU per 1000 successful calls
    driver_cpu_s_per_1000: float = math.nan
    worker_cpu_s_per_1000: float = math.nan

    def to_json(self) -> dict[str, Any]:
        """Dict for JSON output, with NaN mapped to null (NaN is not valid JSON)."""
        return {k: json_number(v) for k, v in asdict(self).items()}

    @property
    def calls_cell(self) -> str:
        """'ok/failed' call counts, for the table."""
        return f"{self.calls_ok}/{self.calls_failed}"

    def apply_latencies(self, latencies_s: Sequence[float], wall_s: float) -> None:
        """Fill the count, rate and latency figures from per-call latencies (seconds)."""
        self.calls_ok = len(latencies_s)
        self.wall_s = wall_s
        if wall_s > 0:
            self.calls_per_s = len(latencies_s) / wall_s
        self.p50_ms = percentile(latencies_s, 50) * 1000
        self.p99_ms = percentile(latencies_s, 99) * 1000
        self.max_ms = percentile(latencies_s, 100) * 1000

    def apply_sequential(self, latencies_s: Sequence[float], server_cpu_s: float = math.nan) -> None:
        """Fill the one-at-a-time figures (seconds in, milliseconds out) from the calls that
        succeeded and the server CPU they used."""
        self.sequential_p50_ms = percentile(latencies_s, 50) * 1000
        self.sequential_p99_ms = percentile(latencies_s, 99) * 1000
        if latencies_s:
            self.sequential_cpu_ms = server_cpu_s * 1000 / len(latencies_s)


# (ratio key, CallResult attribute, whether Cadenza is the numerator)
CALL_RATIO_SPECS: tuple[tuple[str, str, bool], ...] = (
    ("throughput", "calls_per_s", True),
    ("p50", "p50_ms", False),
    ("p99", "p99_ms", False),
    ("sequential_p50", "sequential_p50_ms", False),
    ("sequential_cpu", "sequential_cpu_ms", True),
    ("cpu_per_1000", "cpu_s_per_1000", True),
)


def compute_call_ratios(cadenza: CallResult, temporal: CallResult) -> list[Ratio]:
    """Same orientation as the activity workload: > 1 faster for rate and latency, < 1 cheaper for CPU."""
    return compute_ratios(cadenza, temporal, CALL_RATIO_SPECS)


def call_rows(noun: str) -> tuple[tuple[str, str, str, str | None], ...]:
    """Table rows for the workload whose calls are `noun`s ("signal" or "query")."""
    plural = "queries" if noun == "query" else f"{noun}s"
    return (
        ("workflows ok / failed", "", "", None),
        (f"{plural} ok / failed", "calls_cell", "{}", None),
        ("startup (s)", "startup_s", "{:.2f}", None),
        ("wall time (s)", "wall_s", "{:.1f}", None),
        (f"{plural} / s", "calls_per_s", "{:.1f}", "throughput"),
        (f"{noun} latency p50 (ms)", "p50_ms", "{:.1f}", "p50"),
        (f"{noun} latency p99 (ms)", "p99_ms", "{:.1f}", "p99"),
        (f"{noun} latency max (ms)", "max_ms", "{:.1f}", None),
        ("one at a time: p50 (ms)", "sequential_p50_ms", "{:.2f}", "sequential_p50"),
        ("one at a time: p99 (ms)", "sequential_p99_ms", "{:.2f}", None),
        (f"one at a time: server CPU ms / {noun}", "sequential_cpu_ms", "{:.3f}", "sequential_cpu"),
        (f"server CPU s / 1000 {plural}", "cpu_s_per_1000", "{:.2f}", "cpu_per_1000"),
        (f"driver CPU s / 1000 {plural}", "driver_cpu_s_per_1000", "{:.2f}", None),
        (f"worker CPU s / 1000 {plural}", "worker_cpu_s_per_1000", "{:.2f}", None),
    )


def format_call_table(noun: str, results: Sequence[CallResult], ratios: Sequence[Ratio]) -> str:
    """The signal or query workload's table."""
    return format_table(results, ratios, call_rows(noun))
