"""The graph and timeline models of runs of the official SDK on a real Cadenza: the nodes, rows
and edges a workflow with fan-out, a timer, a child, a signal, a failing retried activity and an
update draws."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client

from cadenza.web.ui_graph.graph import Graph, build_graph
from cadenza.web.ui_graph.items import Kind, RunRef, Status
from cadenza.web.ui_graph.reading import read_run
from cadenza.web.ui_graph.timeline import build_timeline
from tests.helpers import Registered, worker_for
from tests.servers import in_process
from tests.web import workflows_drawn as wd
from tests.web.drawn_runs import events_of, run_drawn


@pytest.fixture(scope="module")
async def drawn() -> AsyncIterator[tuple[list[HistoryEvent], str]]:
    """The history of one finished ``Drawn`` run, and its child's run ID."""
    async with in_process() as server:
        client = await Client.connect(server.address)
        async with worker_for(client, "drawn", Registered(wd.WORKFLOWS, wd.ACTIVITIES)):
            handle = await run_drawn(client, "drawn-1", "drawn")
            child = client.get_workflow_handle("drawn-1-packer")
            child_run = (await child.describe()).run_id
            yield await events_of(handle), child_run


def named(graph: Graph, node_id: str) -> str:
    """A node as the test names it: its kind and label, an activity's ID after a hash."""
    item = graph.nodes[node_id]
    facts = dict(item.facts)
    suffix = f"#{facts['activity ID']}" if item.kind is Kind.ACTIVITY else ""
    return f"{item.kind.value}:{item.label}{suffix}"


def drawing(events: list[HistoryEvent]) -> tuple[list[list[str]], list[tuple[str, str]]]:
    """A run's graph as the test names it: its rows, and its edges."""
    graph = build_graph(read_run(events, "default"))
    rows = [[named(graph, node) for node in row.node_ids] for row in graph.rows]
    return rows, [(named(graph, source), named(graph, target)) for source, target in graph.edges]


async def test_the_graph_has_a_node_for_everything_the_run_did(drawn: tuple[list[HistoryEvent], str]) -> None:
    assert drawing(drawn[0])[0] == [
        ["start:Drawn"],
        ["activity:fetch#1", "activity:fetch#2", "activity:fetch#3"],
        ["timer:timer 1"],
        ["child workflow:Packer"],
        ["signal:approve"],
        ["activity:charge#4"],
        ["update:note"],
        ["close:completed"],
    ]


async def test_edges_follow_what_each_workflow_task_heard(drawn: tuple[list[HistoryEvent], str]) -> None:
    graph = build_graph(read_run(drawn[0], "default"))
    edges = [(named(graph, source), named(graph, target)) for source, target in graph.edges]
    assert edges == [
        # fan-out: one workflow task schedules three activities side by side
        ("start:Drawn", "activity:fetch#1"),
        ("start:Drawn", "activity:fetch#2"),
        ("start:Drawn", "activity:fetch#3"),
        # join: the timer waits for all three, whichever tasks heard them
        ("activity:fetch#1", "timer:timer 1"),
        ("activity:fetch#2", "timer:timer 1"),
        ("activity:fetch#3", "timer:timer 1"),
        ("timer:timer 1", "child workflow:Packer"),
        ("child workflow:Packer", "activity:charge#4"),
        ("signal:approve", "activity:charge#4"),
        ("activity:charge#4", "close:completed"),
        ("update:note", "close:completed"),
    ]
    fan_out = graph.steps[0]
    assert len(fan_out.targets) == 3 and fan_out.sources == ("start",)


async def test_nodes_carry_statuses_retries_failures_and_links(drawn: tuple[list[HistoryEvent], str]) -> None:
    events, child_run = drawn
    graph = build_graph(read_run(events, "default"))
    by_name = {named(graph, node): item for node, item in graph.nodes.items()}
    charge = by_name["activity:charge#4"]
    assert (charge.status, charge.attempts, charge.retried) == (Status.FAILED, 3, True)
    assert charge.failure == "card declined for order-7"
    assert ("retry state", "maximum attempts reached") in charge.facts
    assert all(by_name[f"activity:fetch#{n}"].status is Status.COMPLETED for n in (1, 2, 3))
    assert not by_name["activity:fetch#1"].retried
    assert by_name["timer:timer 1"].status is Status.FIRED
    assert ("duration", "100 ms") in by_name["timer:timer 1"].facts
    child = by_name["child workflow:Packer"]
    assert child.status is Status.COMPLETED
    assert child.link == RunRef("default", "drawn-1-packer", child_run)
    assert by_name["signal:approve"].status is Status.RECEIVED
    assert by_name["update:note"].status is Status.COMPLETED
    assert by_name["close:completed"].status is Status.COMPLETED


async def test_the_timeline_has_a_bar_per_item_in_the_order_they_began(
    drawn: tuple[list[HistoryEvent], str],
) -> None:
    timeline = build_timeline(read_run(drawn[0], "default"))
    assert [(bar.item.kind, bar.item.label, bar.point) for bar in timeline.bars] == [
        (Kind.ACTIVITY, "fetch", False),
        (Kind.ACTIVITY, "fetch", False),
        (Kind.ACTIVITY, "fetch", False),
        (Kind.TIMER, "timer 1", False),
        (Kind.CHILD, "Packer", False),
        (Kind.SIGNAL, "approve", True),
        (Kind.ACTIVITY, "charge", False),
        (Kind.UPDATE, "note", False),
    ]
    for bar in timeline.bars:
        if bar.point:
            assert bar.ends is None and 0 <= bar.begins <= timeline.length
            continue
        assert bar.ends is not None and 0 <= bar.begins <= bar.ends <= timeline.length
        assert bar.started is None or bar.begins <= bar.started <= bar.ends
    charge = timeline.bars[6]
    # The last of three attempts started after two failures and their backoffs.
    assert charge.started is not None and charge.started > charge.begins
    assert charge.item.attempts == 3


@pytest.mark.differential
async def test_the_real_servers_history_of_the_same_run_draws_the_same_graph(
    drawn: tuple[list[HistoryEvent], str], temporal_client: Client, task_queue: str
) -> None:
    async with worker_for(temporal_client, task_queue, Registered(wd.WORKFLOWS, wd.ACTIVITIES)):
        handle = await run_drawn(temporal_client, f"drawn-{task_queue}", task_queue)
    assert drawing(await events_of(handle)) == drawing(drawn[0])


async def test_a_failed_workflow_task_a_patch_and_a_local_activity_are_drawn(
    in_process_client: Client, task_queue: str
) -> None:
    async with worker_for(in_process_client, task_queue, Registered(wd.WORKFLOWS, wd.ACTIVITIES)):
        handle = await in_process_client.start_workflow(wd.Stumbles.run, id=task_queue, task_queue=task_queue)
        assert await handle.result() == "stamped box"
    graph = build_graph(read_run((await handle.fetch_history()).events, "default"))
    rows = [
        [(graph.nodes[node].kind, graph.nodes[node].label) for node in row.node_ids] for row in graph.rows
    ]
    assert rows == [
        [(Kind.START, "Stumbles")],
        [(Kind.TASK_FAILURE, "workflow worker unhandled failure")],
        [(Kind.MARKER, "patch stamp-first"), (Kind.LOCAL_ACTIVITY, "stamp")],
        [(Kind.CLOSE, "completed")],
    ]
    failure = next(item for item in graph.nodes.values() if item.kind is Kind.TASK_FAILURE)
    assert failure.failure == "stumbled on the first try"
    local = next(item for item in graph.nodes.values() if item.kind is Kind.LOCAL_ACTIVITY)
    assert (local.status, local.attempts) == (Status.COMPLETED, 1)
