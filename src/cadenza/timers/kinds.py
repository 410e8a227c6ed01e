"""Every kind of durable timer, and which role fires it.

A timer's kind is stored with it (``TimerRecord.kind``), so each member's value
is the string rows already hold: renaming a value would strand stored timers.
Only the kind decides who handles a timer when it comes due, so this module is
the whole list: adding a kind means adding a member here and an owner below.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum, StrEnum
from types import MappingProxyType


class TimerKind(StrEnum):
    """What a durable timer guards; its value is what the database stores."""

    WFT_START_TO_CLOSE = "wft_start_to_close"
    """A started workflow task's deadline: the history times the attempt out and schedules
    another one (``HistoryService``)."""
    WFT_STICKY_SCHEDULE_TO_START = "wft_sticky_schedule_to_start"
    """A workflow task waiting on a sticky queue: if no sticky worker takes it in time, the
    history times it out (schedule-to-start) and schedules it on the normal queue."""
    ACTIVITY_RETRY = "activity_retry"
    """An activity's retry backoff: when it ends, the history puts the next attempt on the
    activity's task queue."""
    ACTIVITY_START_TO_CLOSE = "activity_start_to_close"
    """A started activity attempt's deadline: the history times the attempt out, then
    retries or fails the activity."""
    ACTIVITY_SCHEDULE_TO_CLOSE = "activity_schedule_to_close"
    """The deadline of a whole activity, all attempts together: the history times it out."""
    ACTIVITY_SCHEDULE_TO_START = "activity_schedule_to_start"
    """An activity attempt no worker picked up in time: the history times it out, then
    retries or fails the activity."""
    ACTIVITY_HEARTBEAT = "activity_heartbeat"
    """A running activity whose worker stopped heartbeating: the history times the attempt out
    unless a heartbeat moved the deadline."""
    USER_TIMER = "user_timer"
    """A workflow's own timer (StartTimer): the history records it as fired."""
    WORKFLOW_RUN_TIMEOUT = "workflow_run_timeout"
    """A run's run timeout: the history times the run out (and retries it or starts the next
    cron run)."""
    WORKFLOW_BACKOFF = "workflow_backoff"
    """The delay before a run's first workflow task (start delay, retry backoff, cron): the
    history schedules that task when it ends."""
    AWAIT_SLOT = "transfer_await_slot"
    """A run's first workflow task held back until the run gets the slots a full ``queue``
    concurrency limit denied its client's start: the transfers take them as they free, then
    schedule the task (``Transfers``)."""
    START_CHILD = "transfer_start_child"
    """Outbox entry, due at once: the transfers start a child workflow the parent initiated."""
    NOTIFY_PARENT = "transfer_notify_parent"
    """Outbox entry: the transfers tell a closed child's parent how the child ended."""
    PARENT_CLOSE_POLICY = "transfer_parent_close_policy"
    """Outbox entry: the transfers terminate or cancel a closed parent's child, as its
    parent close policy says."""
    SIGNAL_EXTERNAL = "transfer_signal_external"
    """Outbox entry: the transfers deliver a signal a run sent to another workflow. Also the
    kind of that run's ``ExternalRequest``."""
    CANCEL_EXTERNAL = "transfer_cancel_external"
    """Outbox entry: the transfers deliver a cancellation a run requested of another workflow.
    Also the kind of that run's ``ExternalRequest``."""
    NEXUS_SCHEDULE_TO_CLOSE = "nexus_schedule_to_close"
    """The deadline of a Nexus operation a run called: the history times it out."""
    NEXUS_START = "nexus_start"
    """Outbox entry: the Nexus invocations deliver an operation's start request to its handler."""
    NEXUS_CANCEL = "nexus_cancel"
    """Outbox entry: the Nexus invocations deliver a cancel request for a started operation."""
    NEXUS_CALLBACK = "nexus_callback"
    """Outbox entry on a closed run a Nexus operation started: the Nexus invocations deliver
    its outcome to the calling run, as its completion callback asks."""
    SCHEDULE = "schedule"
    """A schedule's next wake-up: the schedule service takes its due actions
    (``ScheduleService.fire``)."""
    STANDALONE_DISPATCH = "standalone_activity_dispatch"
    """A standalone activity's start delay or retry backoff ended: its attempt goes on its queue."""
    STANDALONE_START_TO_CLOSE = "standalone_activity_start_to_close"
    """A standalone activity's started attempt ran out of time: retried or timed out."""
    STANDALONE_SCHEDULE_TO_CLOSE = "standalone_activity_schedule_to_close"
    """A standalone activity's whole deadline, all attempts together: it times out."""
    STANDALONE_SCHEDULE_TO_START = "standalone_activity_schedule_to_start"
    """A standalone activity's attempt no worker took in time: it times out."""
    STANDALONE_HEARTBEAT = "standalone_activity_heartbeat"
    """A standalone activity whose worker stopped heartbeating: the attempt times out unless a
    heartbeat moved the deadline."""
    STANDALONE_NEXUS_START = "standalone_nexus_start"
    """Outbox entry: a standalone Nexus operation's start request goes to its handler."""
    STANDALONE_NEXUS_CANCEL = "standalone_nexus_cancel"
    """Outbox entry: a cancel request for a started standalone Nexus operation."""
    STANDALONE_NEXUS_CALLBACK = "standalone_nexus_callback"
    """Outbox entry on a closed standalone activity a Nexus operation started: its outcome goes
    to that operation, as its completion callback asks."""
    STANDALONE_NEXUS_TIMEOUT = "standalone_nexus_timeout"
    """A standalone Nexus operation's schedule-to-close deadline: it times out."""


class TimerOwner(Enum):
    """The role whose handler fires a timer."""

    HISTORY = "history"
    """``HistoryService.fire_timer``: deadlines inside one execution."""
    TRANSFERS = "transfers"
    """``Transfers.run``: outbox entries, work that reaches another execution."""
    SCHEDULES = "schedules"
    """``ScheduleService.fire``: schedules' wake-ups."""
    STANDALONE_ACTIVITIES = "standalone_activities"
    """``StandaloneActivities.fire``: the deadlines of activities started without a workflow."""
    NEXUS = "nexus"
    """``NexusInvocations.run``: requests to Nexus handlers, and their completions."""
    STANDALONE_NEXUS = "standalone_nexus"
    """``StandaloneNexusOperations.fire``: Nexus operations started without a workflow."""


OWNERS: Mapping[TimerKind, TimerOwner] = MappingProxyType(
    {
        TimerKind.WFT_START_TO_CLOSE: TimerOwner.HISTORY,
        TimerKind.WFT_STICKY_SCHEDULE_TO_START: TimerOwner.HISTORY,
        TimerKind.ACTIVITY_RETRY: TimerOwner.HISTORY,
        TimerKind.ACTIVITY_START_TO_CLOSE: TimerOwner.HISTORY,
        TimerKind.ACTIVITY_SCHEDULE_TO_CLOSE: TimerOwner.HISTORY,
        TimerKind.ACTIVITY_SCHEDULE_TO_START: TimerOwner.HISTORY,
        TimerKind.ACTIVITY_HEARTBEAT: TimerOwner.HISTORY,
        TimerKind.USER_TIMER: TimerOwner.HISTORY,
        TimerKind.WORKFLOW_RUN_TIMEOUT: TimerOwner.HISTORY,
        TimerKind.WORKFLOW_BACKOFF: TimerOwner.HISTORY,
        TimerKind.AWAIT_SLOT: TimerOwner.TRANSFERS,
        TimerKind.START_CHILD: TimerOwner.TRANSFERS,
        TimerKind.NOTIFY_PARENT: TimerOwner.TRANSFERS,
        TimerKind.PARENT_CLOSE_POLICY: TimerOwner.TRANSFERS,
        TimerKind.SIGNAL_EXTERNAL: TimerOwner.TRANSFERS,
        TimerKind.CANCEL_EXTERNAL: TimerOwner.TRANSFERS,
        TimerKind.NEXUS_SCHEDULE_TO_CLOSE: TimerOwner.HISTORY,
        TimerKind.NEXUS_START: TimerOwner.NEXUS,
        TimerKind.NEXUS_CANCEL: TimerOwner.NEXUS,
        TimerKind.NEXUS_CALLBACK: TimerOwner.NEXUS,
        TimerKind.SCHEDULE: TimerOwner.SCHEDULES,
        TimerKind.STANDALONE_DISPATCH: TimerOwner.STANDALONE_ACTIVITIES,
        TimerKind.STANDALONE_START_TO_CLOSE: TimerOwner.STANDALONE_ACTIVITIES,
        TimerKind.STANDALONE_SCHEDULE_TO_CLOSE: TimerOwner.STANDALONE_ACTIVITIES,
        TimerKind.STANDALONE_SCHEDULE_TO_START: TimerOwner.STANDALONE_ACTIVITIES,
        TimerKind.STANDALONE_HEARTBEAT: TimerOwner.STANDALONE_ACTIVITIES,
        TimerKind.STANDALONE_NEXUS_START: TimerOwner.STANDALONE_NEXUS,
        TimerKind.STANDALONE_NEXUS_CANCEL: TimerOwner.STANDALONE_NEXUS,
        TimerKind.STANDALONE_NEXUS_TIMEOUT: TimerOwner.STANDALONE_NEXUS,
        TimerKind.STANDALONE_NEXUS_CALLBACK: TimerOwner.STANDALONE_NEXUS,
    }
)
"""Who fires each kind: exactly one owner per kind."""


def owned_by(owner: TimerOwner) -> frozenset[TimerKind]:
    """The kinds ``owner`` fires."""
    return frozenset(kind for kind, owned in OWNERS.items() if owned is owner)
