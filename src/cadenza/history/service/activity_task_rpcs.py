"""The activity task RPCs: PollActivityTaskQueue's start, RespondActivityTaskCompleted/Failed/
Canceled, RecordActivityTaskHeartbeat, and the token their ById forms are given.

Each answer is checked against the attempt its token names, so a late answer
from a timed-out attempt changes nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from temporalio.api.common.v1 import Payloads
from temporalio.api.failure.v1 import Failure
from temporalio.api.workflowservice.v1 import PollActivityTaskQueueResponse

from cadenza.exceptions import NotFoundError
from cadenza.history.machine import activities
from cadenza.history.machine.state import Activity, MutableState
from cadenza.history.machine.tokens import TaskToken
from cadenza.history.service.engine import Engine
from cadenza.history.service.task_responses import activity_task_response
from cadenza.persistence.records import ExecutionKey, TaskRecord


@dataclass(frozen=True)
class HeartbeatAnswer:
    """What a heartbeat tells the attempt: the workflow asked to cancel it, an operator
    paused the activity, or reset it."""

    cancel_requested: bool = False
    paused: bool = False
    reset: bool = False


class ActivityTaskRpcs(Engine):
    """Activity attempts handed to workers, and what the workers answer."""

    async def record_activity_task_started(
        self, task: TaskRecord, identity: str, control_queue: str = ""
    ) -> PollActivityTaskQueueResponse | None:
        """Hand a polled activity task to a worker; None if the task is obsolete.

        ``control_queue`` is where the worker's process takes commands (see worker_commands).
        """
        try:
            async with self.changing(task.key) as (entry, change):
                activity = entry.state.activities.get(task.scheduled_event_id)
                if (
                    not entry.state.running
                    or activity is None
                    or activity.started
                    or activity.paused
                    or activity.attempt != task.attempt
                ):
                    change.remove_task(task.task_id)
                    return None
                activities.record_started(change, activity, identity, str(uuid.uuid4()), control_queue)
        except NotFoundError:
            await self._store.remove_stale([task.task_id], [])
            return None
        return await activity_task_response(self.cache, entry, activity)

    async def complete_activity(self, token: TaskToken, result: Payloads | None, identity: str) -> None:
        async with self.changing(token.key) as (entry, change):
            activity = _running_activity(entry.state, token)
            activities.complete(change, activity, result, identity)

    async def fail_activity(
        self, token: TaskToken, failure: Failure, identity: str, heartbeat_details: Payloads | None = None
    ) -> None:
        async with self.changing(token.key) as (entry, change):
            activity = _running_activity(entry.state, token)
            if heartbeat_details is not None:  # the next attempt resumes from these
                activities.heartbeat(change, activity, heartbeat_details)
            activities.fail_attempt(change, activity, failure, identity)

    async def heartbeat_activity(self, token: TaskToken, details: Payloads | None) -> HeartbeatAnswer:
        """Record a heartbeat; answer whether the attempt was asked to stop, and why."""
        async with self.changing(token.key) as (entry, change):
            activity = _running_activity(entry.state, token)
            activities.heartbeat(change, activity, details)
            return HeartbeatAnswer(activity.cancel_requested, activity.paused, activity.reset_requested)

    async def cancel_activity(self, token: TaskToken, details: Payloads | None, identity: str) -> None:
        async with self.changing(token.key) as (entry, change):
            activity = _running_activity(entry.state, token)
            activities.canceled(change, activity, details, identity)

    async def activity_token(self, key: ExecutionKey, activity_id: str) -> TaskToken:
        """The token of an activity's running attempt, for the ById forms of the API."""
        entry = await self.load(key)
        s = entry.state
        for activity in s.activities.values() if s.running else ():
            if activity.activity_id == activity_id:
                return activities.task_token(s, activity)
        raise NotFoundError(
            f"cannot find pending activity with ActivityID {activity_id}, check workflow "
            "execution history for more details"
        )


def _running_activity(state: MutableState, token: TaskToken) -> Activity:
    """The started attempt the token names, or NotFoundError as Temporal answers a stale one."""
    activity = state.activities.get(token.scheduled_event_id) if state.running else None
    if activity is None or not activity.started or activity.attempt != token.attempt:
        raise NotFoundError(
            "invalid activityID or activity already timed out or invoking workflow is completed"
        )
    return activity
