"""The INFO lines about runs: each one started and each one closed.

One line per run at each end, never one per event or task, so INFO stays
readable under load. Each line carries its fields as ``extra`` for structured
handlers. Nothing is built unless INFO is enabled (by default it is not), so
the cost on every commit is one cached level check.
"""

from __future__ import annotations

import logging

from temporalio.api.enums.v1 import WorkflowExecutionStatus

from cadenza.history.machine.change import Change
from cadenza.history.machine.state import MutableState

logger = logging.getLogger(__name__)

_RUNNING = WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING


def committed(change: Change) -> None:
    """Log the run ``change`` started or closed, if it did either (called after its commit)."""
    if not logger.isEnabledFor(logging.INFO):
        return
    state = change.state
    if change.version == 0:
        logger.info(
            "workflow %s started: run %s, type %s, task queue %s, namespace %s",
            state.workflow_id,
            state.run_id,
            state.workflow_type,
            state.task_queue,
            state.namespace,
            extra=_fields(state),
        )
    if change.status_changed and state.status != _RUNNING:
        status = status_name(state.status)
        logger.info(
            "workflow %s %s: run %s, type %s, after %.3f s, namespace %s",
            state.workflow_id,
            status,
            state.run_id,
            state.workflow_type,
            state.close_time - state.start_time,
            state.namespace,
            extra={**_fields(state), "status": status},
        )


def status_name(status: int) -> str:
    """``completed``, ``timed_out``, ``continued_as_new``... as an operator reads them."""
    try:
        name = WorkflowExecutionStatus.Name(status)  # type: ignore[arg-type]
    except ValueError:
        return str(status)
    return name.removeprefix("WORKFLOW_EXECUTION_STATUS_").lower()


def _fields(state: MutableState) -> dict[str, object]:
    return {
        "namespace": state.namespace,
        "workflow_id": state.workflow_id,
        "run_id": state.run_id,
        "workflow_type": state.workflow_type,
        "task_queue": state.task_queue,
    }
