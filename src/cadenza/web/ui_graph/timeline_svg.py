"""The timeline drawn as SVG: a row per item, its label on the left, a bar from when it was
scheduled to when it closed (the wait before its last attempt lighter), points for signals."""

from __future__ import annotations

import math
from collections.abc import Iterable

from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.workflow.v1 import PendingActivityInfo

from cadenza.web.ui_graph.items import Kind
from cadenza.web.ui_graph.reading import read_run
from cadenza.web.ui_graph.svg import STYLE, attr, clip, description, run_url, text
from cadenza.web.ui_graph.timeline import Bar, Timeline, build_timeline

LABEL_W, PLOT_W = 240, 720
ROW_H, AXIS_H = 22, 28
MARGIN = 12
LABEL_CHARS = 32


def timeline_svg(
    events: Iterable[HistoryEvent], namespace: str = "default", pending: Iterable[PendingActivityInfo] = ()
) -> str:
    """The run whose history is ``events`` drawn as an SVG timeline (``pending`` as for the graph)."""
    return render_timeline(build_timeline(read_run(events, namespace, pending)))


def render_timeline(timeline: Timeline) -> str:
    width = LABEL_W + PLOT_W + 2 * MARGIN + 60
    height = AXIS_H + max(len(timeline.bars), 1) * ROW_H + 2 * MARGIN
    scale = PLOT_W / max(timeline.length, 1e-3)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="cz-drawing cz-timeline" role="graphics-document"'
        f' width="{width}" height="{height}" viewBox="0 0 {width} {height}"'
        ' aria-labelledby="cz-timeline-title cz-timeline-desc">',
        '<title id="cz-timeline-title">Workflow timeline</title>',
        f'<desc id="cz-timeline-desc">{len(timeline.bars)} items over {_seconds(timeline.length)}.</desc>',
        STYLE,
        _axis(timeline.length, scale, height),
    ]
    for index, bar in enumerate(timeline.bars):
        parts.append(_row(bar, MARGIN + AXIS_H + index * ROW_H, scale, timeline.length))
    if not timeline.bars:
        parts.append(f'<text x="{MARGIN}" y="{MARGIN + AXIS_H + 14}">Nothing scheduled yet.</text>')
    parts.append("</svg>")
    return "".join(parts)


def _x(seconds: float, scale: float) -> float:
    return round(MARGIN + LABEL_W + seconds * scale, 1)


def _axis(length: float, scale: float, height: int) -> str:
    step = _tick_step(length)
    ticks = []
    for index in range(int(length / step) + 1):
        x = _x(index * step, scale)
        ticks.append(
            f'<line class="cz-axis" x1="{x}" y1="{MARGIN + AXIS_H - 6}" x2="{x}" y2="{height - MARGIN}"/>'
        )
        ticks.append(
            f'<text class="cz-muted" x="{x}" y="{MARGIN + 12}" text-anchor="middle" font-size="10">{text(_seconds(index * step))}</text>'
        )
    return '<g class="cz-ticks">' + "".join(ticks) + "</g>"


def _tick_step(length: float) -> float:
    """A round step (1, 2 or 5 times a power of ten) giving at most about eight ticks."""
    rough = max(length, 1e-3) / 8
    power = 10 ** math.floor(math.log10(rough))
    return float(next(m * power for m in (1, 2, 5, 10) if m * power >= rough))


def _seconds(value: float) -> str:
    if value < 1:
        return f"{value * 1000:.0f} ms"
    if value < 120:
        return f"{value:.3g} s"
    return f"{value / 60:.3g} min"


def _row(bar: Bar, y: int, scale: float, length: float) -> str:
    item = bar.item
    label = text(clip(f"{item.kind.value} {item.label}", LABEL_CHARS))
    url = run_url(item.link, "timeline") if item.link is not None and item.kind is Kind.CHILD else None
    if url is not None:
        label = f"<a href={attr(url)}>{label}</a>"
    shapes = [f'<text x="{MARGIN}" y="{y + 15}">{label}</text>']
    shapes += _point(bar, y, scale) if bar.point else _bars(bar, y, scale, length)
    classes = f"cz-row cz-{item.kind.name.lower()} cz-{item.status.css}"
    return f"<g class={attr(classes)} data-node={attr(item.id)}><title>{text(description(item))}</title>{''.join(shapes)}</g>"


def _point(bar: Bar, y: int, scale: float) -> list[str]:
    x, mid = _x(bar.begins, scale), y + ROW_H // 2
    diamond = f"M{x} {mid - 6}L{x + 6} {mid}L{x} {mid + 6}L{x - 6} {mid}z"
    return [f'<path class="cz-bar cz-{bar.item.status.css}" d="{diamond}"/>']


def _bars(bar: Bar, y: int, scale: float, length: float) -> list[str]:
    ends = length if bar.ends is None else bar.ends
    status = bar.item.status.css
    started = bar.begins if bar.started is None else bar.started
    shapes = []
    if started > bar.begins:
        shapes.append(_rect("cz-wait", bar.begins, started, y, scale))
    shapes.append(_rect(f"cz-bar cz-{status}", started, ends, y, scale))
    notes = []
    if bar.item.attempts > 1:
        notes.append(f"{bar.item.attempts} attempts")
    if bar.ends is None:
        notes.append("open")
    if notes:
        shapes.append(
            f'<text class="cz-muted" x="{_x(ends, scale) + 6}" y="{y + 15}" font-size="10">{text(", ".join(notes))}</text>'
        )
    return shapes


def _rect(classes: str, begins: float, ends: float, y: int, scale: float) -> str:
    x = _x(begins, scale)
    width = max(_x(ends, scale) - x, 2.0)
    return f'<rect class="{classes}" x="{x}" y="{y + 5}" width="{width:.1f}" height="{ROW_H - 10}" rx="2"/>'
