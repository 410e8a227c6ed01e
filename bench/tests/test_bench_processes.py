"""Tests for process management and resource accounting, using throwaway processes."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_procstats import (
    PeakRssSampler,
    cpu_seconds,
    own_cpu_seconds,
    process_tree,
    tree_rss_bytes,
)
from bench_servers import (
    ServerError,
    ServerPorts,
    ServerProcess,
    cadenza_command,
    cadenza_replicas,
    free_ports,
    resolve_executable,
    temporal_command,
)

SLEEPER = [sys.executable, "-c", "import time; time.sleep(600)"]
IGNORES_SIGTERM = [
    sys.executable,
    "-c",
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "print('armed', flush=True); time.sleep(600)",
]


def test_free_ports_are_distinct() -> None:
    ports = free_ports(4)
    assert len(set(ports)) == 4
    assert all(port > 0 for port in ports)


def test_commands_use_loopback_ports_and_durable_files(tmp_path: Path) -> None:
    ports = ServerPorts(grpc=1234, http=5678)
    cadenza = cadenza_command(Path("cadenza"), ports, tmp_path)
    assert cadenza[1:3] == ["server", "start"]
    assert cadenza[5:7] == ["--port", "1234"]
    assert str(tmp_path / "cadenza.db") in cadenza
    temporal = temporal_command(Path("temporal"), ports, tmp_path)
    assert "--headless" in temporal
    assert str(tmp_path / "temporal.db") in temporal
    for argv in (cadenza, temporal):
        assert argv[argv.index("--ip") + 1] == "127.0.0.1"
        assert argv[argv.index("--http-port") + 1] == "5678"


def test_resolve_executable_prefers_the_interpreters_bin_dir() -> None:
    found = resolve_executable(Path(sys.executable).name)
    assert found == Path(sys.executable).parent / Path(sys.executable).name
    assert resolve_executable("definitely-not-a-real-binary-xyz") is None


def test_server_process_is_stopped_on_exit(tmp_path: Path) -> None:
    with ServerProcess("sleeper", SLEEPER, tmp_path / "log") as server:
        proc = psutil.Process(server.pid)
        assert server.exit_code() is None
    assert not proc.is_running()
    assert server.exit_code() is not None


def test_stop_escalates_to_sigkill(tmp_path: Path) -> None:
    log = tmp_path / "log"
    server = ServerProcess("stubborn", IGNORES_SIGTERM, log)
    server.start()
    try:
        while "armed" not in log.read_text():  # SIGTERM must be ignored before we send it
            assert server.exit_code() is None
            time.sleep(0.05)
        server.stop(timeout_s=0.5)
        assert server.exit_code() == -9
    finally:
        server.stop(timeout_s=0.5)


def test_tree_accounting_includes_children() -> None:
    child = subprocess.Popen(SLEEPER)
    try:
        me = psutil.Process()
        assert child.pid in {p.pid for p in process_tree(me)}
        assert tree_rss_bytes(me) > psutil.Process(child.pid).memory_info().rss
        assert cpu_seconds(me) >= own_cpu_seconds(me) > 0
    finally:
        child.kill()
        child.wait()


def test_sampler_reports_a_peak_at_least_the_current_rss() -> None:
    me = psutil.Process()
    with PeakRssSampler(me, interval_s=0.01) as sampler:
        current = tree_rss_bytes(me)
    assert sampler.peak_bytes > 0
    assert sampler.peak_bytes >= min(current, me.memory_info().rss)


def test_sampler_sums_several_trees() -> None:
    me = psutil.Process()
    with PeakRssSampler(me, me, interval_s=0.01) as sampler:
        pass
    assert sampler.peak_bytes >= 2 * min(tree_rss_bytes(me), me.memory_info().rss)


@pytest.mark.parametrize(
    ("replicas", "db", "expected"),
    [(None, None, 1), ("1", None, 1), ("2", "postgresql://u@h/db", 2), ("3", "postgres://u@h/db", 3)],
)
def test_replica_count_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, replicas: str | None, db: str | None, expected: int
) -> None:
    for var, value in (("CADENZA_BENCH_REPLICAS", replicas), ("CADENZA_BENCH_DB", db)):
        if value is None:
            monkeypatch.delenv(var, raising=False)
        else:
            monkeypatch.setenv(var, value)
    assert cadenza_replicas() == expected


@pytest.mark.parametrize(
    ("replicas", "db"), [("0", "postgresql://u@h/db"), ("two", None), ("2", None), ("2", "/tmp/cadenza.db")]
)
def test_bad_replica_counts_are_refused(
    monkeypatch: pytest.MonkeyPatch, replicas: str, db: str | None
) -> None:
    monkeypatch.setenv("CADENZA_BENCH_REPLICAS", replicas)
    if db is None:
        monkeypatch.delenv("CADENZA_BENCH_DB", raising=False)
    else:
        monkeypatch.setenv("CADENZA_BENCH_DB", db)
    with pytest.raises(ServerError, match="CADENZA_BENCH_REPLICAS"):
        cadenza_replicas()
