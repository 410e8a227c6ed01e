"""How long drawing a run takes: the graph and the timeline of hand-written 1,000-event histories
(a wide fan-out, and a long chain of one activity per workflow task), built and rendered to SVG
in this process. Run it as ``python -m bench.bench_ui_graph``; it prints milliseconds per drawing.
Fetching the history is not counted (the history workload times that)."""

from __future__ import annotations

import time
from collections.abc import Callable

from temporalio.api.history.v1 import HistoryEvent
from tests.unit.synthetic_history import HistoryWriter, fan_out

from cadenza.web.ui_graph import graph_svg, timeline_svg

REPEATS = 20


def chain(steps: int) -> list[HistoryEvent]:
    """A run that schedules one activity per workflow task, ``steps`` times, then completes."""
    history = HistoryWriter()
    history.start()
    for step in range(steps):
        history.activity_done(history.activity(history.workflow_task(), "step", str(step)))
    history.complete(history.workflow_task())
    return history.events


def milliseconds(draw: Callable[[], str]) -> float:
    """The best of ``REPEATS`` runs of ``draw``, in milliseconds."""
    best = float("inf")
    for _ in range(REPEATS):
        began = time.perf_counter()
        draw()
        best = min(best, time.perf_counter() - began)
    return best * 1000


def main() -> None:
    for name, events in (("fan-out", fan_out(165)), ("chain", chain(166))):
        graph = milliseconds(lambda events=events: graph_svg(events, "default"))  # type: ignore[misc]
        timeline = milliseconds(lambda events=events: timeline_svg(events))  # type: ignore[misc]
        print(f"{name:8} {len(events):5} events  graph {graph:6.1f} ms  timeline {timeline:6.1f} ms")


if __name__ == "__main__":
    main()
