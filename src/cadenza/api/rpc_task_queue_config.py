"""UpdateTaskQueueConfig, and the config and effective rate limit DescribeTaskQueue reports.

The checks and their messages are the real server's (Temporal 1.32), so the CLI's
``temporal task-queue config set`` fails the same way against both; Cadenza also refuses
what the real server stores unused (a queue type it does not know, a queue with no name or
one over 1,000 bytes, a rate or weight that is not a number).
"""

from __future__ import annotations

import math
from typing import Any

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import RateLimitConfig, TaskQueueConfig
from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv1

from cadenza.api.errors import translated
from cadenza.clock import Clock
from cadenza.exceptions import InvalidArgumentError
from cadenza.history.machine import events as ev
from cadenza.matching.queue_configs import QUEUE_KINDS, QueueConfigs, api_limits
from cadenza.matching.rate_limits import RateLimits, effective_rate
from cadenza.namespaces import NamespaceRegistry
from cadenza.validation import check_length

MAX_REASON = 1000
MAX_IDENTITY = 1000
MAX_FAIRNESS_KEY = 64
MAX_WEIGHT_OVERRIDES = 1000
"""The real server's limits: a reason's and an identity's characters, a fairness key's length,
and the weight overrides one request may set and one queue may hold."""

CONFIGURABLE_TYPES = (
    TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
    TaskQueueType.TASK_QUEUE_TYPE_NEXUS,
)

_RATE_UPDATES = {
    "update_queue_rate_limit": ("UpdateQueueRateLimit", "queue_rate_limit", "rate limit"),
    "update_fairness_key_rate_limit_default": (
        "UpdateFairnessKeyRateLimitDefault",
        "fairness_keys_rate_limit_default",
        "fairness key rate limit",
    ),
}
"""Each rate-limit update of the request: its name in messages, the config field it sets, and
what a workflow queue may not have."""


class TaskQueueConfigRpcs:
    """UpdateTaskQueueConfig: a queue's rate limits and fairness weight overrides."""

    def __init__(self, *, namespaces: NamespaceRegistry, queue_configs: QueueConfigs, clock: Clock) -> None:
        self._namespaces = namespaces
        self._queue_configs = queue_configs
        self._clock = clock

    @translated
    async def UpdateTaskQueueConfig(
        self, request: wsv1.UpdateTaskQueueConfigRequest, context: Any
    ) -> wsv1.UpdateTaskQueueConfigResponse:
        namespace = await self._namespaces.get(request.namespace)
        _check(request)
        if not request.task_queue:
            raise InvalidArgumentError("missing task queue name")
        check_length(request.task_queue, "taskQueue length exceeds limit")
        name = request.task_queue

        def change(config: TaskQueueConfig) -> None:
            _apply(request, config, self._clock.now())

        config = await self._queue_configs.update(namespace.id, name, request.task_queue_type, change)
        return wsv1.UpdateTaskQueueConfigResponse(config=config)


async def describe_config(
    response: wsv1.DescribeTaskQueueResponse,
    request: wsv1.DescribeTaskQueueRequest,
    namespace_id: str,
    queue_configs: QueueConfigs,
    rate_limits: RateLimits,
) -> None:
    """Fill in DescribeTaskQueue's config (when asked for) and effective rate limit."""
    name = request.task_queue.name
    queue_type = request.task_queue_type or TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW
    config = await queue_configs.get(namespace_id, name, queue_type)
    if config is not None and request.report_config:
        response.config.CopyFrom(config)
    kind = QUEUE_KINDS.get(queue_type)
    if kind is not None:
        rate, source = rate_limits.effective(namespace_id, name, kind)
    else:  # a queue matching does not dispatch: only its config counts
        rate, source = effective_rate(api_limits(config or TaskQueueConfig()), None)
    response.effective_rate_limit.requests_per_second = rate
    response.effective_rate_limit.rate_limit_source = int(source)  # type: ignore[assignment]
    if request.include_task_queue_status:
        response.task_queue_status.rate_per_second = rate


def _check(request: wsv1.UpdateTaskQueueConfigRequest) -> None:
    """Refuse a request the real server refuses, with its words; nothing is changed."""
    if len(request.identity) > MAX_IDENTITY:
        raise InvalidArgumentError(f"Identity field too long (max {MAX_IDENTITY} characters).")
    if request.task_queue_type not in CONFIGURABLE_TYPES:
        raise InvalidArgumentError(f"unknown task queue type: {request.task_queue_type}")
    for field, (label, _, what) in _RATE_UPDATES.items():
        update = getattr(request, field)
        if not update.HasField("rate_limit"):  # an unset: taken as it is, as the real server takes it
            continue
        if request.task_queue_type == TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW:
            raise InvalidArgumentError(f"Setting {what} on workflow task queues is not allowed.")
        rate = update.rate_limit.requests_per_second
        if math.isnan(rate):
            raise InvalidArgumentError(f"RequestsPerSecond for {label} rate limit must be a number.")
        if rate < 0:
            raise InvalidArgumentError(f"RequestsPerSecond for {label} rate limit must be non-negative.")
        if len(update.reason) > MAX_REASON:
            raise InvalidArgumentError(f"{label}.Reason field too long (max {MAX_REASON} characters).")
    _check_weights(request)


def _check_weights(request: wsv1.UpdateTaskQueueConfigRequest) -> None:
    overrides = request.set_fairness_weight_overrides
    if len(overrides) > MAX_WEIGHT_OVERRIDES:
        raise InvalidArgumentError(
            f"too many fairness weight overrides in request: got {len(overrides)}, "
            f"maximum {MAX_WEIGHT_OVERRIDES}"
        )
    for key in [*overrides, *request.unset_fairness_weight_overrides]:
        if not key:
            raise InvalidArgumentError("fairness weight override key must not be empty")
        if len(key) > MAX_FAIRNESS_KEY:
            raise InvalidArgumentError("fairness key length exceeds limit")
    for key, weight in overrides.items():
        if math.isnan(weight) or weight <= 0:
            raise InvalidArgumentError(
                f'invalid fairness weight weight for key "{key}": must be greater than zero'
            )
        if key in request.unset_fairness_weight_overrides:
            raise InvalidArgumentError(
                f'fairness weight override key "{key}" present in both set and unset lists'
            )


def _apply(request: wsv1.UpdateTaskQueueConfigRequest, config: TaskQueueConfig, now: float) -> None:
    """The request's changes, made to ``config``; the merged overrides checked against the
    queue's limit."""
    for field, (_, target, _) in _RATE_UPDATES.items():
        if request.HasField(field):  # type: ignore[arg-type]
            update = getattr(request, field)
            limit = RateLimitConfig()
            if update.HasField("rate_limit"):
                limit.rate_limit.CopyFrom(update.rate_limit)
            limit.metadata.reason = update.reason
            limit.metadata.update_identity = request.identity
            limit.metadata.update_time.CopyFrom(ev.timestamp(now))
            getattr(config, target).CopyFrom(limit)
    overrides = config.fairness_weight_overrides
    for key, weight in request.set_fairness_weight_overrides.items():
        overrides[key] = weight
    for key in request.unset_fairness_weight_overrides:
        overrides.pop(key, None)
    if len(overrides) > MAX_WEIGHT_OVERRIDES:
        raise InvalidArgumentError("fairness weight overrides update rejected: exceeding maximum key size")
