"""Workflows that note the order they run in, for the priority and fairness tests.

Their workers run them unsandboxed, so ``RAN`` is this module's one list, shared by
every run and by the test that reads it.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow
from temporalio.common import Priority

RAN: list[str] = []
"""Labels in the order their workflow (or activity) first ran."""


def shown(priority: Priority) -> str:
    return f"{priority.priority_key}|{priority.fairness_key}|{priority.fairness_weight}"


@workflow.defn
class Noted:
    """Notes its label on its first workflow task and completes."""

    @workflow.run
    async def run(self, label: str) -> str:
        if not workflow.unsafe.is_replaying():
            RAN.append(label)
        return label


@activity.defn
async def noted_activity(label: str) -> str:
    RAN.append(label)
    return shown(activity.info().priority)


@workflow.defn
class WithActivity:
    """Runs one activity on another queue, with a priority of its own or none."""

    @workflow.run
    async def run(self, label: str, queue: str, own_fairness_key: str) -> str:
        return await workflow.execute_activity(
            noted_activity,
            label,
            task_queue=queue,
            start_to_close_timeout=timedelta(seconds=30),
            priority=Priority(fairness_key=own_fairness_key) if own_fairness_key else Priority.default,
        )


@workflow.defn
class ShowsPriority:
    """Notes its label and answers the priority it runs with."""

    @workflow.run
    async def run(self, label: str) -> str:
        if not workflow.unsafe.is_replaying():
            RAN.append(label)
        return shown(workflow.info().priority)


@workflow.defn
class WithChild:
    """Starts one child on another queue, with no priority of its own."""

    @workflow.run
    async def run(self, label: str, queue: str) -> str:
        return await workflow.execute_child_workflow(
            ShowsPriority.run, label, id=f"{workflow.info().workflow_id}-child", task_queue=queue
        )


@workflow.defn
class ContinuesOnce:
    """Continues as new once, then answers the priority its second run has."""

    @workflow.run
    async def run(self, continued: bool) -> str:
        if not continued:
            workflow.continue_as_new(True)
        return shown(workflow.info().priority)
