"""The batch operations of every namespace: started, described, listed and stopped here,
each run by one ``Runner`` on the replica that holds it."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import uuid
from dataclasses import dataclass, replace

from temporalio.api.enums.v1 import BatchOperationState
from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv1

from cadenza.batches import requests
from cadenza.batches.cursor import Cursor
from cadenza.batches.runner import FAILED, Runner
from cadenza.batches.targets import Target
from cadenza.clock import Clock
from cadenza.config import Limits, ServerConfig
from cadenza.exceptions import (
    CadenzaError,
    InvalidArgumentError,
    NotFoundError,
    ResourceExhaustedError,
    WorkflowAlreadyStartedError,
)
from cadenza.history.service import HistoryService
from cadenza.namespaces import NamespaceRegistry
from cadenza.periodic import Periodic
from cadenza.persistence.batch_records import BatchProgress, StoredBatch
from cadenza.persistence.records import NamespaceRecord
from cadenza.persistence.roles import BatchStore
from cadenza.persistence.store import Store
from cadenza.validation import check_length
from cadenza.visibility.query import parse
from cadenza.visibility.service import Visibility

logger = logging.getLogger(__name__)

RUNNING = BatchOperationState.BATCH_OPERATION_STATE_RUNNING
CLAIM_SECONDS = 2.0
"""How often a replica looks for running batches whose replica is gone."""
CONCURRENT_LIMIT_CAUSE = 2
NAMESPACE_SCOPE = 1
"""``RESOURCE_EXHAUSTED_CAUSE_CONCURRENT_LIMIT`` and ``RESOURCE_EXHAUSTED_SCOPE_NAMESPACE``."""


@dataclass(frozen=True)
class Roles:
    """What batches act through: the engine, visibility listings, namespaces."""

    history: HistoryService
    visibility: Visibility
    namespaces: NamespaceRegistry


class BatchService:
    """Batch operations, durable in ``store``; this replica runs those it owns."""

    def __init__(
        self, store: BatchStore, roles: Roles, clock: Clock, limits: Limits, owner: str, shared: bool
    ) -> None:
        self._store = store
        self._roles = roles
        self._clock = clock
        self._limits = limits
        self._owner = owner
        self._shared = shared
        """Whether other replicas share the store (then batches of dead ones are claimed)."""
        self._running: dict[tuple[str, str], tuple[Runner, asyncio.Task[None]]] = {}
        self._claims = Periodic(
            self._claim, CLAIM_SECONDS, name="cadenza-batch-claims", what="claiming batches", logger=logger
        )

    @classmethod
    def of(
        cls,
        store: Store,
        history: HistoryService,
        namespaces: NamespaceRegistry,
        clock: Clock,
        config: ServerConfig,
    ) -> BatchService:
        """The server's batches: run by this replica under its lease when replicas share the
        store, else by this process alone."""
        link = store.replicas()
        owner = link.replica_id if link is not None else uuid.uuid4().hex
        roles = Roles(history, Visibility(store), namespaces)
        return cls(store, roles, clock, config.limits, owner, shared=link is not None)

    # -- lifecycle -----------------------------------------------------------------------

    async def recover(self) -> None:
        """Resume the running batches no live replica runs; with replicas, keep doing so."""
        await self._claim()
        if self._shared:
            self._claims.start()

    async def stop(self) -> None:
        await self._claims.stop()  # first, so no batch is claimed and launched meanwhile
        tasks = [task for _, task in self._running.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._running.clear()

    async def _claim(self) -> None:
        for batch in await self._store.claim_batches(self._owner):
            logger.info("resuming batch %s", batch.job_id)
            await self._launch(batch)

    async def _launch(self, batch: StoredBatch) -> None:
        request = wsv1.StartBatchOperationRequest.FromString(batch.request)
        try:
            namespace = await self._roles.namespaces.get(request.namespace)
        except CadenzaError:
            logger.warning("batch %s: its namespace is gone", batch.job_id)
            return
        r = self._roles
        rate = float(self._limits.batcher_rps)
        runner = Runner(batch, namespace, r.history, r.visibility, self._store, self._clock, rate)
        key = (batch.namespace_id, batch.job_id)
        # A context of its own: the batch outlives the call that started it, and must not
        # carry that call's log scope or caller.
        task = asyncio.create_task(
            runner.run(), name=f"cadenza-batch-{batch.job_id}", context=contextvars.Context()
        )
        self._running[key] = (runner, task)
        task.add_done_callback(lambda _: self._running.pop(key, None))

    # -- the RPCs ------------------------------------------------------------------------

    async def start(self, namespace: NamespaceRecord, request: wsv1.StartBatchOperationRequest) -> None:
        """Check and store a new batch, then run it here."""
        operation = requests.check(request)
        # The job ID is the ID of Temporal's batch workflow, limited as workflow IDs are.
        check_length(request.job_id, "WorkflowId exceeds length limit.")
        if request.visibility_query:
            try:
                parse(request.visibility_query)
            except InvalidArgumentError as error:
                raise InvalidArgumentError(f"invalid visibility query: {error.message}") from error
        if await self._store.count_running_batches(namespace.id) >= self._limits.max_concurrent_batches:
            raise ResourceExhaustedError(
                "Max concurrent batch operations is reached", CONCURRENT_LIMIT_CAUSE, NAMESPACE_SCOPE
            )
        batch = self._new_batch(namespace, request, operation)
        if not await self._store.insert_batch(batch):
            raise await self._taken(namespace, request.job_id)
        logger.info("batch %s started", request.job_id, extra={"namespace": namespace.name})
        await self._launch(batch)

    def _new_batch(
        self, namespace: NamespaceRecord, request: wsv1.StartBatchOperationRequest, operation: int
    ) -> StoredBatch:
        cursor, total = Cursor(), 0
        if request.executions or request.target_executions:
            targets = [Target(e.workflow_id, e.run_id) for e in request.executions] + [
                Target(e.business_id, e.run_id) for e in request.target_executions
            ]
            cursor, total = Cursor(page=tuple(targets), listed=True, started=True), len(targets)
        return StoredBatch(
            namespace_id=namespace.id,
            job_id=request.job_id,
            run_id=str(uuid.uuid4()),
            request_id=str(uuid.uuid4()),
            operation_type=operation,
            request=request.SerializeToString(),
            identity=requests.identity_of(request),
            reason=request.reason,
            state=RUNNING,
            start_time=self._clock.now(),
            close_time=None,
            progress=BatchProgress(total, 0, 0, cursor.encode()),
            owner=self._owner,
        )

    async def _taken(self, namespace: NamespaceRecord, job_id: str) -> CadenzaError:
        """The error for a job ID already used, in Temporal's words for a batch workflow."""
        held = await self._store.get_batch(namespace.id, job_id)
        if held is None:
            return WorkflowAlreadyStartedError(f"Batch {job_id} already exists.", "", "")
        if held.state == RUNNING:
            message = f"Workflow execution is already running. WorkflowId: {job_id}, RunId: {held.run_id}."
        else:
            message = (
                f"Workflow execution already finished. WorkflowId: {job_id}, RunId: {held.run_id}. "
                "Workflow Id reuse policy: reject duplicate workflow Id."
            )
        return WorkflowAlreadyStartedError(message, held.request_id, held.run_id)

    async def describe(self, namespace: NamespaceRecord, job_id: str) -> StoredBatch:
        """The batch, with its counts as they are now where this replica runs it."""
        if not job_id:
            raise InvalidArgumentError("JobId is not set on request.")
        batch = await self._store.get_batch(namespace.id, job_id)
        if batch is None:
            raise NotFoundError(f"workflow not found for ID: {job_id}")
        local = self._running.get((namespace.id, job_id))
        if batch.state == RUNNING and local is not None:
            return _with_progress(batch, local[0].progress)
        return batch

    async def list(self, namespace: NamespaceRecord, page_size: int, offset: int) -> list[StoredBatch]:
        return await self._store.list_batches(namespace.id, page_size, offset)

    async def stop_batch(self, namespace: NamespaceRecord, job_id: str, reason: str) -> None:
        """Stop a running batch where it is (Temporal then reports it failed)."""
        if not job_id:
            raise InvalidArgumentError("JobId is not set on request.")
        if not reason:
            raise InvalidArgumentError("Reason is not set on request.")
        batch = await self.describe(namespace, job_id)
        if batch.state != RUNNING:
            raise NotFoundError("workflow execution already completed")
        local = self._running.pop((namespace.id, job_id), None)
        if local is not None:
            local[1].cancel()
        closed = await self._store.close_batch(
            namespace.id, job_id, None, FAILED, self._clock.now(), batch.progress
        )
        if not closed:
            raise NotFoundError("workflow execution already completed")
        logger.info("batch %s stopped: %s", job_id, reason, extra={"namespace": namespace.name})


def _with_progress(batch: StoredBatch, progress: BatchProgress) -> StoredBatch:
    return replace(batch, progress=progress)
