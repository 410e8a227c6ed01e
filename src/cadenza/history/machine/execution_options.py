"""UpdateWorkflowExecutionOptions on a run: its versioning override and its priority (pure).

As on Temporal, the masked fields of the request replace the run's; a change that leaves the
options as they were writes nothing, and one that changes them writes one
WorkflowExecutionOptionsUpdated event carrying the options as they now stand. The event
asks for no workflow task. A pending workflow task is dispatched again when the change
moves the run to another version, or gives it another priority.

A mask naming the priority of a request that carries none leaves the run's priority as it
is, as on Temporal: the answer and the event then show no priority, and since such options
never equal the run's, each such request writes an event.
"""

from __future__ import annotations

from temporalio.api.common.v1 import Priority
from temporalio.api.enums.v1 import EventType
from temporalio.api.workflow.v1 import WorkflowExecutionOptions

from cadenza.exceptions import InvalidArgumentError
from cadenza.history.machine import priorities, versioning
from cadenza.history.machine.change import Change
from cadenza.history.machine.state import MutableState
from cadenza.persistence.records import TaskKind

MASKABLE = ("versioning_override", "priority")


def current(state: MutableState) -> WorkflowExecutionOptions:
    """The run's options as UpdateWorkflowExecutionOptions answers them."""
    options = WorkflowExecutionOptions(priority=Priority())
    override = versioning.info(state).versioning_override
    if override.ByteSize():
        options.versioning_override.CopyFrom(versioning.plain_override(override))
    priorities.to_proto(state.priority, options.priority)
    return options


def check_request(options: WorkflowExecutionOptions, paths: list[str]) -> None:
    """Refuse a mask naming what the options lack, or a bad priority, as Temporal's frontend does:
    before it looks for the run."""
    for path in paths:
        if path not in MASKABLE:
            raise InvalidArgumentError(
                # Go's protobuf writes a no-break space after "proto:", as the real server shows.
                f'error parsing UpdateMask: proto:\u00a0invalid path "{path}" for message '
                '"temporal.api.workflow.v1.WorkflowExecutionOptions"'
            )
    priorities.validate(options.priority)


def merged(
    state: MutableState, options: WorkflowExecutionOptions, paths: list[str]
) -> WorkflowExecutionOptions:
    """The run's options with the masked fields of ``options`` in their place."""
    result = current(state)
    for path in paths:  # checked by check_request
        if options.HasField(path):  # type: ignore[arg-type]
            getattr(result, path).CopyFrom(getattr(options, path))
        else:
            result.ClearField(path)  # type: ignore[arg-type]
    return result


def update(change: Change, wanted: WorkflowExecutionOptions, identity: str) -> bool:
    """Give the run the options ``wanted``; False if they are the ones it has (nothing written)."""
    s = change.state
    if wanted == current(s):
        return False
    priority_before = s.priority
    override_changed = wanted.versioning_override != current(s).versioning_override
    event = change.add_or_buffer(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_OPTIONS_UPDATED)
    event.worker_may_ignore = True
    attrs = event.workflow_execution_options_updated_event_attributes
    if wanted.HasField("versioning_override"):
        attrs.versioning_override.CopyFrom(wanted.versioning_override)
    else:
        attrs.unset_versioning_override = True
    attrs.identity = identity
    if wanted.HasField("priority"):
        attrs.priority.CopyFrom(wanted.priority)
    info = versioning.info(s)
    info.ClearField("versioning_override")
    if wanted.HasField("versioning_override"):
        info.versioning_override.CopyFrom(versioning.full_override(wanted.versioning_override))
    versioning.store(s, info)
    versioning.show(s, info)
    if wanted.HasField("priority"):
        s.priority = priorities.from_proto(wanted)
    if override_changed:  # as on Temporal, the next task goes to the normal queue, not the sticky one
        s.sticky_queue = ""
    if override_changed or s.priority != priority_before:
        _dispatch_again(change, moved=override_changed)
    change.state_changed = True
    return True


def _dispatch_again(change: Change, *, moved: bool) -> None:
    """Send a workflow task still waiting for a worker to where the run's options now route it."""
    s = change.state
    wft = s.workflow_task
    if wft is None or wft.started_event_id or not wft.task_id:
        return
    if moved:  # off the sticky queue too
        wft.task_queue = s.task_queue
        change.remove_timer(wft.timer_id)
        wft.timer_id = ""
    change.remove_task(wft.task_id)
    wft.task_id = change.add_task(
        TaskKind.WORKFLOW, wft.task_queue, wft.scheduled_event_id, wft.attempt, s.priority
    )
