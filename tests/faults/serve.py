"""``python -m tests.faults.serve server start ...``: the real ``cadenza`` command, with faults.

The process is Cadenza's own (``cadenza.cli.main``), except that before it starts, its SQLite
connections and its store are wrapped so a ``FaultPlan`` strikes them. The plan's seed comes
from ``CADENZA_FAULT_SEED``, the faults drawn are logged to the file ``CADENZA_FAULT_LOG``
names, and ``CADENZA_FAULT_PROFILE`` picks the rates (``PROFILES``). Test-only: nothing in
``src`` knows of it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from cadenza import assembly
from cadenza.cli.main import main
from cadenza.persistence import backends
from cadenza.persistence.sqlite import store as sqlite_store
from tests.faults import store as faulty_store
from tests.faults.plan import FaultPlan, Rates
from tests.faults.sqlite_connection import faulty_connect

_KILL = 0.001

PROFILES: dict[str, dict[str, Rates]] = {
    "workload": {
        # The store's calls, on either backend: failures and waits, and a kill now and then.
        "store.commit": Rates(fail_before=0.05, delay=0.04, kill_before=_KILL, kill_after=_KILL),
        "store.write_schedule": Rates(fail_before=0.03, delay=0.04, kill_after=_KILL),
        "store.remove_stale": Rates(fail_before=0.05),
        "store.load_execution": Rates(fail_before=0.02, delay=0.02),
        "store.read_history": Rates(fail_before=0.02, delay=0.02),
        "store.get_current_execution": Rates(fail_before=0.02),
        # Inside SQLite's group commit: between two changes of a group, and at its commit.
        "group.change": Rates(fail_before=0.01, kill_before=_KILL),
        "group.commit": Rates(fail_before=0.02, delay=0.03, kill_before=_KILL, kill_after=_KILL),
        # A restart's recovery fails or dies now and then; the next start must cope.
        "recovery.list_tasks": Rates(fail_before=0.1, kill_before=0.05),
        "recovery.list_timers": Rates(kill_after=0.05),
    },
    "ambiguous-commits": {
        # Commits done whose reply is lost, as when PostgreSQL's connection drops at COMMIT.
        "store.commit": Rates(fail_after=0.05),
        "store.write_schedule": Rates(fail_after=0.3),
    },
    # The real server untouched: only what strikes it from outside (SIGKILL, a database restart).
    "none": {},
}


def plan_from_env() -> FaultPlan:
    log = os.environ.get("CADENZA_FAULT_LOG")
    return FaultPlan(
        int(os.environ.get("CADENZA_FAULT_SEED", "0")),
        PROFILES[os.environ.get("CADENZA_FAULT_PROFILE", "workload")],
        Path(log) if log else None,
    )


def install(plan: FaultPlan) -> None:
    """Make the stores this process opens from now on fault as ``plan`` says."""
    sqlite_store.connect = faulty_connect(sqlite_store.connect, plan)  # type: ignore[assignment]

    def open_faulty_store(url: str, *, exclusive: bool = True) -> Any:
        store = backends.open_store(url, exclusive=exclusive)
        faulty_store.install(store, plan)
        return store

    # The name the server's assembly calls its store's opener by.
    setattr(assembly, "open_store", open_faulty_store)  # noqa: B010


if __name__ == "__main__":
    install(plan_from_env())
    sys.exit(main(sys.argv[1:]))
