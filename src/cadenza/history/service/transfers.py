"""Work that crosses from one execution to another: children, external signals and cancels,
and a run's wait for the concurrency slots other runs hold.

Each piece of work is an outbox entry (a durable timer due at once) written by
the requesting run's commit. Handlers here are idempotent — a crash or a
failed attempt simply runs them again — and finish by removing the entry in
the same commit that records the outcome.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from temporalio.api.enums.v1 import (
    ParentClosePolicy,
    SignalExternalWorkflowExecutionFailedCause,
    StartChildWorkflowExecutionFailedCause,
)
from temporalio.api.workflowservice.v1 import StartWorkflowExecutionRequest

from cadenza.concurrency.starts import LimitFull, StartSlots, WaitWhileWanted
from cadenza.exceptions import NamespaceNotFoundError, NotFoundError, WorkflowAlreadyStartedError
from cadenza.history.machine import children, priorities, runs, versioning
from cadenza.history.machine.signals import Signal
from cadenza.history.machine.state import Child, Parent
from cadenza.history.service import HistoryService
from cadenza.history.service.cache import Entry
from cadenza.namespaces import NamespaceRegistry
from cadenza.persistence.records import NO_PRIORITY, ExecutionKey, TimerRecord
from cadenza.persistence.roles import TaskStore
from cadenza.protoutil import copy_common_fields, present
from cadenza.timers.kinds import TimerKind

logger = logging.getLogger(__name__)

_NOT_FOUND = SignalExternalWorkflowExecutionFailedCause.SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND
_NAMESPACE_NOT_FOUND = SignalExternalWorkflowExecutionFailedCause.SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_NAMESPACE_NOT_FOUND
_CHILD_EXISTS = (
    StartChildWorkflowExecutionFailedCause.START_CHILD_WORKFLOW_EXECUTION_FAILED_CAUSE_WORKFLOW_ALREADY_EXISTS
)
_CHILD_NAMESPACE_NOT_FOUND = (
    StartChildWorkflowExecutionFailedCause.START_CHILD_WORKFLOW_EXECUTION_FAILED_CAUSE_NAMESPACE_NOT_FOUND
)
_CHILD_LIMIT_FULL = _CHILD_EXISTS
"""Temporal's causes have none for a full concurrency limit (Temporal has no such limit). The
nearest is "already exists": as there, running workflows stand in the way of this one, and
every SDK turns it into a typed error the parent can catch (in Python
``WorkflowAlreadyStartedError``), or that fails the parent plainly, where an unspecified cause
makes some SDKs fail the parent's workflow task again and again."""


class RetryLater(Exception):
    """The other side is not ready yet (the parent has not recorded its child's start)."""


class Transfers:
    """Runs outbox entries for the history service."""

    def __init__(self, history: HistoryService, namespaces: NamespaceRegistry, store: TaskStore) -> None:
        self._history = history
        self._namespaces = namespaces
        self._store = store
        self.start_slots = StartSlots(None)
        """The concurrency limits' slots a child's start, and a run waiting for its first
        workflow task, takes (set by the server)."""
        self._handlers: dict[str, Callable[[TimerRecord], Awaitable[None]]] = {
            TimerKind.AWAIT_SLOT: self._await_slot,
            TimerKind.START_CHILD: self._start_child,
            TimerKind.NOTIFY_PARENT: self._notify_parent,
            TimerKind.PARENT_CLOSE_POLICY: self._apply_parent_close_policy,
            TimerKind.SIGNAL_EXTERNAL: self._deliver_external,
            TimerKind.CANCEL_EXTERNAL: self._deliver_external,
        }

    async def run(self, timer: TimerRecord) -> None:
        handler = self._handlers[timer.kind]
        try:
            await handler(timer)
        except NotFoundError:
            await self._done(timer)

    async def _done(self, timer: TimerRecord) -> None:
        await self._store.remove_stale([], [timer.timer_id])

    # -- children -------------------------------------------------------------------------------

    async def _start_child(self, timer: TimerRecord) -> None:
        entry = await self._history.load(timer.key)
        if not _child_pending(entry, timer):
            await self._done(timer)
            return
        initiated = (await self._history.cache.history(entry))[timer.event_id - 1]
        attrs = initiated.start_child_workflow_execution_initiated_event_attributes
        request = _child_request(entry, timer, attrs)
        parent = _parent_of(entry, timer)
        run_id, namespace_id, cause = "", "", 0

        async def still_wanted() -> bool:  # the parent may close, or cancel the child, meanwhile
            return _child_pending(await self._history.load(timer.key), timer)

        try:
            namespace = await self._namespaces.get(attrs.namespace)
            namespace_id = namespace.id
            # A child waits for a ``queue`` limit's slot here, its outbox entry stored (so a
            # restart or another replica takes the wait over), while its parent's workflow
            # tasks go on; a full ``reject`` limit fails its start.
            result = await self.start_slots.start(
                namespace_id,
                request,
                lambda _await_slot: self._history.start_workflow(namespace, request, parent=parent),
                WaitWhileWanted(still_wanted),
            )
            if result is None:  # the parent closed, or no longer waits for this child
                await self._done(timer)
                return
            run_id = result.run_id
        except WorkflowAlreadyStartedError:
            cause = _CHILD_EXISTS
        except NamespaceNotFoundError:
            cause = _CHILD_NAMESPACE_NOT_FOUND
        except LimitFull:
            cause = _CHILD_LIMIT_FULL
        async with self._history.changing(timer.key) as (entry, change):
            change.remove_timer(timer.timer_id)
            child = entry.state.children.get(timer.event_id)
            if child is None or child.run_id or not entry.state.running:
                return
            if cause:
                children.child_start_failed(change, child, cause, attrs.workflow_task_completed_event_id)
            else:
                children.child_started(change, child, run_id, namespace_id, present(attrs, "header"))

    # -- a client's start waiting for its slots ----------------------------------------------

    async def _await_slot(self, timer: TimerRecord) -> None:
        """Give a run whose client's start found a ``queue`` limit full its concurrency slots,
        then schedule its first workflow task. Its timer stays stored while it waits (so a
        restart or another replica takes the wait over); a run that closes meanwhile
        (terminated, timed out) stops waiting."""
        if not await self._took_slots(timer):
            await self._done(timer)
            return
        # The slots taken are never given back here: the run that holds them may be running
        # (another replica scheduled its task first), and a later run of the workflow ID
        # would share them; if the run closed meanwhile, the sweep frees them.
        async with self._history.changing(timer.key) as (entry, change):
            if _awaits_slot(entry, timer):
                runs.backoff_elapsed(change)
                change.remove_timer(timer.timer_id)
                return
        await self._done(timer)

    async def _took_slots(self, timer: TimerRecord) -> bool:
        """Wait until the run holds its slots (True: taken now, or held already, as after a
        failed attempt) or no longer waits for them (False)."""
        entry = await self._history.load(timer.key)
        if not _awaits_slot(entry, timer):  # checked first: a closed run must take no slot
            return False

        async def still_wanted() -> bool:  # the run may close (terminated, timed out) meanwhile
            return _awaits_slot(await self._history.load(timer.key), timer)

        state = entry.state
        # The run was accepted: should its limit have been set to reject since, it still waits.
        slots = await self.start_slots.wait_admit(
            state.namespace_id,
            state.workflow_type,
            state.workflow_id,
            still_wanted=still_wanted,
            reject_waits=True,
        )
        return slots is not None

    async def _notify_parent(self, timer: TimerRecord) -> None:
        entry = await self._history.load(timer.key)
        parent = entry.state.parent
        if parent is None:
            await self._done(timer)
            return
        close_event = (await self._history.cache.history(entry))[timer.event_id - 1]
        parent_key = ExecutionKey(parent.namespace_id, parent.workflow_id, parent.run_id)
        async with self._history.changing(parent_key) as (parent_entry, change):
            child = parent_entry.state.children.get(parent.initiated_event_id)
            if parent_entry.state.running and child is not None:
                if not child.run_id:
                    raise RetryLater("the parent has not recorded the child's start yet")
                children.child_closed(
                    change, child, close_event, entry.state.namespace_id, child.started_event_id
                )
        await self._done(timer)

    async def _apply_parent_close_policy(self, timer: TimerRecord) -> None:
        entry = await self._history.load(timer.key)
        child = entry.state.children.get(timer.event_id)
        if child is not None and child.run_id:
            await self._close_child(entry.state.namespace, child)
        await self._done(timer)

    async def _close_child(self, parent_namespace: str, child: Child) -> None:
        namespace = await self._namespaces.get(child.namespace or parent_namespace)
        key = await self._history.resolve_run(namespace.id, child.workflow_id, "")
        try:
            if child.parent_close_policy == ParentClosePolicy.PARENT_CLOSE_POLICY_REQUEST_CANCEL:
                await self._history.request_cancel_workflow(key, "by parent close policy", "")
            else:
                await self._history.terminate_workflow(key, "by parent close policy", None, "history-service")
        except NotFoundError:
            pass  # already closed

    # -- signals and cancellations for other workflows ------------------------------------------------

    async def _deliver_external(self, timer: TimerRecord) -> None:
        entry = await self._history.load(timer.key)
        request = entry.state.external.get(timer.event_id)
        if request is None or not entry.state.running:
            await self._done(timer)
            return
        initiated = (await self._history.cache.history(entry))[timer.event_id - 1]
        run_id, namespace_id, cause = request.run_id, "", None
        try:
            namespace = await self._namespaces.get(request.namespace)
            namespace_id = namespace.id
            key = await self._history.resolve_run(namespace.id, request.workflow_id, request.run_id)
            run_id = key.run_id
            if request.kind == TimerKind.SIGNAL_EXTERNAL:
                attrs = initiated.signal_external_workflow_execution_initiated_event_attributes
                await self._history.signal_workflow(
                    key,
                    Signal(
                        attrs.signal_name,
                        present(attrs, "input"),
                        "",
                        present(attrs, "header"),
                        request_id=f"{entry.state.run_id}:{timer.event_id}",
                    ),
                )
            else:
                cancel = initiated.request_cancel_external_workflow_execution_initiated_event_attributes
                reason = cancel.reason
                await self._history.request_cancel_workflow(key, reason, "")
        except NamespaceNotFoundError:
            cause = _NAMESPACE_NOT_FOUND
        except NotFoundError:
            cause = _NOT_FOUND
        async with self._history.changing(timer.key) as (entry, change):
            change.remove_timer(timer.timer_id)
            request = entry.state.external.get(timer.event_id)
            if request is not None and entry.state.running:
                children.external_done(change, request, namespace_id, run_id, cause, initiated=initiated)


def _child_pending(entry: Entry, timer: TimerRecord) -> bool:
    """Whether the parent still runs and waits for the start of the child ``timer`` starts."""
    child = entry.state.children.get(timer.event_id)
    return child is not None and not child.run_id and entry.state.running


def _awaits_slot(entry: Entry, timer: TimerRecord) -> bool:
    """Whether the run still runs and its first workflow task still waits on ``timer``."""
    return entry.state.running and entry.state.backoff_timer_id == timer.timer_id


def _child_request(entry: Entry, timer: TimerRecord, attrs: Any) -> StartWorkflowExecutionRequest:
    """The start of the child its initiated event describes, under an ID of that event."""
    request = StartWorkflowExecutionRequest()
    copy_common_fields(attrs, request)
    request.request_id = f"{entry.state.run_id}:{timer.event_id}"
    inherited = priorities.from_proto(attrs).merged_over(entry.state.priority)
    if inherited != NO_PRIORITY:  # a child runs at its parent's priority unless it sets its own
        priorities.to_proto(inherited, request.priority)
    return request


def _parent_of(entry: Entry, timer: TimerRecord) -> Parent:
    s = entry.state
    return Parent(
        s.namespace,
        s.namespace_id,
        s.workflow_id,
        s.run_id,
        timer.event_id,
        *s.root,
        pinned_version=versioning.pinned_version(s),
    )
