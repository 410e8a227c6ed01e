"""StartWorkflowExecution and its relatives: a new run, or the run already there.

The same path starts a client's workflow, a SignalWithStart, an update-with-start's
run, a child (from ``transfers``) and a schedule's action. Starts of one workflow
ID go one at a time, since each reads the current run and may replace it.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

from temporalio.api.common.v1 import Payloads
from temporalio.api.update.v1 import Request
from temporalio.api.workflowservice.v1 import (
    PollWorkflowTaskQueueResponse,
    StartWorkflowExecutionRequest,
)

from cadenza.history.machine import (
    override_checks,
    runs,
    signals,
    starts,
    updates,
    workflow_ops,
    workflow_tasks,
)
from cadenza.history.machine.change import Change, new_run_id
from cadenza.history.machine.signals import Signal
from cadenza.history.machine.state import RUNNING, Parent
from cadenza.history.service.cache import Entry
from cadenza.history.service.event_log import EventLog
from cadenza.history.service.signal_rpcs import SignalRpcs
from cadenza.history.service.task_responses import workflow_task_response
from cadenza.persistence.records import ExecutionKey, NamespaceRecord
from cadenza.visibility import validation


@dataclass(frozen=True)
class StartResult:
    """The run a start request is answered with."""

    run_id: str
    started: bool
    status: int = RUNNING
    """The run's status when answered: a request retried after its run closed finds it closed."""
    first_execution_run_id: str = ""
    """The first run of the run's chain (retries, cron runs, continue-as-new)."""
    eager_task: PollWorkflowTaskQueueResponse | None = None
    """The first workflow task, already started, when the client asked to run it itself."""


class Starting(SignalRpcs):
    """Starting runs; a SignalWithStart signals through ``SignalRpcs`` when the run exists."""

    async def start_workflow(
        self,
        namespace: NamespaceRecord,
        request: StartWorkflowExecutionRequest,
        signal: Signal | None = None,
        parent: Parent | None = None,
        rules: validation.Rules | None = None,
        update: Request | None = None,
        await_slot: bool = False,
    ) -> StartResult:
        """Start a run; say which run answers and whether this call started it.

        With ``signal`` (SignalWithStart) a running workflow is signalled instead,
        and a new run receives the signal before its first workflow task; so too
        ``update`` (update-with-start), admitted with the run it starts. ``rules``
        check the search attributes of a start a client asked for; a child's or a
        schedule's were checked when its command or schedule was taken. ``await_slot``: a
        full ``queue`` concurrency limit stands in the way, so a new run's first workflow task
        waits for its slots (``TimerKind.AWAIT_SLOT``).
        """
        starts.validate(request, self._limits)
        self._check_override(namespace, request)
        if rules is not None:
            validation.check(request.search_attributes, rules)
        async with self._workflow_id_locks.hold((namespace.id, request.workflow_id)):
            return await self._start_locked(namespace, request, signal, parent, update, await_slot)

    def _check_override(self, namespace: NamespaceRecord, request: StartWorkflowExecutionRequest) -> None:
        """Refuse a versioning override Temporal refuses at a start, before anything is written;
        a deprecated one is recorded in its current form, as Temporal records it."""
        if not request.HasField("versioning_override"):
            return
        checked = override_checks.for_start(
            request.versioning_override, self._dispatch.deployments, namespace.id, request.task_queue.name
        )
        request.versioning_override.CopyFrom(checked)

    async def _start_locked(
        self,
        namespace: NamespaceRecord,
        request: StartWorkflowExecutionRequest,
        signal: Signal | None,
        parent: Parent | None,
        update: Request | None = None,
        await_slot: bool = False,
    ) -> StartResult:
        current = await self._store.get_current_execution(namespace.id, request.workflow_id)
        if signal is not None and current is not None and current.status == RUNNING:
            key = ExecutionKey(namespace.id, request.workflow_id, current.run_id)
            await self.signal_workflow(key, signal)
            return await self._existing_run(key, started=False)
        existing = starts.check_existing(request, current)
        if existing.use_run_id:
            # A retried request is told it started the run, as Temporal tells it.
            retried = current is not None and request.request_id == current.start_request_id
            if not retried and starts.wants_attaching(request):
                key = ExecutionKey(namespace.id, request.workflow_id, existing.use_run_id)
                async with self.changing(key) as (_entry, change):
                    starts.attach_to_existing(change, request)
            return await self._existing_run(
                ExecutionKey(namespace.id, request.workflow_id, existing.use_run_id), started=retried
            )
        now = self._clock.now()
        run_id = new_run_id()
        state = starts.new_state(namespace, request, run_id, now)
        state.parent = parent
        if parent is not None:
            # Temporal creates a child run first, then schedules its first workflow task
            # in a second transaction once the parent has recorded the start.
            state.state_transitions = 1
        change = Change(state, now, 0, self._dispatch.sticky_alive, routing=self._dispatch.deployments)
        backoff = starts.first_task_backoff(request, now)
        starts.record_started(change, request, backoff)
        if signal is not None:
            signals.record(change, signal)
        if update is not None:  # in the start's own commit, so the first workflow task carries it
            updates.admit(change, update)
        runs.begin(change, backoff, await_slot=await_slot)
        eager = request.request_eager_execution and state.workflow_task is not None
        if eager:  # the starting client's own worker runs the first task: no poll needed
            workflow_tasks.record_started(change, request.identity, str(uuid.uuid4()), "")
        change.new_current = starts.current_record(state)
        change.replaced_run_id = current.run_id if current is not None else None
        if existing.terminate_run_id:
            await self._terminate_for(change, existing.terminate_run_id)
            return StartResult(run_id, True, first_execution_run_id=run_id)
        entry = Entry(change.key, state, 0, events=EventLog())
        self.cache.put(entry)
        async with entry.lock:
            await self._commit(entry, change)
            task = await workflow_task_response(self.cache, entry, sticky=False) if eager else None
        return StartResult(run_id, True, first_execution_run_id=run_id, eager_task=task)

    async def _existing_run(self, key: ExecutionKey, *, started: bool) -> StartResult:
        """The answer naming a run that was there before the request."""
        state = (await self.load(key)).state
        return StartResult(key.run_id, started, state.status, state.first_execution_run_id or state.run_id)

    async def _terminate_for(self, successor: Change, run_id: str) -> None:
        """Terminate a running run and start ``successor`` in its place, in one commit."""
        key = ExecutionKey(successor.state.namespace_id, successor.state.workflow_id, run_id)
        async with self.changing(key) as (_entry, change):
            details = Payloads()
            details.payloads.add(
                metadata={"encoding": b"json/plain"},
                data=json.dumps(f"terminated by new runID: {successor.state.run_id}").encode(),
            )
            workflow_ops.terminate(
                change, "TerminateIfRunning WorkflowIdReusePolicy", details, "history-service"
            )
            change.successor = successor
