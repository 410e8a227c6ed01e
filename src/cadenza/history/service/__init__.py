"""The history service: loads an execution, applies one operation, commits, hands off tasks.

The I/O side of the history role, one module per operation family, each named
after the RPCs it serves: ``starting``, ``workflow_task_rpcs``,
``activity_task_rpcs``, ``activity_ops_rpcs``, ``workflow_pause_rpcs``, ``update_rpcs``, ``signal_rpcs``, ``run_operations``,
``fired_timers``. They share the transaction in ``engine`` (lock, load, change,
commit, hand off). Next to them: ``cache`` (executions in memory, their
histories kept in ``event_log`` as the stored bytes, which ``wire`` writes
into answers without decoding them), ``reads``
(history pages, descriptions), ``queries`` and ``transfers`` (work between
executions). What the operations record is decided by the pure state machine,
``cadenza.history.machine``.
"""

from __future__ import annotations

from cadenza.history.service.activity_ops_rpcs import ActivityOperations, Restart
from cadenza.history.service.activity_task_rpcs import ActivityTaskRpcs
from cadenza.history.service.engine import Dispatch
from cadenza.history.service.execution_options_rpcs import ExecutionOptionsRpcs
from cadenza.history.service.fired_timers import FiredTimers
from cadenza.history.service.run_operations import RunOperations
from cadenza.history.service.signal_rpcs import SignalRpcs
from cadenza.history.service.starting import Starting, StartResult
from cadenza.history.service.update_rpcs import UpdateRpcs
from cadenza.history.service.workflow_pause_rpcs import WorkflowPauseOperations
from cadenza.history.service.workflow_task_rpcs import WorkflowTaskRpcs

__all__ = ["Dispatch", "HistoryService", "Restart", "StartResult"]


class HistoryService(
    Starting,
    WorkflowTaskRpcs,
    ActivityTaskRpcs,
    ActivityOperations,
    WorkflowPauseOperations,
    ExecutionOptionsRpcs,
    UpdateRpcs,
    SignalRpcs,
    RunOperations,
    FiredTimers,
):
    """Every change to an execution goes through here, one at a time per execution.

    One object for the server and the API to hold; each operation is written in
    the family module its RPC names, on the shared ``Engine``.
    """
