"""What a handler worker's answer to a Nexus request means for the calling operation."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format
from temporalio.api.common.v1 import Link, Payload
from temporalio.api.enums.v1 import NexusHandlerErrorRetryBehavior
from temporalio.api.failure.v1 import Failure
from temporalio.api.nexus.v1 import Failure as NexusFailure
from temporalio.api.workflowservice.v1 import RespondNexusTaskFailedRequest

from cadenza.nexus import links

FAILURE_TYPE = "temporal.api.failure.v1.Failure"
RETRYABLE_TYPES = frozenset(
    {"RESOURCE_EXHAUSTED", "INTERNAL", "UNAVAILABLE", "UPSTREAM_TIMEOUT", "REQUEST_TIMEOUT", "UNKNOWN"}
)
"""Handler error types the caller retries unless the handler said otherwise (Nexus's rules)."""


class Verdict(enum.Enum):
    COMPLETED = "completed"
    STARTED = "started"
    FAILED = "failed"
    CANCELED = "canceled"
    RETRY = "retry"
    """The handler could not answer now: the request is sent again after a backoff."""
    ACCEPTED = "accepted"
    """A cancel request was accepted."""


@dataclass
class Answer:
    verdict: Verdict
    result: Payload | None = None
    token: str = ""
    links: list[Link] = field(default_factory=list)
    failure: Failure | None = None


def from_start(response: Any) -> Answer:
    """A RespondNexusTaskCompleted request's answer to a start request."""
    start = response.response.start_operation
    variant = start.WhichOneof("variant")
    if variant == "sync_success":
        found = _links(start.sync_success.links)
        return Answer(Verdict.COMPLETED, result=start.sync_success.payload, links=found)
    if variant == "async_success":
        token = start.async_success.operation_token or start.async_success.operation_id
        return Answer(Verdict.STARTED, token=token, links=_links(start.async_success.links))
    if variant == "failure":
        canceled = start.failure.HasField("canceled_failure_info")
        return Answer(Verdict.CANCELED if canceled else Verdict.FAILED, failure=start.failure)
    if variant == "operation_error":
        error = start.operation_error
        failure = temporal_failure(error.failure)
        return Answer(
            Verdict.CANCELED if error.operation_state == "canceled" else Verdict.FAILED, failure=failure
        )
    return Answer(Verdict.RETRY, failure=Failure(message="empty start operation response"))


def _links(nexus_links: Any) -> list[Link]:
    """The workflow-event links among a handler's answer's links, as history records them."""
    found = [links.from_nexus(link) for link in nexus_links]
    return [link for link in found if link is not None]


def from_failed(request: RespondNexusTaskFailedRequest) -> Answer:
    """A handler error: retried, or final when the handler or its type says so."""
    if request.HasField("failure"):
        failure = request.failure
        info = failure.nexus_handler_failure_info
        error_type, behavior = info.type, info.retry_behavior
    else:
        failure = temporal_failure(request.error.failure)
        failure.nexus_handler_failure_info.type = request.error.error_type
        failure.nexus_handler_failure_info.retry_behavior = request.error.retry_behavior
        error_type, behavior = request.error.error_type, request.error.retry_behavior
    if behavior == NexusHandlerErrorRetryBehavior.NEXUS_HANDLER_ERROR_RETRY_BEHAVIOR_NON_RETRYABLE:
        retryable = False
    elif behavior == NexusHandlerErrorRetryBehavior.NEXUS_HANDLER_ERROR_RETRY_BEHAVIOR_RETRYABLE:
        retryable = True
    else:
        retryable = error_type in RETRYABLE_TYPES
    return Answer(Verdict.RETRY if retryable else Verdict.FAILED, failure=failure)


def temporal_failure(failure: NexusFailure) -> Failure:
    """A Nexus failure as a Temporal one: the Temporal failure it wraps, or a new one."""
    if failure.metadata.get("type") == FAILURE_TYPE and failure.details:
        try:
            parsed = json_format.Parse(failure.details, Failure(), ignore_unknown_fields=True)
        except json_format.ParseError:
            parsed = Failure()
        if not parsed.message:
            parsed.message = failure.message
        return parsed
    converted = Failure(message=failure.message)
    converted.application_failure_info.SetInParent()
    return converted
