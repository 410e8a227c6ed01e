"""The promises a server must keep under any storage fault, checked on what it stored.

Pure functions over histories (``HistoryEvent`` lists, as the API returns them) and over what
the workers saw; each returns the violations it finds as sentences, empty when all hold:

- a history is well formed: event IDs run 1, 2, 3...; it opens with the run's start; every
  scheduled activity, timer, child and workflow task is resolved at most once, after it was
  scheduled, and exactly once when the run completed; at most one closing event, the last;
- a workflow ID's chain of runs (continue-as-new links) ends in exactly one closing event
  that is not a continue-as-new, and every run it links to exists;
- a start a client saw acknowledged has such a chain;
- no activity attempt reached a worker twice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent

E = EventType

CLOSING = {
    E.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
    E.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
    E.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
    E.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
    E.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
    E.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
}


@dataclass(frozen=True)
class Resolution:
    """Events that resolve an earlier one, and the attribute naming it."""

    opened_by: int
    kind: str
    field: str
    resolved_by: frozenset[int]


RESOLUTIONS = [
    Resolution(
        E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
        "activity",
        "scheduled_event_id",
        frozenset(
            {
                E.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
                E.EVENT_TYPE_ACTIVITY_TASK_FAILED,
                E.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT,
                E.EVENT_TYPE_ACTIVITY_TASK_CANCELED,
            }
        ),
    ),
    Resolution(
        E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
        "activity start",
        "scheduled_event_id",
        frozenset({E.EVENT_TYPE_ACTIVITY_TASK_STARTED}),
    ),
    Resolution(
        E.EVENT_TYPE_TIMER_STARTED,
        "timer",
        "started_event_id",
        frozenset({E.EVENT_TYPE_TIMER_FIRED, E.EVENT_TYPE_TIMER_CANCELED}),
    ),
    Resolution(
        E.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED,
        "child",
        "initiated_event_id",
        frozenset(
            {
                E.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED,
                E.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED,
                E.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED,
                E.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_CANCELED,
                E.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TIMED_OUT,
                E.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TERMINATED,
            }
        ),
    ),
    Resolution(
        E.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
        "workflow task",
        "scheduled_event_id",
        frozenset(
            {
                E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
                E.EVENT_TYPE_WORKFLOW_TASK_FAILED,
                E.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
            }
        ),
    ),
]


def _attributes(event: HistoryEvent) -> object:
    field = event.WhichOneof("attributes")
    return getattr(event, field) if field else None


def check_history(name: str, events: Sequence[HistoryEvent]) -> list[str]:
    """Everything wrong with one run's history; ``name`` says which run in each sentence."""
    if not events:
        return [f"{name}: the history is empty"]
    problems = [f"{name}: {p}" for p in _shape(events)]
    completed = events[-1].event_type == E.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED
    for resolution in RESOLUTIONS:
        problems += [f"{name}: {p}" for p in _resolved(events, resolution, must_resolve=completed)]
    return problems


def _shape(events: Sequence[HistoryEvent]) -> list[str]:
    problems = []
    if events[0].event_type != E.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
        problems.append(f"the first event is {E.Name(events[0].event_type)}, not the run's start")
    for position, event in enumerate(events, start=1):
        if event.event_id != position:
            problems.append(f"event {position} has ID {event.event_id}: IDs are not contiguous from 1")
            break
    closing = [event for event in events if event.event_type in CLOSING]
    if len(closing) > 1:
        problems.append(f"{len(closing)} closing events: {[E.Name(e.event_type) for e in closing]}")
    if closing and closing[0] is not events[-1]:
        problems.append(f"events follow the closing event {closing[0].event_id}")
    return problems


def _resolved(events: Sequence[HistoryEvent], resolution: Resolution, *, must_resolve: bool) -> list[str]:
    opened = {event.event_id for event in events if event.event_type == resolution.opened_by}
    resolved: Counter[int] = Counter()
    problems = []
    for event in events:
        if event.event_type not in resolution.resolved_by:
            continue
        target = int(getattr(_attributes(event), resolution.field))
        resolved[target] += 1
        if target not in opened or target >= event.event_id:
            problems.append(
                f"{E.Name(event.event_type)} (event {event.event_id}) resolves event {target}, "
                f"which is no earlier {resolution.kind}"
            )
    problems += [
        f"{resolution.kind} {target} resolved {count} times"
        for target, count in resolved.items()
        if count > 1
    ]
    if must_resolve and resolution.kind != "activity start":
        problems += [
            f"{resolution.kind} {target} never resolved in a completed run"
            for target in sorted(opened - set(resolved))
        ]
    return problems


def check_chain(workflow_id: str, runs: Mapping[str, Sequence[HistoryEvent]], first_run_id: str) -> list[str]:
    """A workflow ID's runs from ``first_run_id`` along its continue-as-new links: each run's
    history well formed, the chain whole, and exactly one closing that ends it."""
    problems: list[str] = []
    run_id, seen = first_run_id, set()
    while True:
        if run_id in seen:
            return [*problems, f"{workflow_id}: the chain loops back to run {run_id}"]
        seen.add(run_id)
        events = runs.get(run_id)
        if events is None:
            return [*problems, f"{workflow_id}: run {run_id} of the chain is missing"]
        problems += check_history(f"{workflow_id}/{run_id}", events)
        last = events[-1] if events else None
        if last is None or last.event_type not in CLOSING:
            return [*problems, f"{workflow_id}: run {run_id} never closed"]
        if last.event_type != E.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
            break
        run_id = last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
    closing_runs = [
        rid
        for rid in seen
        if (events := runs[rid])
        and events[-1].event_type in CLOSING - {E.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW}
    ]
    if len(closing_runs) != 1:
        problems.append(f"{workflow_id}: {len(closing_runs)} runs of the chain closed it")
    return problems


def check_acknowledged(acknowledged: Iterable[str], completed: Mapping[str, int]) -> list[str]:
    """Every start a client saw acknowledged completed exactly once (``completed`` counts the
    closings that ended each workflow ID's chain)."""
    return [
        f"{workflow_id}: acknowledged start completed {completed.get(workflow_id, 0)} times"
        for workflow_id in sorted(set(acknowledged))
        if completed.get(workflow_id, 0) != 1
    ]


def check_deliveries(deliveries: Iterable[tuple[str, ...]]) -> list[str]:
    """No activity attempt (workflow, run, activity ID, attempt) reached a worker twice."""
    return [
        f"activity attempt {'/'.join(key)} handed out {count} times"
        for key, count in Counter(deliveries).items()
        if count > 1
    ]
