"""What both drawings share: escaping, links to other runs, a node's words, and the style that
follows the page's colours (light or dark) through CSS system colours and variables."""

from __future__ import annotations

from urllib.parse import quote
from xml.sax.saxutils import escape, quoteattr

from cadenza.web.ui_graph.items import Item, RunRef

STYLE = """<style>
.cz-drawing{color:var(--cz-fg,CanvasText);font:12px system-ui,sans-serif}
.cz-drawing text{fill:currentColor}
.cz-drawing .cz-muted{fill-opacity:.7}
.cz-drawing .cz-strong{font-weight:600;font-size:13px}
.cz-drawing .cz-box{fill:var(--cz-node-bg,Canvas);stroke:currentColor;stroke-opacity:.5;stroke-width:1.5}
.cz-drawing .cz-band{fill:currentColor;fill-opacity:.04;stroke:currentColor;stroke-opacity:.25;stroke-dasharray:4 3}
.cz-drawing .cz-edge{fill:none;stroke:currentColor;stroke-opacity:.45;stroke-width:1.2}
.cz-drawing .cz-axis{stroke:currentColor;stroke-opacity:.2}
.cz-drawing .cz-completed .cz-box,.cz-drawing .cz-fired .cz-box,.cz-drawing .cz-received .cz-box{stroke:var(--cz-ok,#2f9e5a);stroke-opacity:1}
.cz-drawing .cz-failed .cz-box,.cz-drawing .cz-timed-out .cz-box,.cz-drawing .cz-terminated .cz-box,.cz-drawing .cz-rejected .cz-box{stroke:var(--cz-bad,#d9434b);stroke-opacity:1;stroke-width:2.5}
.cz-drawing .cz-running .cz-box,.cz-drawing .cz-scheduled .cz-box,.cz-drawing .cz-accepted .cz-box,.cz-drawing .cz-admitted .cz-box{stroke:var(--cz-live,#3b82f6);stroke-opacity:1;stroke-dasharray:5 3}
.cz-drawing .cz-retries{fill:var(--cz-bad,#d9434b)}
.cz-drawing .cz-retries+text{fill:#fff;font-size:10px;font-weight:600}
.cz-drawing .cz-bar{fill:var(--cz-ok,#2f9e5a)}
.cz-drawing .cz-bar.cz-failed,.cz-drawing .cz-bar.cz-timed-out,.cz-drawing .cz-bar.cz-terminated,.cz-drawing .cz-bar.cz-rejected{fill:var(--cz-bad,#d9434b)}
.cz-drawing .cz-bar.cz-running,.cz-drawing .cz-bar.cz-scheduled,.cz-drawing .cz-bar.cz-accepted,.cz-drawing .cz-bar.cz-admitted{fill:var(--cz-live,#3b82f6)}
.cz-drawing .cz-bar.cz-canceled{fill:#8a8f98}
.cz-drawing .cz-wait{fill:currentColor;fill-opacity:.18}
.cz-drawing a:focus .cz-box,.cz-drawing a:hover .cz-box{stroke-width:3}
.cz-drawing a text,.cz-drawing text a{text-decoration:underline}
.cz-drawing text a{fill:LinkText}
</style>"""


def text(value: str) -> str:
    """``value`` safe as SVG text."""
    return escape(value)


def attr(value: str) -> str:
    """``value`` as a quoted SVG attribute."""
    return quoteattr(value)


def clip(value: str, limit: int) -> str:
    """``value`` cut to ``limit`` characters, an ellipsis saying so."""
    return value if len(value) <= limit else value[: limit - 1] + "…"


def run_url(ref: RunRef, page: str) -> str | None:
    """The page of a run; relative to this run's page when it is the same workflow's next run."""
    if not ref.run_id:
        return None
    if not ref.workflow_id:
        return f"../{quote(ref.run_id, safe='')}/{page}"
    return "/namespaces/{}/workflows/{}/{}/{}".format(
        quote(ref.namespace, safe=""), quote(ref.workflow_id, safe=""), quote(ref.run_id, safe=""), page
    )


def status_line(item: Item) -> str:
    """Its status, attempts and failure in a few words."""
    words = item.status.value
    if item.attempts > 1:
        words += f" · {item.attempts} attempts"
    return words


def description(item: Item) -> str:
    """Everything known about ``item``, for its tooltip and screen readers."""
    lines = [f"{item.kind.value} {item.label}: {status_line(item)}"]
    lines += [f"{name}: {value}" for name, value in item.facts]
    if item.failure:
        lines.append(f"{'last failure' if item.status.value != 'failed' else 'failure'}: {item.failure}")
    lines.append(
        f"events {item.first_event_id}" + (f" to {item.close_event_id}" if item.close_event_id else "")
    )
    return "\n".join(lines)
