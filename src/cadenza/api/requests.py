"""Request helpers shared by the RPC groups: validation, deadlines, conversions."""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any, TypeVar

import grpc
from temporalio.api.enums.v1 import (
    TaskQueueKind,
)
from temporalio.api.failure.v1 import Failure
from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv1

from cadenza.config import ServerConfig
from cadenza.exceptions import InvalidArgumentError
from cadenza.history.machine import updates
from cadenza.history.machine.signals import Signal
from cadenza.matching.service import DEFAULT_DISPATCH_RATE
from cadenza.protoutil import is_repeated, present

logger = logging.getLogger(__name__)

R = TypeVar("R")

POLL_SAFETY_MARGIN = 1.0
"""Answer a long poll this long before the client's deadline so it gets an empty reply."""

SIGNAL_WITH_START_FIELDS = frozenset(
    f.name for f in wsv1.StartWorkflowExecutionRequest.DESCRIPTOR.fields
) & frozenset(f.name for f in wsv1.SignalWithStartWorkflowExecutionRequest.DESCRIPTOR.fields)
"""The start fields SignalWithStart shares with StartWorkflowExecution, copied across by name."""


def wanted_stage(stage: int) -> int:
    """Unspecified means completed, as in Temporal."""
    return stage or updates.COMPLETED


def with_request_id(request: Any) -> None:
    """Give a request its client left without an ID a fresh one, as Temporal's frontend does."""
    if not request.request_id:
        request.request_id = str(uuid.uuid4())


def start_request_of(
    request: wsv1.SignalWithStartWorkflowExecutionRequest,
) -> wsv1.StartWorkflowExecutionRequest:
    start = wsv1.StartWorkflowExecutionRequest()
    source: Any = request
    for field in start.DESCRIPTOR.fields:
        if field.name not in SIGNAL_WITH_START_FIELDS:
            continue
        if is_repeated(field):
            getattr(start, field.name).extend(getattr(source, field.name))
        elif field.message_type is None:
            setattr(start, field.name, getattr(source, field.name))
        elif source.HasField(field.name):
            getattr(start, field.name).CopyFrom(getattr(source, field.name))
    return start


def signal_of(request: wsv1.SignalWorkflowExecutionRequest) -> Signal:
    return Signal(
        request.signal_name,
        present(request, "input"),
        request.identity,
        present(request, "header"),
        request.request_id,
        tuple(request.links),
    )


def poller_rate(request: Any) -> float:
    """The dispatch rate a poll asks for: an activity poll may name one, a workflow poll never."""
    metadata = getattr(request, "task_queue_metadata", None)
    if metadata is not None and metadata.HasField("max_tasks_per_second"):
        return float(metadata.max_tasks_per_second.value)
    return DEFAULT_DISPATCH_RATE


def requested_rate(request: Any) -> float | None:
    """The dispatch rate a poll asks for its whole queue; None if it names none."""
    metadata = getattr(request, "task_queue_metadata", None)
    if metadata is not None and metadata.HasField("max_tasks_per_second"):
        return float(metadata.max_tasks_per_second.value)
    return None


def queue_name(task_queue: Any) -> str:
    if not task_queue.name:
        raise InvalidArgumentError("missing task queue name")
    if task_queue.kind == TaskQueueKind.TASK_QUEUE_KIND_STICKY and not task_queue.name:
        raise InvalidArgumentError("missing sticky task queue name")
    return str(task_queue.name)


def deadline_of(context: grpc.aio.ServicerContext[Any, Any]) -> float:
    remaining = context.time_remaining()
    if remaining is None:
        remaining = 70.0
    return time.monotonic() + max(0.0, remaining - POLL_SAFETY_MARGIN)


def poll_deadline(context: grpc.aio.ServicerContext[Any, Any], long_poll_seconds: float) -> float:
    """When a long poll answers empty: at the server's longest poll, or before the client gives up."""
    return min(deadline_of(context), time.monotonic() + long_poll_seconds)


def oversize_failure(message: str) -> Failure:
    failure = Failure(message=message)
    failure.server_failure_info.non_retryable = True
    return failure


def check_blob(size: int, config: ServerConfig) -> None:
    """Refuse a payload over the error limit; log one over the warning limit, as Temporal does."""
    if size > config.limits.blob_size_error:
        raise InvalidArgumentError("Blob data size exceeds limit.")
    if size > config.limits.blob_size_warn:
        logger.warning(
            "blob data size %d exceeds the warning limit of %d bytes", size, config.limits.blob_size_warn
        )
