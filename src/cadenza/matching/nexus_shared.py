"""Nexus requests shared with the other replicas on one database.

A request rides in the ``queries`` table (migration 5) under an ID with its own prefix, so it is
announced, claimed by exactly one replica's poll, answered and cleaned up as a shared query is,
and never mistaken for one. The row is only a mailbox: the durable record of a request is its
caller's outbox entry, which sends it again (as a new row) if its replica dies meanwhile.
"""

from __future__ import annotations

import time
from typing import Any

from temporalio.api.nexus.v1 import Request
from temporalio.api.workflowservice.v1 import (
    RespondNexusTaskCompletedRequest,
    RespondNexusTaskFailedRequest,
)

from cadenza.persistence.records import QueryReply, SharedQuery

PREFIX = "nexus:"
"""How a Nexus request's row ID starts, to tell it from a workflow query's."""
_COMPLETED, _FAILED = 1, 2
DEFAULT_TIMEOUT = 10.0


def row_id(task_id: str) -> str:
    return PREFIX + task_id


def is_nexus(row: str) -> bool:
    return row.startswith(PREFIX)


def task_id_of(row: str) -> str:
    return row.removeprefix(PREFIX)


def offered(task_id: str, owner: str, namespace_id: str, task_queue: str, request: Request) -> SharedQuery:
    """The row that offers ``request`` to every replica's handler polls."""
    return SharedQuery(
        row_id(task_id), owner, namespace_id, task_queue, "", "", request.SerializeToString(), time.time()
    )


def request_of(row: SharedQuery) -> tuple[Request, float]:
    """The request a row carries and the monotonic time its caller stops waiting for it."""
    request = Request.FromString(row.query)
    timeout = _seconds(request.header.get("request-timeout", "")) or DEFAULT_TIMEOUT
    left = row.created_at + timeout - time.time()
    return request, time.monotonic() + left


def reply_of(answer: Any) -> QueryReply:
    """A handler's RespondNexusTaskCompleted/Failed request, stored for the caller's replica."""
    kind = _FAILED if isinstance(answer, RespondNexusTaskFailedRequest) else _COMPLETED
    return QueryReply(kind, answer.SerializeToString())


def answer_of(reply: QueryReply) -> Any:
    """The handler's request back from its stored reply."""
    data = reply.result or b""
    if reply.completed_type == _FAILED:
        return RespondNexusTaskFailedRequest.FromString(data)
    return RespondNexusTaskCompletedRequest.FromString(data)


def _seconds(header: str) -> float:
    """A Nexus duration header ("1.500s", "250ms") in seconds; 0 if unreadable."""
    try:
        if header.endswith("ms"):
            return float(header[:-2]) / 1000
        if header.endswith("s"):
            return float(header[:-1])
    except ValueError:
        pass
    return 0.0
