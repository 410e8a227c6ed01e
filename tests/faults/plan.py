"""Which fault strikes which storage call, drawn from a seed.

Every wrapped call asks the plan at its injection point (a store method, the SQLite group
commit's ``COMMIT`` or a savepoint inside it, recovery at start) and is told to go through,
fail, wait, or kill the process there. The same seed draws the same sequence of choices; which
call receives each choice still depends on how the server's threads interleave. Each fault
drawn is appended to a log file, one line each, so the test that started the server can count
them after the process is gone (killed ones included: the line is flushed before the kill).
"""

from __future__ import annotations

import enum
import os
import random
import signal
import threading
from dataclasses import dataclass
from pathlib import Path


class Fault(enum.Enum):
    NONE = "none"
    FAIL_BEFORE = "fail-before"
    """The call fails and nothing of it is done."""
    FAIL_AFTER = "fail-after"
    """The call is done, then reports a failure: the commit whose reply a cut connection lost."""
    DELAY = "delay"
    KILL_BEFORE = "kill-before"
    """SIGKILL before the call: the change is lost, and no caller was told it was done."""
    KILL_AFTER = "kill-after"
    """SIGKILL after the call, before anyone hears of it: committed, never acknowledged."""


@dataclass(frozen=True)
class Rates:
    """The chance of each fault at each call of a point; the rest go through."""

    fail_before: float = 0.0
    fail_after: float = 0.0
    delay: float = 0.0
    kill_before: float = 0.0
    kill_after: float = 0.0

    def draw(self, roll: float) -> Fault:
        for fault, rate in (
            (Fault.FAIL_BEFORE, self.fail_before),
            (Fault.FAIL_AFTER, self.fail_after),
            (Fault.DELAY, self.delay),
            (Fault.KILL_BEFORE, self.kill_before),
            (Fault.KILL_AFTER, self.kill_after),
        ):
            if roll < rate:
                return fault
            roll -= rate
        return Fault.NONE


class FaultPlan:
    """Draws a fault for each call from ``seed``, at each point's rates; thread-safe, as the
    SQLite writer thread asks too."""

    def __init__(self, seed: int, rates: dict[str, Rates], log: Path | None = None) -> None:
        self._random = random.Random(seed)
        self._rates = rates
        self._log = log
        self._lock = threading.Lock()
        self.drawn: list[tuple[str, Fault]] = []

    def choose(self, point: str) -> Fault:
        rates = self._rates.get(point)
        if rates is None:
            return Fault.NONE
        with self._lock:
            fault = rates.draw(self._random.random())
            if fault is not Fault.NONE:
                self.drawn.append((point, fault))
                if self._log is not None:
                    with self._log.open("a") as log:
                        log.write(f"{point} {fault.value}\n")
        return fault

    def delay_seconds(self) -> float:
        with self._lock:
            return self._random.uniform(0.001, 0.05)


def kill_now() -> None:
    """Die as ``kill -9`` kills: no cleanup, no flush, no reply."""
    os.kill(os.getpid(), signal.SIGKILL)


def count_faults(log: Path) -> dict[str, int]:
    """Faults a plan logged, by kind, over every process that wrote to ``log``."""
    counts: dict[str, int] = {}
    if log.exists():
        for line in log.read_text().splitlines():
            kind = line.split()[-1]
            counts[kind] = counts.get(kind, 0) + 1
    return counts
