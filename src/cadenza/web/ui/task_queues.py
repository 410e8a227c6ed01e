"""``/namespaces/{namespace}/task-queues/{task_queue}``: who polls the queue's workflow and
activity tasks (identity, last access, rate), how many tasks wait, and the rate at which the
queue hands tasks out, from DescribeTaskQueue."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from temporalio.api.enums.v1 import RateLimitSource, TaskQueueKind, TaskQueueType
from temporalio.api.taskqueue.v1 import PollerInfo, TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest, DescribeTaskQueueResponse

from cadenza.web.ui import present
from cadenza.web.ui.rpc import CallFailed, Rpc
from cadenza.web.ui.site import Site

_KINDS = (
    ("Workflow", TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW),
    ("Activity", TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY),
)


@dataclass(frozen=True)
class Poller:
    identity: str
    last_access: str
    rate_per_second: str


@dataclass(frozen=True)
class QueueSide:
    """The workflow or the activity half of a task queue."""

    kind: str
    pollers: list[Poller]
    backlog: int
    rate_limit: str
    """Tasks per second the queue dispatches at most, and who set that rate."""


_RATE_SOURCES = {
    RateLimitSource.RATE_LIMIT_SOURCE_API: "set through the API",
    RateLimitSource.RATE_LIMIT_SOURCE_WORKER: "asked for by the workers",
    RateLimitSource.RATE_LIMIT_SOURCE_SYSTEM: "the server's limit",
}


def _poller(info: PollerInfo) -> Poller:
    return Poller(info.identity, present.when(info.last_access_time), f"{info.rate_per_second:g}")


async def _side(rpc: Rpc, namespace: str, name: str, kind: str, queue_type: int) -> QueueSide:
    described = await rpc(
        "DescribeTaskQueue",
        DescribeTaskQueueRequest(
            namespace=namespace,
            task_queue=TaskQueue(name=name, kind=TaskQueueKind.TASK_QUEUE_KIND_NORMAL),
            task_queue_type=queue_type,  # type: ignore[arg-type]
        ),
        DescribeTaskQueueResponse,
    )
    pollers = sorted(
        (_poller(info) for info in described.pollers), key=lambda poller: poller.last_access, reverse=True
    )
    limit = described.effective_rate_limit
    source = _RATE_SOURCES.get(limit.rate_limit_source, "")
    rate_limit = f"{limit.requests_per_second:g} tasks/s" + (f" ({source})" if source else "")
    return QueueSide(kind, pollers, described.task_queue_status.backlog_count_hint, rate_limit)


async def task_queue_page(site: Site, request: Request) -> Response:
    namespace = request.path_params["namespace"]
    name = request.path_params["task_queue"]
    try:
        sides = [await _side(site.rpc, namespace, name, kind, queue_type) for kind, queue_type in _KINDS]
    except CallFailed as failure:
        return site.failed(request, failure)
    return site.page(
        request,
        "task_queue.html",
        title=f"{name} · Task queues · {namespace}",
        namespace=namespace,
        task_queue=name,
        sides=sides,
    )
