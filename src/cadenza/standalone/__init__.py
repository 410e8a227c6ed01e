"""Standalone activities: activities started by a client, without a workflow (Temporal's
StartActivityExecution). ``machine`` is the pure state of one run; ``service`` loads,
changes and stores it, and hands its tasks and timers to matching and the timer queue."""

NEXUS_OPERATIONS_SUFFIX = "/nexus-operations"
"""The key space of standalone Nexus operations among the standalone runs: their rows' namespace
is their namespace's ID with this suffix, so listing a namespace's activities never finds them."""


def nexus_operation_rows(namespace_id: str) -> str:
    """The namespace key of a namespace's standalone Nexus operations' rows."""
    return namespace_id + NEXUS_OPERATIONS_SUFFIX
