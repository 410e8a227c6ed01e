"""The chaos soak (``tests/faults/soak.py``) in small: a few SIGKILLs of a SQLite server, and two
PostgreSQL replicas killed in turn while PostgreSQL restarts, under the mixed workload; every
stored run then keeps the fault invariants. The soak at full size runs by hand, not here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import postgres
from tests.faults.soak import Figures, Options, soak

pytestmark = pytest.mark.crash


def _assert_held(figures: Figures) -> None:
    print("\n".join(figures.lines()))
    assert figures.drained, "workflows in flight when the chaos ended did not finish"
    assert figures.verdict.problems == []
    assert figures.verdict.acknowledged > 0


@pytest.mark.timeout(110)
async def test_sigkilled_sqlite_server_loses_and_repeats_nothing(tmp_path: Path) -> None:
    figures = await soak(Options("sqlite", kills=3, lanes=3, seed=7), tmp_path)
    assert figures.kills == 3
    _assert_held(figures)


@pytest.mark.replicas
@pytest.mark.timeout(110)
async def test_replicas_killed_in_turn_while_postgres_restarts_lose_and_repeat_nothing(
    tmp_path: Path,
) -> None:
    if postgres.binaries() is None:
        pytest.skip("PostgreSQL is not installed")
    options = Options(
        "postgres", seconds=12, lanes=3, seed=7, replica_pause=(2.0, 4.0), postgres_pause=(3.0, 6.0)
    )
    figures = await soak(options, tmp_path)
    assert figures.kills >= 2
    assert figures.postgres_restarts >= 1
    _assert_held(figures)
