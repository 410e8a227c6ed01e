"""The graph and timeline of hand-written histories: a run terminated while it waits, names that
must be escaped, a fan-out wider than a row, an empty history."""

from __future__ import annotations

from xml.etree import ElementTree

from cadenza.web.ui_graph import graph_svg, timeline_svg
from cadenza.web.ui_graph.graph import build_graph
from cadenza.web.ui_graph.graph_svg import PER_LINE, render_graph
from cadenza.web.ui_graph.items import Status
from cadenza.web.ui_graph.reading import read_run
from cadenza.web.ui_graph.timeline import build_timeline
from tests.unit.synthetic_history import E, HistoryWriter, fan_out

SVG = "{http://www.w3.org/2000/svg}"


def terminated_while_waiting() -> HistoryWriter:
    history = HistoryWriter()
    history.start()
    task = history.workflow_task()
    history.activity(task, "slow", "1")
    history.child(task, 'kid/"1"', "run-9")
    history.signal("<b>poke</b>")
    history.terminate("stuck")
    return history


def test_a_terminated_run_closes_from_what_was_still_open() -> None:
    graph = build_graph(read_run(terminated_while_waiting().events, "default"))
    assert graph.edges == [
        ("start", "activity-5"),
        ("start", "child-6"),
        # what it heard but no workflow task did (the child's start, the signal), then what was open
        ("child-6", "close"),
        ("signal-8", "close"),
        ("activity-5", "close"),
    ]
    close = graph.nodes["close"]
    assert (close.status, close.failure) == (Status.TERMINATED, "stuck")
    timeline = build_timeline(read_run(terminated_while_waiting().events, "default"))
    slow = next(bar for bar in timeline.bars if bar.item.label == "slow")
    assert slow.ends is None and slow.item.status is Status.SCHEDULED


def test_names_are_escaped_and_links_quoted() -> None:
    svg = graph_svg(terminated_while_waiting().events, "default")
    root = ElementTree.fromstring(svg)  # well-formed whatever the names hold
    links = [a.get("href") for a in root.iter(f"{SVG}a")]
    assert links == ["/namespaces/team%20a/workflows/kid%2F%221%22/run-9/graph"]
    labels = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "cz-strong"]
    assert "<b>poke</b>" in labels
    assert "<b>" not in svg
    ElementTree.fromstring(timeline_svg(terminated_while_waiting().events))


def test_a_wide_fan_out_wraps_and_joins_through_one_point() -> None:
    width = 40
    graph = build_graph(read_run(fan_out(width), "default"))
    assert [len(row.node_ids) for row in graph.rows] == [1, width, width, 1]
    assert len(graph.edges) == width + width * width + width
    root = ElementTree.fromstring(render_graph(graph))
    edges = [p for p in root.iter(f"{SVG}path") if "cz-edge" in (p.get("class") or "")]
    # start to 40, 40 into a junction and out to 40, 40 into the close: N + M lines, not N x M
    assert len(edges) == width + 2 * width + width
    rects = [r for r in root.iter(f"{SVG}rect") if r.get("class") == "cz-box"]
    # the rows wrap at PER_LINE columns; the start and the close sit in one more, centred
    assert len({r.get("x") for r in rects}) == PER_LINE + 1


def test_an_empty_history_draws_an_empty_graph() -> None:
    ElementTree.fromstring(graph_svg([], "default"))
    ElementTree.fromstring(timeline_svg([]))


def test_a_run_continued_as_new_links_to_its_next_run() -> None:
    history = HistoryWriter()
    history.start()
    task = history.workflow_task()
    history.add(
        E.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
        "workflow_execution_continued_as_new_event_attributes",
        new_execution_run_id="run-2",
        workflow_task_completed_event_id=task,
    )
    graph = build_graph(read_run(history.events, "default"))
    assert graph.edges == [("start", "close")]
    assert graph.nodes["close"].status is Status.CONTINUED_AS_NEW
    root = ElementTree.fromstring(render_graph(graph))
    # The same workflow's next run: a path relative to this run's page.
    assert [a.get("href") for a in root.iter(f"{SVG}a")] == ["../run-2/graph"]
