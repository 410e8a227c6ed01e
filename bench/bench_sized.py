"""Results measured once per size (fan-out width, executions stored), and their table.

The fanout and scale workloads measure the same figures at several sizes on
each server. Their result keeps one dict of figures per size, plus how the
main per-unit cost grew from the smallest size to the largest: flat cost as
things grow means a growth near 1.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from types import SimpleNamespace
from typing import Any

from bench_report import Ratio, compute_ratios, format_table, json_number


@dataclass(frozen=True)
class Metric:
    """One figure measured at every size.

    `label` holds `{size}`; `cadenza_on_top` orients the Cadenza-vs-Temporal
    ratio as in `compute_ratios` (None: no ratio).
    """

    key: str
    label: str
    fmt: str
    cadenza_on_top: bool | None = None


@dataclass
class SizedResult:
    """One server's figures at each size; NaN (or absent) where unavailable."""

    server: str
    ok: bool = False
    error: str | None = None
    startup_s: float = math.nan
    workflows_ok: int = 0
    workflows_failed: int = 0
    peak_rss_mb: float = math.nan
    # size (as text) -> metric key -> value
    by_size: dict[str, dict[str, float]] = field(default_factory=dict)
    # metric key -> value at the largest size / value at the smallest
    growth: dict[str, float] = field(default_factory=dict)

    def put(self, size: int, key: str, value: float) -> None:
        """Record one figure at one size."""
        self.by_size.setdefault(str(size), {})[key] = value

    def get(self, size: int, key: str) -> float:
        """One figure at one size, NaN if it was not measured."""
        return self.by_size.get(str(size), {}).get(key, math.nan)

    def sizes(self) -> list[int]:
        """The sizes measured, smallest first."""
        return sorted(int(size) for size in self.by_size)

    def compute_growth(self, keys: Sequence[str]) -> None:
        """For each key, its value at the largest size over its value at the smallest."""
        sizes = self.sizes()
        for key in keys:
            low = self.get(sizes[0], key) if sizes else math.nan
            high = self.get(sizes[-1], key) if sizes else math.nan
            valid = len(sizes) > 1 and not math.isnan(low) and not math.isnan(high) and low > 0
            self.growth[key] = high / low if valid else math.nan

    def to_json(self) -> dict[str, Any]:
        """Dict for JSON output, with NaN mapped to null (NaN is not valid JSON)."""
        document = {k: json_number(v) for k, v in asdict(self).items()}
        document["by_size"] = {size: json_number(figures) for size, figures in self.by_size.items()}
        return document


def _flat_key(key: str, size: int) -> str:
    return f"{key}@{size}"


def _flat(result: SizedResult, metrics: Sequence[Metric], sizes: Sequence[int]) -> SimpleNamespace:
    """The result with one attribute per (metric, size), for the generic table and ratios."""
    values = {_flat_key(m.key, s): result.get(s, m.key) for m in metrics for s in sizes}
    values |= {f"growth:{key}": value for key, value in result.growth.items()}
    return SimpleNamespace(
        server=result.server,
        workflows_ok=result.workflows_ok,
        workflows_failed=result.workflows_failed,
        startup_s=result.startup_s,
        peak_rss_mb=result.peak_rss_mb,
        **values,
    )


def all_sizes(results: Sequence[SizedResult]) -> list[int]:
    """Every size any result measured, smallest first."""
    return sorted({size for r in results for size in r.sizes()})


def compute_sized_ratios(
    cadenza: SizedResult, temporal: SizedResult, metrics: Sequence[Metric]
) -> list[Ratio]:
    """Cadenza-vs-Temporal ratios per metric and size (keys `KEY@SIZE`)."""
    sizes = all_sizes([cadenza, temporal])
    specs = [
        (_flat_key(m.key, s), _flat_key(m.key, s), m.cadenza_on_top)
        for m in metrics
        for s in sizes
        if m.cadenza_on_top is not None
    ]
    flat = [_flat(r, metrics, sizes) for r in (cadenza, temporal)]
    return compute_ratios(flat[0], flat[1], [(k, a, bool(top)) for k, a, top in specs])


def format_sized_table(
    results: Sequence[SizedResult],
    ratios: Sequence[Ratio],
    metrics: Sequence[Metric],
    growth_rows: Sequence[tuple[str, str]] = (),
) -> str:
    """Rows per metric and size; `growth_rows` are (label, metric key) rows of largest/smallest."""
    sizes = all_sizes(results)
    rows: list[tuple[str, str, str, str | None]] = [
        ("workflows ok / failed", "", "", None),
        ("startup (s)", "startup_s", "{:.2f}", None),
    ]
    for metric in metrics:
        for size in sizes:
            key = _flat_key(metric.key, size)
            rows.append((metric.label.format(size=f"{size:,}"), key, metric.fmt, key))
    rows += [(label, f"growth:{key}", "{:.2f}", None) for label, key in growth_rows]
    rows.append(("server peak RSS (MB)", "peak_rss_mb", "{:.1f}", None))
    flat = [_flat(r, metrics, sizes) for r in results]
    for view in flat:
        for _, attr, _, _ in rows:
            if attr and not hasattr(view, attr):
                setattr(view, attr, math.nan)
    return format_table(flat, ratios, rows)
