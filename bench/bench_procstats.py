"""Resource accounting for a server's whole process tree.

A server may fork helpers (and the `temporal` CLI could in principle wrap the
real server), so every figure is summed over the root process and all of its
live descendants rather than read from the root pid alone.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from types import TracebackType

import psutil

SAMPLE_INTERVAL_S = 0.1


def process_tree(root: psutil.Process) -> list[psutil.Process]:
    """Return the root and its live descendants; empty if the root has exited."""
    try:
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def cpu_seconds(root: psutil.Process) -> float:
    """Total user+system CPU seconds consumed by the tree so far.

    The ``children_*`` fields are included so that helpers which already
    exited (and were reaped by a parent in the tree) are not lost; live
    processes are never counted there, so nothing is counted twice.
    """
    total = 0.0
    for proc in process_tree(root):
        try:
            t = proc.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += t.user + t.system + t.children_user + t.children_system
    return total


def own_cpu_seconds(proc: psutil.Process) -> float:
    """User+system CPU seconds of one process, excluding any children.

    Used for the driver, whose children are the very servers being measured.
    """
    t = proc.cpu_times()
    return t.user + t.system


def tree_rss_bytes(root: psutil.Process) -> int:
    """Current resident set size of the whole tree, in bytes."""
    total = 0
    for proc in process_tree(root):
        try:
            total += proc.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total


def trees_rss_bytes(roots: Iterable[psutil.Process]) -> int:
    """Current resident set size of several trees together (replicas of one server), in bytes."""
    return sum(tree_rss_bytes(root) for root in roots)


class PeakRssSampler:
    """Track the peak RSS of one or more trees, summed, by polling in a background thread.

    Polling (every 100 ms) is used because RSS high-water marks of a process
    tree are not exposed by the OS in a portable way; a short interval keeps
    transient peaks during the concurrent burst from being missed.
    """

    def __init__(self, *roots: psutil.Process, interval_s: float = SAMPLE_INTERVAL_S) -> None:
        self._roots = roots
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="rss-sampler", daemon=True)
        self.peak_bytes = 0

    def _sample(self) -> None:
        self.peak_bytes = max(self.peak_bytes, trees_rss_bytes(self._roots))

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self._interval_s)

    def start(self) -> None:
        """Take a first sample synchronously, then keep sampling in the background."""
        self._sample()
        self._thread.start()

    def stop(self) -> None:
        """Stop sampling, taking one final sample so the end state is included."""
        self._stop.set()
        self._thread.join()
        self._sample()

    def __enter__(self) -> PeakRssSampler:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
