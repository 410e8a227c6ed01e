"""Commands the server pushes to a worker process over its control queue.

A worker process that supports it names a per-process "control" task queue
in its polls (``worker_control_task_queue``) and long-polls that queue for
Nexus tasks. When an activity attempt the process took ends without the
worker's own answer (it timed out, the workflow asked to cancel it, or the
workflow closed), the server tells the process to stop it, so the activity
learns of it without heartbeating.

Delivery is best effort and kept in memory only: a command that is lost
merely leaves the worker to its own local timeout handling.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WorkerCommands:
    """Commands for the worker process behind one control queue."""

    namespace_id: str
    control_queue: str
    cancel_activities: tuple[bytes, ...]
    """Task tokens of activity attempts the worker should cancel."""
