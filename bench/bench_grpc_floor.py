"""The floor under every RPC: what a gRPC server in Python spends on a call that does nothing.

Starts one server process per kind, each answering WorkflowService's GetSystemInfo with a
constant response, and drives them from this process with a ``grpc.aio`` client, some calls
in flight at a time. The server's CPU is its own user+system time (psutil) over spans of
seconds, per call. The kinds:

- ``aio``: a grpc.aio server with a plain generic handler (grpc decodes and encodes);
- ``aio+build``: a grpc.aio server built by ``cadenza.api.server.build`` with a servicer that
  answers at once: Cadenza's wiring (the request decoded in Python, the request's scope, the
  server's options and health service) without the wrappers;
- ``aio+cadenza``: the same with the wrappers a default Cadenza server puts around every handler
  (metrics, rate limits; the limits admit every call, as in ``bench.bench_wrappers``);
- ``sync``: grpcio's thread-pool server with the same plain handler as ``aio``;
- ``aio+uvloop`` (only with ``--kinds``, uvloop installed): ``aio`` on uvloop's event loop.

Run it as ``python -m bench.bench_grpc_floor`` from the repository root (``src`` and the root on
``PYTHONPATH``); it prints server CPU µs per call for each kind and number in flight, the median
of ``--repeats`` spans, the kinds alternating so a busy spell on the machine slows them alike.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from concurrent import futures
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import psutil
from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv1

from cadenza.api.rate_limiting import RateLimiting
from cadenza.api.server import RpcWrapper, build, chained
from cadenza.metrics.service import Metrics
from cadenza.quotas.limiter import Quotas
from cadenza.quotas.settings import QuotaSettings

KINDS = ("aio", "aio+build", "aio+cadenza", "sync")
UVLOOP = "aio+uvloop"
"""The plain grpc.aio server on uvloop's event loop: only when named, as uvloop is no dependency."""
METHOD = "/temporal.api.workflowservice.v1.WorkflowService/GetSystemInfo"
ROOT = Path(__file__).resolve().parents[1]
SYNC_THREADS = 32
"""Enough threads that the sync server never queues a call the client has in flight."""


def system_info() -> wsv1.GetSystemInfoResponse:
    """A response of the real call's shape: a server version and a handful of capabilities."""
    response = wsv1.GetSystemInfoResponse(server_version="1.0.0")
    caps = response.capabilities
    caps.signal_and_query_header = caps.internal_error_differentiation = True
    caps.activity_failure_include_heartbeat = caps.supports_schedules = True
    caps.encoded_failure_attributes = caps.upsert_memo = caps.eager_workflow_start = True
    return response


RESPONSE = system_info()


def answer(_request: Any, _context: Any) -> wsv1.GetSystemInfoResponse:
    return RESPONSE


async def answer_async(_request: Any, _context: Any) -> wsv1.GetSystemInfoResponse:
    return RESPONSE


def _generic(handler: Any) -> grpc.GenericRpcHandler[Any, Any]:
    method = grpc.unary_unary_rpc_method_handler(
        handler,
        request_deserializer=wsv1.GetSystemInfoRequest.FromString,
        response_serializer=wsv1.GetSystemInfoResponse.SerializeToString,
    )
    return grpc.method_handlers_generic_handler(
        "temporal.api.workflowservice.v1.WorkflowService", {"GetSystemInfo": method}
    )


class AnsweringServicer:
    """Stands in for Cadenza's servicers: GetSystemInfo answers at once, nothing else is called."""

    async def GetSystemInfo(self, _request: Any, _context: Any) -> wsv1.GetSystemInfoResponse:
        return RESPONSE

    def __getattr__(self, name: str) -> Any:
        return self.GetSystemInfo


async def _serve_aio(kind: str) -> None:
    if kind.startswith("aio+"):
        stub: Any = AnsweringServicer()
        server, port = await build(stub, stub, "127.0.0.1:0", 4 * 1024 * 1024, _wrappers(kind))
    else:
        server = grpc.aio.server()
        server.add_generic_rpc_handlers((_generic(answer_async),))
        port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    print(port, flush=True)
    await server.wait_for_termination()


class SteppingClock:
    """The rate limits' clock, 20 ms further on at each reading: no call runs over a rate."""

    def __init__(self) -> None:
        self._now = 0.0

    def now(self) -> float:
        self._now += 0.02
        return self._now


def _wrappers(kind: str) -> RpcWrapper:
    """What ``build`` puts around every handler: nothing for ``aio+build``; for ``aio+cadenza``
    the default server's wrappers, with the buckets' clock stepping on every reading so no call
    runs over the default rates (2,400 calls a second): each is an admitted call."""
    if kind == "aio+build":
        return chained([])
    limits = RateLimiting(Quotas(QuotaSettings(), clock=SteppingClock()))
    return chained([Metrics().wrap_rpc, limits.wrap])


def serve(kind: str) -> None:
    """Serve until killed, printing the bound port on the first line of stdout."""
    if kind == UVLOOP:
        import uvloop  # type: ignore[import-not-found,unused-ignore]

        uvloop.run(_serve_aio("aio"))
        return
    if kind != "sync":
        asyncio.run(_serve_aio(kind))
        return
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=SYNC_THREADS))
    server.add_generic_rpc_handlers((_generic(answer),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(port, flush=True)
    server.wait_for_termination()


@dataclass
class Started:
    kind: str
    process: subprocess.Popen[str]
    port: int

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()

    @property
    def cpu(self) -> float:
        times = psutil.Process(self.process.pid).cpu_times()
        return times.user + times.system


def start(kind: str) -> Started:
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.bench_grpc_floor", "--serve", kind],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.strip():
        Started(kind, process, 0).stop()
        raise RuntimeError(f"the {kind} server did not start")
    return Started(kind, process, int(line))


async def _calls_until(stub: Any, deadline: float) -> int:
    calls = 0
    while time.monotonic() < deadline:
        await stub(wsv1.GetSystemInfoRequest())
        calls += 1
    return calls


async def span(server: Started, in_flight: int, seconds: float) -> tuple[float, int]:
    """Server CPU µs per call over ``seconds`` of calls with ``in_flight`` at a time, and the calls."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        stub = channel.unary_unary(
            METHOD,
            request_serializer=wsv1.GetSystemInfoRequest.SerializeToString,
            response_deserializer=wsv1.GetSystemInfoResponse.FromString,
        )
        await _calls_until(stub, time.monotonic() + 0.2)  # connect and warm up, unmeasured
        began = server.cpu
        deadline = time.monotonic() + seconds
        counts = await asyncio.gather(*(_calls_until(stub, deadline) for _ in range(in_flight)))
        used = server.cpu - began
    calls = sum(counts)
    return used / calls * 1e6, calls


async def measure(
    servers: list[Started], in_flights: list[int], seconds: float, repeats: int
) -> dict[tuple[str, int], list[float]]:
    """µs per call for each (kind, in flight), one figure per repeat, the kinds alternating."""
    figures: dict[tuple[str, int], list[float]] = {}
    for _ in range(repeats):
        for in_flight in in_flights:
            for server in servers:
                micros, _calls = await span(server, in_flight, seconds)
                figures.setdefault((server.kind, in_flight), []).append(micros)
    return figures


def report(figures: dict[tuple[str, int], list[float]]) -> str:
    lines = [f"{'server':<12} {'in flight':>9} {'median µs':>10}  runs µs"]
    for (kind, in_flight), runs in figures.items():
        shown = " ".join(f"{run:.0f}" for run in runs)
        lines.append(f"{kind:<12} {in_flight:>9} {statistics.median(runs):>10.0f}  {shown}")
    return "\n".join(lines)


async def run(kinds: list[str], in_flights: list[int], seconds: float, repeats: int) -> None:
    servers: list[Started] = []
    try:
        for kind in kinds:
            servers.append(start(kind))
        print(report(await measure(servers, in_flights, seconds, repeats)))
    finally:
        for server in servers:
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--serve", choices=(*KINDS, UVLOOP), help="serve this kind (the driver starts these)")
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--in-flight", default="1,20", help="calls in flight, comma-separated")
    parser.add_argument("--seconds", type=float, default=3.0, help="length of one measured span")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    in_flights = [int(n) for n in args.in_flight.split(",")]
    asyncio.run(run(args.kinds.split(","), in_flights, args.seconds, args.repeats))


if __name__ == "__main__":
    main()
