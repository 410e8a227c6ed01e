"""Temporal's ``Priority`` between protobuf and the ``TaskPriority`` tasks carry, checked as
Temporal checks it."""

from __future__ import annotations

from temporalio.api.common.v1 import Priority

from cadenza.exceptions import InvalidArgumentError
from cadenza.persistence.records import NO_PRIORITY, TaskPriority

FAIRNESS_KEY_MAX_LENGTH = 64


def validate(priority: Priority) -> None:
    """Reject what Temporal rejects: a negative key or weight, a fairness key over 64 bytes."""
    if priority.priority_key < 0:
        raise InvalidArgumentError("priority key can't be negative")
    if len(priority.fairness_key.encode()) > FAIRNESS_KEY_MAX_LENGTH:
        raise InvalidArgumentError("fairness key length exceeds limit")
    if priority.fairness_weight < 0:
        raise InvalidArgumentError("fairness weight can't be negative")


def from_proto(message: object, field: str = "priority") -> TaskPriority:
    """The priority in ``message.<field>``, or no priority if the sender set none."""
    if not message.HasField(field):  # type: ignore[attr-defined]
        return NO_PRIORITY
    priority: Priority = getattr(message, field)
    return TaskPriority(priority.priority_key, priority.fairness_key, priority.fairness_weight)


def to_proto(priority: TaskPriority, out: Priority) -> None:
    out.priority_key = priority.priority_key
    out.fairness_key = priority.fairness_key
    out.fairness_weight = priority.fairness_weight
