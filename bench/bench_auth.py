"""Cadenza with authentication and the audit log on, and what that costs.

The `cadenza-auth` server is Cadenza started with `--auth --audit` on a
database that already holds a cluster-admin API key; every client and worker
the benchmark starts presents that key. Run beside plain `cadenza` in the same
run, the activity workload's figures of the two give the cost of checking
credentials and writing an audit row per mutating call, as on/off ratios.
"""

from __future__ import annotations

import math
import subprocess
from collections.abc import Sequence
from pathlib import Path

from bench_report import CADENZA, Ratio, ServerResult
from bench_servers import ServerError, ServerPorts, cadenza_command, cadenza_db

CADENZA_AUTH = "cadenza-auth"
KEY_PREFIX = "cdz_"
KEY_CREATE_TIMEOUT_S = 60.0

# (row label, ServerResult attribute, format, ratio key)
AUTH_ROWS: tuple[tuple[str, str, str, str], ...] = (
    ("server CPU s / 1000 wf", "cpu_s_per_1000", "{:.2f}", "auth_cpu_per_1000"),
    ("sequential p50 latency (ms)", "sequential_p50_ms", "{:.1f}", "auth_sequential_p50"),
    ("concurrent throughput (wf/s)", "throughput_wfps", "{:.1f}", "auth_throughput"),
    ("concurrent p50 latency (ms)", "concurrent_p50_ms", "{:.1f}", "auth_concurrent_p50"),
)


def cadenza_auth_command(exe: Path, ports: ServerPorts, workdir: Path) -> list[str]:
    """Plain Cadenza's command line with authentication and the audit log turned on."""
    return [*cadenza_command(exe, ports, workdir), "--auth", "--audit"]


def create_admin_key(exe: Path, workdir: Path) -> str:
    """Create a cluster-admin API key in the server's database, before it starts; return the key.

    The command creates the database if it does not exist yet and prints the key once.
    """
    argv = [
        str(exe),
        "auth",
        "key",
        "create",
        "--db",
        cadenza_db(workdir),
        "--cluster-admin",
        "--name",
        "bench",
    ]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=KEY_CREATE_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired as err:
        raise ServerError(f"`cadenza auth key create` did not finish in {KEY_CREATE_TIMEOUT_S:.0f}s") from err
    key = done.stdout.strip()
    if done.returncode != 0 or not key.startswith(KEY_PREFIX):
        raise ServerError(f"`cadenza auth key create` failed ({done.returncode}): {done.stderr.strip()}")
    return key


def auth_pair(results: Sequence[ServerResult]) -> tuple[ServerResult, ServerResult] | None:
    """Plain Cadenza's and auth-on Cadenza's results, or None unless both ran."""
    by_name = {r.server: r for r in results}
    if CADENZA in by_name and CADENZA_AUTH in by_name:
        return by_name[CADENZA], by_name[CADENZA_AUTH]
    return None


def _on_over_off(on: float, off: float) -> float:
    """on/off, NaN when either figure is missing or off is zero."""
    if math.isnan(on) or math.isnan(off) or off == 0:
        return math.nan
    return on / off


def compute_auth_ratios(off: ServerResult, on: ServerResult) -> list[Ratio]:
    """Auth-on over auth-off for each row: > 1 means turning auth and audit on costs that much more."""
    return [
        Ratio(key, f"{CADENZA_AUTH}/{CADENZA}", _on_over_off(getattr(on, attr), getattr(off, attr)))
        for _, attr, _, key in AUTH_ROWS
    ]


def auth_ratios_for(results: Sequence[ServerResult]) -> list[Ratio]:
    """The on/off ratios of the activity workload, or none unless both Cadenza variants ran."""
    pair = auth_pair(results)
    return compute_auth_ratios(*pair) if pair else []


def _figure(result: ServerResult, attr: str, fmt: str) -> str:
    value = getattr(result, attr)
    return "-" if math.isnan(value) else fmt.format(value)


def format_auth_table(off: ServerResult, on: ServerResult) -> str:
    """The activity workload's auth cost: one row per figure, off, on and on/off."""
    ratios = {r.key: r.value for r in compute_auth_ratios(off, on)}
    rows = [["activity workload", "auth+audit off", "on", "on/off"]]
    for label, attr, fmt, key in AUTH_ROWS:
        ratio = "-" if math.isnan(ratios[key]) else f"{ratios[key]:.2f}x"
        rows.append([label, _figure(off, attr, fmt), _figure(on, attr, fmt), ratio])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join([row[0].ljust(widths[0]), *(c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True))])
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def auth_report(results: Sequence[ServerResult]) -> str | None:
    """The auth-cost section of the report, or None unless both Cadenza variants ran."""
    pair = auth_pair(results)
    if pair is None:
        return None
    heading = (
        f"auth cost: {CADENZA_AUTH} (--auth --audit, every call with a cluster-admin API key) vs {CADENZA}"
    )
    return f"{heading}\n{format_auth_table(*pair)}"
