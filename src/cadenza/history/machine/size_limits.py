"""History length and size limits: a run that outgrows them is logged, then terminated.

As in Temporal, the check follows a completed workflow task: past the warning
limits the server logs the run; past the error limits it terminates it, with
Temporal's reasons, so one runaway workflow cannot grow without bound.
"""

from __future__ import annotations

import logging

from cadenza.config import Limits
from cadenza.history.machine import workflow_ops
from cadenza.history.machine.change import Change

logger = logging.getLogger(__name__)

COUNT_EXCEEDED = "Workflow history count exceeds limit."
SIZE_EXCEEDED = "Workflow history size exceeds limit."


def enforce(change: Change, limits: Limits) -> bool:
    """Terminate the run if its history is over a limit; True if it was terminated."""
    s = change.state
    if not s.running:
        return False
    count, size = s.next_event_id - 1, change.history_size()
    reason = (
        COUNT_EXCEEDED
        if count > limits.history_count_error
        else SIZE_EXCEEDED
        if size > limits.history_size_error
        else ""
    )
    if reason:
        workflow_ops.terminate(change, reason, None, "history-service")
        return True
    if count > limits.history_count_warn or size > limits.history_size_warn:
        logger.warning(
            "history of workflow %s run %s is large: %d events, %d bytes",
            s.workflow_id,
            s.run_id,
            count,
            size,
        )
    return False
