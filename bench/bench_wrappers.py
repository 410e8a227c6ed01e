"""What the rate-limit wrapper adds to each call, in this process, no server or network: N calls
of a handler that answers at once, through the RPC wrappers a default server puts around every
WorkflowService handler (the metrics, then the rate limits, ``Server._rpc_wrappers``), beside
the same chain without the rate limits. The limits are the defaults (nothing configured); the
buckets' clock steps 20 ms per reading, so no call here runs over a rate and every call is the
admitted one a server at an ordinary load sees. Run it as ``python -m bench.bench_wrappers``;
it prints microseconds per call and the ratio with/without."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from google.protobuf.message import Message
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv1

from cadenza.api.rate_limiting import RateLimiting
from cadenza.api.server import WORKFLOW_SERVICE, Handler, RpcWrapper, chained
from cadenza.metrics.service import Metrics
from cadenza.quotas.limiter import Quotas
from cadenza.quotas.settings import QuotaSettings

CALLS = 10_000
REPEATS = 15
STEP_SECONDS = 0.02
"""How far the buckets' clock moves per reading: 25 calls a second at most, under every default rate."""

CASES: dict[str, Message] = {
    "RespondWorkflowTaskCompleted": wsv1.RespondWorkflowTaskCompletedRequest(namespace="default"),
    "PollWorkflowTaskQueue": wsv1.PollWorkflowTaskQueueRequest(
        namespace="default", task_queue=TaskQueue(name="q")
    ),
    "ListWorkflowExecutions": wsv1.ListWorkflowExecutionsRequest(namespace="default"),
}


class SteppingClock:
    def __init__(self) -> None:
        self._now = 0.0

    def now(self) -> float:
        self._now += STEP_SECONDS
        return self._now


class Context:
    """The parts of a grpc context the wrappers read: the metadata an SDK sends."""

    METADATA = (
        ("client-name", "temporal-python"),
        ("client-version", "1.0.0"),
        ("temporal-namespace", "default"),
    )

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return self.METADATA

    async def abort_with_status(self, status: Any) -> None:
        raise AssertionError("a benchmark call was refused: the clock steps too little")


async def answer(_request: Any, _context: Any) -> object:
    return None


def chain(with_rate_limits: bool) -> RpcWrapper:
    """The default server's wrappers (metrics on; auth and audit off), with or without the limits."""
    wrappers: list[RpcWrapper] = [Metrics().wrap_rpc]
    if with_rate_limits:
        wrappers.append(RateLimiting(Quotas(QuotaSettings(), clock=SteppingClock())).wrap)
    return chained(wrappers)


async def seconds(handler: Handler, request: Message) -> float:
    """How long ``CALLS`` calls take."""
    context: Any = Context()
    began = time.process_time()
    for _ in range(CALLS):
        await handler(request, context)
    return time.process_time() - began


async def microseconds(method: str, request: Message) -> tuple[float, float]:
    """Microseconds per call without and with the limits, each the best of ``REPEATS`` runs;
    the two alternate, so a busy spell on the machine slows both alike."""
    without = chain(False)(WORKFLOW_SERVICE, method, answer)
    with_limits = chain(True)(WORKFLOW_SERVICE, method, answer)
    best = [float("inf"), float("inf")]
    for _ in range(REPEATS):
        for index, handler in enumerate((without, with_limits)):
            best[index] = min(best[index], await seconds(handler, request))
    return best[0] / CALLS * 1e6, best[1] / CALLS * 1e6


async def run() -> None:
    print(f"{'rpc':<30} {'without µs':>10} {'with µs':>10} {'limits µs':>10} {'ratio':>7}")
    for method, request in CASES.items():
        without, with_limits = await microseconds(method, request)
        print(
            f"{method:<30} {without:>10.2f} {with_limits:>10.2f} {with_limits - without:>10.2f}"
            f" {with_limits / without:>7.2f}"
        )


def main() -> None:
    asyncio.run(run())


if __name__ == "__main__":
    main()
