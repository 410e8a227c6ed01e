"""What a concurrency limit is: its scope, its caps and its policy when full, checked whole.

Shaped like the concurrency limit proposed for Temporal's ``TaskQueueConfig`` (a whole-queue
cap), with what Temporal's rate limits have beside it (a default cap per fairness key), and
what it does not have: caps on running workflows per type or workflow-ID prefix.
"""

from __future__ import annotations

from typing import Any

from cadenza.exceptions import InvalidArgumentError
from cadenza.persistence.concurrency_records import ConcurrencyLimitRecord, SlotRecord

ACTIVITY_QUEUE = "activity-queue"
"""Activity tasks of one task queue, from their dispatch to a worker until their attempt ends."""
WORKFLOW_TYPE = "workflow-type"
"""Workflows of one type, from their start until their chain of runs closes."""
WORKFLOW_ID_PREFIX = "workflow-id-prefix"
"""Workflows whose ID starts with a prefix, likewise."""
SCOPES = (ACTIVITY_QUEUE, WORKFLOW_TYPE, WORKFLOW_ID_PREFIX)

QUEUE = "queue"
"""When full, wait for a slot: an activity task stays in its queue, a start waits."""
REJECT = "reject"
"""When full, refuse a workflow's start with RESOURCE_EXHAUSTED (activities always wait)."""
POLICIES = (QUEUE, REJECT)

MAX_LIMIT = 1_000_000
MAX_NAME_BYTES = 1000
"""As long as Temporal lets a task queue's name or a workflow ID be."""

LimitKey = tuple[str, str, str]
"""A limit's namespace ID, scope and name."""


def checked_limit(
    namespace_id: str, scope: str, name: str, max_running: int, fairness_key_max: int, policy: str
) -> ConcurrencyLimitRecord:
    """The limit these values set, or ``InvalidArgumentError`` naming the bad one."""
    if scope not in SCOPES:
        raise InvalidArgumentError(
            f"unknown concurrency limit scope {scope!r}: expected one of {', '.join(SCOPES)}"
        )
    if not name or len(name.encode()) > MAX_NAME_BYTES:
        raise InvalidArgumentError(f"a {scope} limit needs a name of 1 to {MAX_NAME_BYTES} bytes")
    for field, value in (("limit", max_running), ("fairness key limit", fairness_key_max)):
        if not 0 <= value <= MAX_LIMIT:
            raise InvalidArgumentError(f"the {field} must be between 0 (none) and {MAX_LIMIT}, not {value}")
    if not max_running and not fairness_key_max:
        raise InvalidArgumentError("a concurrency limit needs a limit or a fairness key limit above 0")
    if fairness_key_max and scope != ACTIVITY_QUEUE:
        raise InvalidArgumentError("a fairness key limit applies to activity queues only")
    if policy not in POLICIES:
        raise InvalidArgumentError(f"unknown policy {policy!r}: expected one of {', '.join(POLICIES)}")
    if policy == REJECT and scope == ACTIVITY_QUEUE:
        raise InvalidArgumentError("an activity queue's limit can only queue: its tasks wait for a slot")
    return ConcurrencyLimitRecord(namespace_id, scope, name, max_running, fairness_key_max, policy)


def key_of(record: ConcurrencyLimitRecord | SlotRecord) -> LimitKey:
    return (record.namespace_id, record.scope, record.name)


def describe(limit: ConcurrencyLimitRecord) -> str:
    """The limit in words, for refusals and logs."""
    caps = []
    if limit.max_running:
        caps.append(f"{limit.max_running} running")
    if limit.fairness_key_max:
        caps.append(f"{limit.fairness_key_max} per fairness key")
    return f"{limit.scope} {limit.name!r} concurrency limit ({', '.join(caps)})"


def as_json(limit: ConcurrencyLimitRecord, namespace: str, running: int) -> dict[str, Any]:
    """A limit as the HTTP route and the CLI show it, with the slots held now."""
    return {
        "namespace": namespace,
        "scope": limit.scope,
        "name": limit.name,
        "limit": limit.max_running,
        "fairnessKeyLimit": limit.fairness_key_max,
        "policy": limit.policy,
        "running": running,
    }
