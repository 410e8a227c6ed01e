"""Works through one batch: lists its targets page by page, acts on each at the batch's
pace, and saves its position and counts as it goes, so a batch resumed after a restart
starts where the last save left it (repeating at most the few targets acted on since).

A save is conditional on this replica still running the batch: one that was stopped, or
taken over by another replica, stops here at its next save.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from temporalio.api.enums.v1 import BatchOperationState
from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv1

from cadenza.batches import requests
from cadenza.batches.cursor import Cursor
from cadenza.batches.targets import Acting, Target
from cadenza.clock import Clock
from cadenza.conflicts import retrying_conflicts
from cadenza.exceptions import CadenzaError, ConcurrentUpdateError
from cadenza.history.service import HistoryService
from cadenza.persistence.batch_records import BatchProgress, StoredBatch
from cadenza.persistence.errors import StorageError
from cadenza.persistence.records import NamespaceRecord
from cadenza.persistence.roles import BatchStore
from cadenza.visibility.query import parse
from cadenza.visibility.service import MAX_PAGE_SIZE, Visibility

logger = logging.getLogger(__name__)

COMPLETED = BatchOperationState.BATCH_OPERATION_STATE_COMPLETED
FAILED = BatchOperationState.BATCH_OPERATION_STATE_FAILED

SAVE_EVERY = 100
"""Targets acted on between two saves of the position (a reset saves after each one, as
resetting twice is not harmless)."""
SAVE_SECONDS = 1.0
"""Longest time between two saves while the batch makes progress."""
STORAGE_RETRY_SECONDS = 1.0
"""Pause before trying again while the database does not answer."""
CONCURRENCY = 5
"""Targets acted on at once (Temporal's ``worker.batcherConcurrency``), so their changes share
commits; the position is saved between groups."""
ATTEMPTS = 5
"""Tries of one target whose change keeps failing for a passing reason (storage)."""


@dataclass(frozen=True)
class Lost(Exception):
    """This replica no longer runs the batch: it was stopped or taken over."""


class Pacer:
    """At most ``rate`` actions per second, evenly spaced."""

    def __init__(self, rate: float) -> None:
        self._interval = 1.0 / rate if rate > 0 else 0.0
        self._next = time.monotonic()

    async def wait(self) -> None:
        """Wait for the next free slot; taken before sleeping, so concurrent waiters queue."""
        now = time.monotonic()
        slot = max(self._next, now)
        self._next = slot + self._interval
        if slot > now:
            await asyncio.sleep(slot - now)


class Runner:
    """Runs one batch on this replica until it is done, stopped or taken over."""

    def __init__(
        self,
        batch: StoredBatch,
        namespace: NamespaceRecord,
        history: HistoryService,
        visibility: Visibility,
        store: BatchStore,
        clock: Clock,
        rate: float,
    ) -> None:
        self._batch = batch
        self._namespace = namespace
        self._visibility = visibility
        self._store = store
        self._clock = clock
        self._request = wsv1.StartBatchOperationRequest.FromString(batch.request)
        self._acting = Acting(history, namespace.id, self._request)
        self._pacer = Pacer(self._request.max_operations_per_second or rate)
        self._progress = batch.progress
        self._cursor = Cursor.decode(batch.progress.cursor)
        self._unsaved = 0
        self._saved_at = time.monotonic()

    @property
    def progress(self) -> BatchProgress:
        """The counts as they are now, fresher than the last save."""
        return self._current()

    async def run(self) -> None:
        """Work until done; while the database does not answer, go on from where it stood."""
        while True:
            try:
                await self._work()
                return
            except Lost:
                logger.info("batch %s stopped or taken over elsewhere", self._batch.job_id)
                return
            except StorageError as error:
                logger.warning("batch %s paused, the database did not answer: %s", self._batch.job_id, error)
                await asyncio.sleep(STORAGE_RETRY_SECONDS)
            except Exception:
                # Left running: a restart resumes it from its last saved place.
                logger.exception("batch %s stopped by an internal error", self._batch.job_id)
                return

    async def _work(self) -> None:
        try:
            if not self._cursor.started:
                await self._begin()
            while targets := await self._next_targets():
                await self._act(targets)
        except CadenzaError as error:
            # A filter naming what the namespace does not have: Temporal's batch fails so too.
            logger.warning("batch %s failed: %s", self._batch.job_id, error.message)
            await self._close(FAILED)
            return
        await self._close(COMPLETED)

    async def _begin(self) -> None:
        """Count the targets (Temporal's estimate) before listing the first page."""
        total, _ = await self._visibility.count(self._namespace, self._query())
        self._progress = BatchProgress(total, 0, 0, b"")
        await self._list_page(b"")

    def _query(self) -> str:
        query = self._request.visibility_query
        if requests.OPERATIONS[self._request.WhichOneof("operation") or ""] in requests.RUNNING_ONLY:
            # A paused run is still running: Temporal's batches act on it too.
            return f"({query}) AND (ExecutionStatus = 'Running' OR ExecutionStatus = 'Paused')"
        return query

    async def _list_page(self, token: bytes) -> None:
        page = await self._visibility.list_parsed(self._namespace, parse(self._query()), MAX_PAGE_SIZE, token)
        targets = [Target(e.execution.workflow_id, e.execution.run_id) for e in page.executions]
        self._cursor = self._cursor.with_page(targets, page.next_page_token)
        await self._save()

    async def _next_targets(self) -> tuple[Target, ...]:
        """The next few targets to act on together; none once the batch is through."""
        # A reset is not harmless to repeat, so resets go one at a time, each saved.
        most = 1 if self._request.HasField("reset_operation") else CONCURRENCY
        while not (targets := self._cursor.next_targets(most)):
            if self._cursor.listed:
                return ()
            await self._list_page(self._cursor.token)
        return targets

    async def _act(self, targets: tuple[Target, ...]) -> None:
        """Act on a few targets at once, each started at the batch's pace."""
        outcomes = await asyncio.gather(*(self._paced(target) for target in targets))
        succeeded = sum(outcomes)
        p = self._progress
        failed = p.failed + len(targets) - succeeded
        self._progress = BatchProgress(p.total, p.succeeded + succeeded, failed, p.cursor)
        self._cursor = self._cursor.advanced(len(targets))
        self._unsaved += len(targets)
        if (
            self._unsaved >= SAVE_EVERY
            or time.monotonic() - self._saved_at >= SAVE_SECONDS
            or self._request.HasField("reset_operation")
        ):
            await self._save()

    async def _paced(self, target: Target) -> bool:
        await self._pacer.wait()
        return await self._try(target)

    async def _try(self, target: Target) -> bool:
        """Act on one target; whether it succeeded (a refusal counts as a failure)."""
        for attempt in range(ATTEMPTS):
            try:
                await retrying_conflicts(lambda: self._acting.act(target), "batch operation")
                return True
            except CadenzaError as error:
                logger.info("batch %s: %s: %s", self._batch.job_id, target.workflow_id, error.message)
                return False
            except (StorageError, ConcurrentUpdateError) as error:
                logger.warning(
                    "batch %s: %s, trying again: %s", self._batch.job_id, target.workflow_id, error
                )
                await asyncio.sleep(STORAGE_RETRY_SECONDS * (attempt + 1))
        return False

    def _current(self) -> BatchProgress:
        p = self._progress
        return BatchProgress(p.total, p.succeeded, p.failed, self._cursor.encode())

    async def _save(self) -> None:
        b = self._batch
        saved = await _persisting(
            lambda: self._store.save_batch_progress(b.namespace_id, b.job_id, b.owner, self._current())
        )
        if not saved:
            raise Lost()
        self._unsaved, self._saved_at = 0, time.monotonic()

    async def _close(self, state: int) -> None:
        b, p = self._batch, self._progress
        total = p.succeeded + p.failed if state == COMPLETED else p.total
        final = BatchProgress(total, p.succeeded, p.failed, self._cursor.encode())
        closed = await _persisting(
            lambda: self._store.close_batch(
                b.namespace_id, b.job_id, b.owner, state, self._clock.now(), final
            )
        )
        if not closed:
            raise Lost()
        logger.info("batch %s closed: %d done, %d failed", b.job_id, p.succeeded, p.failed)


async def _persisting(write: Callable[[], Awaitable[bool]]) -> bool:
    """Run a write of the batch's record, waiting out a database that does not answer."""
    while True:
        try:
            return await write()
        except StorageError as error:
            logger.warning("saving a batch's progress failed, trying again: %s", error)
            await asyncio.sleep(STORAGE_RETRY_SECONDS)
