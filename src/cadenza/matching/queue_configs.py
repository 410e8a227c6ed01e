"""Task queue configs: what UpdateTaskQueueConfig set, kept durably and applied to the limiters.

A config is stored whole, as the ``TaskQueueConfig`` DescribeTaskQueue answers with, a row
per namespace, queue and queue type. The server reads every row at start; a change made
here is written conditionally on the row's revision (a lost race is retried by the RPC)
and applied to the queue's limiter at once. Replicas sharing a PostgreSQL database re-read
the rows written since the last revision they saw every ``REFRESH_SECONDS``, so a change
made through one replica reaches the limiters of all.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueueConfig

from cadenza.exceptions import ConcurrentUpdateError
from cadenza.matching.rate_limits import ApiLimits, RateLimits
from cadenza.periodic import Periodic
from cadenza.persistence.records import StoredQueueConfig, TaskKind
from cadenza.persistence.roles import QueueConfigStore

logger = logging.getLogger(__name__)

REFRESH_SECONDS = 2.0
"""How often replicas on a shared database read the configs changed by the others."""

QUEUE_KINDS = {
    TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW: TaskKind.WORKFLOW,
    TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY: TaskKind.ACTIVITY,
}
"""The queue types whose tasks matching dispatches; a Nexus queue's config is only kept."""


def api_limits(config: TaskQueueConfig) -> ApiLimits:
    """The limits a stored config sets: a rate where it has one, None where it was never set
    or was unset."""
    queue = config.queue_rate_limit
    fairness = config.fairness_keys_rate_limit_default
    return ApiLimits(
        queue_rate=queue.rate_limit.requests_per_second if queue.HasField("rate_limit") else None,
        fairness_key_rate=(
            fairness.rate_limit.requests_per_second if fairness.HasField("rate_limit") else None
        ),
        weight_overrides=dict(config.fairness_weight_overrides),
    )


WeightsChanged = Callable[[str, str, TaskKind, Mapping[str, float]], None]
"""A queue's fairness weight overrides changed: namespace ID, queue name, kind, overrides."""


class QueueConfigs:
    """The stored task queue configs, applied to matching's limiters."""

    def __init__(
        self,
        store: QueueConfigStore,
        rate_limits: RateLimits,
        shared: bool,
        on_weights: WeightsChanged | None = None,
    ) -> None:
        self._store = store
        self._rate_limits = rate_limits
        self._on_weights = on_weights
        """Told each queue's fairness weight overrides, for its dispatch order."""
        self._shared = shared
        self._revision = 0
        """The largest revision read from the store: rows after it are news."""
        self._refresh = Periodic(
            self.load,
            REFRESH_SECONDS,
            name="cadenza-queue-configs",
            what="reading task queue configs",
            logger=logger,
        )

    async def load(self) -> None:
        """Apply the rows written since the last load (at start: all of them)."""
        for row in await self._store.queue_configs_since(self._revision):
            self._apply(row)
            self._revision = max(self._revision, row.revision)

    def start(self) -> None:
        """On a shared database, keep reading the changes other replicas make."""
        if self._shared:
            self._refresh.start()

    async def stop(self) -> None:
        await self._refresh.stop()

    async def get(self, namespace_id: str, name: str, queue_type: int) -> TaskQueueConfig | None:
        """A queue's stored config, None if it never had one; read from the store, so another
        replica's latest change is seen (and applied here) too."""
        row = await self._store.get_queue_config(namespace_id, name, queue_type)
        if row is None:
            return None
        self._apply(row)
        return _parsed(row)

    async def update(
        self, namespace_id: str, name: str, queue_type: int, change: Callable[[TaskQueueConfig], None]
    ) -> TaskQueueConfig:
        """Apply ``change`` to a queue's config and store it; ``ConcurrentUpdateError`` if
        another write came first (nothing changed: the caller starts again)."""
        row = await self._store.get_queue_config(namespace_id, name, queue_type)
        config = _parsed(row) if row is not None else TaskQueueConfig()
        change(config)
        written = await self._store.put_queue_config(
            namespace_id, name, queue_type, config.SerializeToString(), row.revision if row else 0
        )
        if written is None:
            raise ConcurrentUpdateError(f"task queue {name} config changed meanwhile")
        self._apply(written)
        return config

    def _apply(self, row: StoredQueueConfig) -> None:
        kind = QUEUE_KINDS.get(TaskQueueType.ValueType(row.queue_type))
        if kind is None:
            return
        limits = api_limits(_parsed(row))
        self._rate_limits.configure(row.namespace_id, row.task_queue, kind, limits)
        if self._on_weights is not None:
            self._on_weights(row.namespace_id, row.task_queue, kind, limits.weight_overrides)


def _parsed(row: StoredQueueConfig) -> TaskQueueConfig:
    config = TaskQueueConfig()
    config.ParseFromString(row.config)
    return config
