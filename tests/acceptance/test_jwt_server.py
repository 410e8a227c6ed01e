"""``cadenza server start`` with JWT authentication configured by flags and ``CADENZA_*`` variables."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.jwt_issuer import rsa_key

UNUSABLE = 1
"""The exit code of a server stopped by what its configuration names (as for TLS files)."""


def start_server(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``cadenza server start`` on free ports, run until it exits (a bad configuration ends it at once)."""
    command = [sys.executable, "-m", "cadenza", "server", "start", "--db", ":memory:"]
    return subprocess.run(
        [*command, "--port", "0", "--http-port", "0", *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env={**os.environ, **(env or {})},
    )


def test_a_key_file_that_cannot_be_read_stops_the_start_with_its_name(tmp_path: Path) -> None:
    missing = tmp_path / "missing.pem"
    started = start_server("--jwt-key-file", str(missing))
    assert started.returncode == UNUSABLE
    assert f"cadenza: --jwt-key-file {missing}: cannot be read" in started.stderr
    assert "Traceback" not in started.stderr


def test_a_key_file_that_holds_no_public_key_stops_the_start(tmp_path: Path) -> None:
    path = tmp_path / "keys.pem"
    path.write_text("not a key")
    started = start_server(env={"CADENZA_JWT_KEY_FILE": str(path)})
    assert started.returncode == UNUSABLE
    assert "neither a JWKS document nor a PEM public key or certificate" in started.stderr


def test_a_shared_secret_algorithm_is_refused_at_start(tmp_path: Path) -> None:
    path = tmp_path / "public.pem"
    path.write_bytes(rsa_key("k").public_pem())
    started = start_server("--jwt-key-file", str(path), "--jwt-algorithms", "RS256,HS256")
    assert started.returncode == UNUSABLE
    assert "--jwt-algorithms HS256: not accepted" in started.stderr
