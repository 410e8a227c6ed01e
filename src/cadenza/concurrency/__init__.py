"""Server-side concurrency limits: how many activity tasks of a queue (whole, and per fairness
key) and how many workflows of a type or workflow-ID prefix run at once."""

from cadenza.concurrency.limits import (
    ACTIVITY_QUEUE,
    POLICIES,
    QUEUE,
    REJECT,
    SCOPES,
    WORKFLOW_ID_PREFIX,
    WORKFLOW_TYPE,
    checked_limit,
)
from cadenza.concurrency.slots import ConcurrencyLimits

__all__ = [
    "ACTIVITY_QUEUE",
    "POLICIES",
    "QUEUE",
    "REJECT",
    "SCOPES",
    "WORKFLOW_ID_PREFIX",
    "WORKFLOW_TYPE",
    "ConcurrencyLimits",
    "checked_limit",
]
