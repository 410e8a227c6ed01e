"""How long drawing a run takes. First the graph and the timeline of hand-written 1,000-event
histories (a wide fan-out, and a long chain of one activity per workflow task), built and rendered
to SVG in this process; then the whole page as a browser asks for it (history read through the
HTTP API's calls, drawn, templated, sent) for a real run of about 1,000 events on an in-process
server. Run it as ``python -m bench.bench_ui_graph``; it prints milliseconds."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import timedelta

import httpx
from temporalio import activity, workflow
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client
from tests.helpers import Registered, worker_for
from tests.servers import in_process
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


WIDTH = 160
"""Activities per round of the served run: two rounds make about 1,000 events."""


@activity.defn
async def echo(value: int) -> int:
    return value


@workflow.defn(sandboxed=False)
class TwoRounds:
    @workflow.run
    async def run(self, width: int) -> int:
        total = 0
        for _ in range(2):
            done = await asyncio.gather(
                *(
                    workflow.execute_activity(echo, n, start_to_close_timeout=timedelta(seconds=30))
                    for n in range(width)
                )
            )
            total += sum(done)
        return total


async def served() -> None:
    """The best and median server time of the graph and timeline pages of a real run."""
    async with in_process(http_port=0) as server:
        assert server.server.addresses is not None
        client = await Client.connect(server.address)
        async with worker_for(client, "bench-ui", Registered([TwoRounds], [echo])):
            handle = await client.start_workflow(TwoRounds.run, WIDTH, id="bench-ui", task_queue="bench-ui")
            await handle.result()
        events = len((await handle.fetch_history()).events)
        async with httpx.AsyncClient(base_url=f"http://{server.server.addresses.http}", timeout=60) as http:
            for view in ("graph", "timeline"):
                url = f"/namespaces/default/workflows/bench-ui/{handle.result_run_id}/{view}"
                times = []
                for _ in range(REPEATS):
                    began = time.perf_counter()
                    answer = await http.get(url)
                    times.append((time.perf_counter() - began) * 1000)
                    assert answer.status_code == 200
                times.sort()
                print(
                    f"served   {events:5} events  {view:8} best {times[0]:6.1f} ms  median {times[len(times) // 2]:6.1f} ms"
                )


def main() -> None:
    for name, events in (("fan-out", fan_out(165)), ("chain", chain(166))):
        graph = milliseconds(lambda events=events: graph_svg(events, "default"))  # type: ignore[misc]
        timeline = milliseconds(lambda events=events: timeline_svg(events))  # type: ignore[misc]
        print(f"{name:8} {len(events):5} events  graph {graph:6.1f} ms  timeline {timeline:6.1f} ms")
    asyncio.run(served())


if __name__ == "__main__":
    main()
