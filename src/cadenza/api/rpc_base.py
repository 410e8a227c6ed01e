"""What every group of RPCs shares: the roles they call, and request helpers."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from cadenza.api.requests import R, deadline_of, poller_rate
from cadenza.config import ServerConfig
from cadenza.exceptions import InvalidArgumentError
from cadenza.history.machine.tokens import TaskToken
from cadenza.history.service import HistoryService
from cadenza.history.service.queries import Queries
from cadenza.history.service.reads import HistoryReader
from cadenza.matching import MatchingService
from cadenza.namespaces import NamespaceRegistry
from cadenza.persistence.records import ExecutionKey, NamespaceRecord, TaskKind, TaskRecord
from cadenza.persistence.roles import ScheduleStore
from cadenza.schedules.service import ScheduleService
from cadenza.visibility import validation
from cadenza.visibility.service import Visibility


class RpcBase:
    """Holds the roles the RPCs call into; subclasses group the RPCs by area."""

    def __init__(
        self,
        config: ServerConfig,
        namespaces: NamespaceRegistry,
        history: HistoryService,
        reader: HistoryReader,
        matching: MatchingService,
        queries: Queries,
        visibility: Visibility,
        schedules: ScheduleService,
        store: ScheduleStore,
    ) -> None:
        self._config = config
        self._namespaces = namespaces
        self._history = history
        self._reader = reader
        self._matching = matching
        self._queries = queries
        self._visibility = visibility
        self._schedules = schedules
        self._store = store
        self._cluster_id = str(uuid.uuid4())

    def _search_attribute_rules(self, namespace: NamespaceRecord) -> validation.Rules:
        """What search attributes given in ``namespace`` are checked against."""
        limits = self._config.limits
        return validation.Rules(
            namespace.name,
            NamespaceRegistry.search_attribute_types(namespace),
            validation.SearchAttributeLimits(
                limits.search_attributes_number_of_keys,
                limits.search_attributes_size_of_value,
                limits.search_attributes_total_size,
            ),
        )

    async def _execution_key(
        self, namespace_name: str, execution: Any, first_execution_run_id: str = ""
    ) -> ExecutionKey:
        """The run a request names; with ``first_execution_run_id``, only within that chain."""
        namespace = await self._namespaces.get(namespace_name)
        if not execution.workflow_id:
            raise InvalidArgumentError("WorkflowId is not set on request.")
        key = await self._history.resolve_run(namespace.id, execution.workflow_id, execution.run_id)
        if first_execution_run_id:
            await self._history.check_chain(key, first_execution_run_id)
        return key

    async def _token(self, data: bytes, namespace_name: str) -> TaskToken:
        if not data:
            raise InvalidArgumentError("Task token not set on request.")
        token = TaskToken.decode(data)
        namespace: NamespaceRecord = await self._namespaces.get(namespace_name)
        if namespace.id != token.namespace_id:
            raise InvalidArgumentError("Operation requested with a token from a different namespace.")
        return token

    async def _poll(
        self,
        namespace_id: str,
        name: str,
        kind: TaskKind,
        request: Any,
        context: Any,
        deliver: Callable[[TaskRecord], Awaitable[R | None]],
    ) -> R | None:
        """Long-poll a queue until a task is delivered; None when the poll ends empty.

        A task that turns out to be obsolete (``deliver`` answers None) is skipped,
        and the poll goes on waiting for the rest of its time.
        """
        deadline = min(deadline_of(context), time.monotonic() + self._config.long_poll_seconds)
        while (remaining := deadline - time.monotonic()) > 0:
            task = await self._matching.poll(
                namespace_id,
                name,
                kind,
                request.identity,
                remaining,
                request.worker_instance_key,
                poller_rate(request),
            )
            if task is None:
                return None
            if context.done():  # the worker dropped this poll: keep the task for another
                self._matching.return_task(task)
                return None
            # Once matched, the task is recorded to the end even if the poll is cancelled
            # meanwhile, so memory never lags behind what was committed.
            response = await asyncio.shield(deliver(task))
            if response is not None:
                return response
        return None

    async def _delivered(self, task: TaskRecord, recording: Awaitable[R]) -> R:
        """Record a polled task as started; if that fails, the task goes back on its queue."""
        try:
            return await recording
        except BaseException:
            self._matching.return_task(task)
            raise
