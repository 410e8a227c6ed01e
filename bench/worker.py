"""Benchmark worker, run as its own process so its CPU never mixes with the driver's.

Usage: python bench/worker.py --target HOST:PORT --task-queue NAME [--max-activities N]

With ``CADENZA_BENCH_API_KEY`` set it presents that key (a server started
with auth on). Prints ``READY`` on stdout once polling has started and shuts down gracefully
on SIGTERM/SIGINT, so the driver can sequence start-up and tear-down.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from pathlib import Path

from temporalio.worker import Worker

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_defs import (
    CounterWorkflow,
    EchoWorkflow,
    FanoutWorkflow,
    HistoryWorkflow,
    SignalledRoundsWorkflow,
    TimersWorkflow,
    echo,
)
from bench_servers import API_KEY_ENV, connect

READY_LINE = "READY"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the worker's command line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--target", required=True, help="server gRPC address")
    parser.add_argument("--task-queue", required=True)
    parser.add_argument("--namespace", default="default")
    parser.add_argument(
        "--max-activities",
        type=int,
        default=None,
        help="activities run at once (the SDK's default when unset); the fanout workload needs its width",
    )
    return parser.parse_args(argv)


def install_stop_handlers(stop: asyncio.Event) -> None:
    """Turn SIGTERM/SIGINT into a graceful worker shutdown instead of a crash."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)


async def serve(args: argparse.Namespace) -> None:
    """Poll the task queue until told to stop."""
    stop = asyncio.Event()
    install_stop_handlers(stop)
    client = await connect(args.target, os.environ.get(API_KEY_ENV) or None, args.namespace)
    worker = Worker(
        client,
        task_queue=args.task_queue,
        workflows=[
            EchoWorkflow,
            TimersWorkflow,
            CounterWorkflow,
            FanoutWorkflow,
            HistoryWorkflow,
            SignalledRoundsWorkflow,
        ],
        activities=[echo],
        max_concurrent_activities=args.max_activities,
    )
    async with worker:
        print(READY_LINE, flush=True)
        await stop.wait()


def main() -> None:
    """Entry point for the worker subprocess."""
    asyncio.run(serve(parse_args()))


if __name__ == "__main__":
    main()
