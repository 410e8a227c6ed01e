"""The graph drawn as SVG: one band per workflow task top to bottom, what it scheduled side by
side (wrapped past ``PER_LINE``), edges from what it heard; child workflows link to their graph."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.workflow.v1 import PendingActivityInfo

from cadenza.web.ui_graph.graph import Graph, Row, Step, build_graph
from cadenza.web.ui_graph.items import Item, Kind
from cadenza.web.ui_graph.reading import read_run
from cadenza.web.ui_graph.svg import STYLE, attr, clip, description, run_url, status_line, text

NODE_W, NODE_H = 180, 56
GAP_X, GAP_Y = 20, 44
MARGIN = 16
GUTTER = 40
"""Room on the left for the edges that skip rows, so they pass beside the nodes, not behind them."""
PER_LINE = 6
LABEL_CHARS = 24


def graph_svg(
    events: Iterable[HistoryEvent], namespace: str, pending: Iterable[PendingActivityInfo] = ()
) -> str:
    """The run whose history is ``events`` (in namespace ``namespace``) drawn as an SVG graph;
    ``pending``, its description's pending activities, adds the attempt under way to each."""
    return render_graph(build_graph(read_run(events, namespace, pending)))


def render_graph(graph: Graph) -> str:
    positions, bands, width, height = _layout(graph.rows)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="cz-drawing cz-graph" role="graphics-document"'
        f' width="{width}" height="{height}" viewBox="0 0 {width} {height}"'
        ' aria-labelledby="cz-graph-title cz-graph-desc">',
        '<title id="cz-graph-title">Workflow graph</title>',
        f'<desc id="cz-graph-desc">{text(_summary(graph))}</desc>',
        STYLE,
        '<defs><marker id="cz-arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" markerHeight="7"'
        ' orient="auto-start-reverse"><path d="M0 0L8 4L0 8z" fill="currentColor" fill-opacity=".6"/>'
        "</marker></defs>",
    ]
    parts += bands
    parts += (_edges(step, positions) for step in graph.steps)
    parts += (
        _node(graph.nodes[node_id], *positions[node_id]) for row in graph.rows for node_id in row.node_ids
    )
    parts.append("</svg>")
    return "".join(parts)


def _layout(rows: tuple[Row, ...]) -> tuple[dict[str, tuple[int, int]], list[str], int, int]:
    """Each node's top-left corner, the bands behind parallel rows, and the drawing's size."""
    widest = max((min(len(row.node_ids), PER_LINE) for row in rows), default=1)
    width = 2 * MARGIN + GUTTER + widest * NODE_W + (widest - 1) * GAP_X
    positions: dict[str, tuple[int, int]] = {}
    bands: list[str] = []
    y = MARGIN
    for row in rows:
        top = y
        for line_start in range(0, len(row.node_ids), PER_LINE):
            line = row.node_ids[line_start : line_start + PER_LINE]
            x = GUTTER + (width - GUTTER - (len(line) * NODE_W + (len(line) - 1) * GAP_X)) // 2
            for node_id in line:
                positions[node_id] = (x, y)
                x += NODE_W + GAP_X
            y += NODE_H + (GAP_X if line_start + PER_LINE < len(row.node_ids) else GAP_Y)
        if len(row.node_ids) > 1:
            bands.append(_band(row, top, y - GAP_Y, width))
    return positions, bands, width, max(y - GAP_Y + MARGIN, 2 * MARGIN)


def _band(row: Row, top: int, bottom: int, width: int) -> str:
    label = f"{len(row.node_ids)} in parallel" if row.workflow_task else f"{len(row.node_ids)} received"
    return (
        f'<g><rect class="cz-band" x="{GUTTER}" y="{top - 18}" width="{width - GUTTER - 4}"'
        f' height="{bottom - top + 26}" rx="8"/>'
        f'<text class="cz-muted" x="{GUTTER + 6}" y="{top - 6}" font-size="10">{text(label)}</text></g>'
    )


def _node(item: Item, x: int, y: int) -> str:
    classes = f"cz-node cz-{item.kind.name.lower()} cz-{item.status.css}"
    body = [
        f'<rect class="cz-box" x="{x}" y="{y}" width="{NODE_W}" height="{NODE_H}" rx="6"/>',
        f'<text class="cz-muted" x="{x + 10}" y="{y + 15}" font-size="10">{text(item.kind.value.upper())}</text>',
        f'<text class="cz-strong" x="{x + 10}" y="{y + 32}">{text(clip(item.label, LABEL_CHARS))}</text>',
        f'<text x="{x + 10}" y="{y + 48}" font-size="11">{text(clip(status_line(item), 30))}</text>',
    ]
    if item.retried:
        cx, cy = x + NODE_W - 12, y + 12
        body.append(f'<circle class="cz-retries" cx="{cx}" cy="{cy}" r="9"/>')
        body.append(f'<text x="{cx}" y="{cy + 3.5}" text-anchor="middle">\u00d7{item.attempts}</text>')
    tooltip = f"<title>{text(description(item))}</title>"
    url = run_url(item.link, "graph") if item.link is not None and item.kind is not Kind.START else None
    inner = tooltip + "".join(body)
    if url is not None:
        label = f"{item.kind.value} {item.label}: open its graph"
        inner = f"<a href={attr(url)} aria-label={attr(label)}>{inner}</a>"
    return f"<g class={attr(classes)} data-node={attr(item.id)}>{inner}</g>"


def _edges(step: Step, positions: dict[str, tuple[int, int]]) -> str:
    """A step's edges: direct when one side is single, else through one junction so a join of N into
    a fan-out of M draws N + M lines, not N times M."""
    sources = [positions[node] for node in step.sources if node in positions]
    targets = [positions[node] for node in step.targets if node in positions]
    if not sources or not targets:
        return ""
    if len(sources) == 1 or len(targets) == 1:
        lines = [_edge(s, t) for s in sources for t in targets]
    else:
        first_top = min(_top(t)[1] for t in targets)
        junction = (sum(_top(t)[0] for t in targets) // len(targets), first_top - GAP_Y // 2)
        lines = [_curve(_bottom(s), junction, arrow=False) for s in sources]
        lines += [_curve(junction, _top(t), arrow=True) for t in targets]
    return '<g class="cz-edges">' + "".join(lines) + "</g>"


def _edge(source: tuple[int, int], target: tuple[int, int]) -> str:
    """From below the source to above the target; beside the rows between when it skips some."""
    if target[1] - source[1] <= NODE_H + GAP_Y + GAP_X:
        return _curve(_bottom(source), _top(target), arrow=True)
    lane = 8 + (source[1] // 7) % 4 * 7
    (x1, y1), (x2, y2) = (source[0], source[1] + NODE_H // 2), (target[0], target[1] + NODE_H // 2)
    return (
        f'<path class="cz-edge cz-skip" d="M{x1} {y1}H{lane + 10}Q{lane} {y1} {lane} {y1 + 10}'
        f'V{y2 - 10}Q{lane} {y2} {lane + 10} {y2}H{x2}" marker-end="url(#cz-arrow)"/>'
    )


def _bottom(corner: tuple[int, int]) -> tuple[int, int]:
    return corner[0] + NODE_W // 2, corner[1] + NODE_H


def _top(corner: tuple[int, int]) -> tuple[int, int]:
    return corner[0] + NODE_W // 2, corner[1]


def _curve(start: tuple[int, int], end: tuple[int, int], *, arrow: bool) -> str:
    (x1, y1), (x2, y2) = start, end
    bend = max(abs(y2 - y1) // 2, 12)
    marker = ' marker-end="url(#cz-arrow)"' if arrow else ""
    return f'<path class="cz-edge" d="M{x1} {y1}C{x1} {y1 + bend} {x2} {y2 - bend} {x2} {y2}"{marker}/>'


def _summary(graph: Graph) -> str:
    """The graph in one sentence, for screen readers."""
    kinds = Counter(item.kind for item in graph.nodes.values() if item.kind not in {Kind.START, Kind.CLOSE})
    counted = ", ".join(f"{count} {kind.value}{'s' if count > 1 else ''}" for kind, count in kinds.items())
    failed = sum(1 for item in graph.nodes.values() if item.status.value == "failed")
    close = graph.nodes.get("close")
    ending = f"; the workflow {close.status.value}" if close else "; the workflow is running"
    return f"{counted or 'nothing scheduled'} in {len(graph.rows)} rows; {failed} failed{ending}."
