"""Database fixtures: every store test runs once per backend, each on a fresh database; the
replica tests share a fresh PostgreSQL database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from cadenza.persistence.backends import open_store
from cadenza.persistence.store import Store
from tests import postgres


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A PostgreSQL server URL: the environment's, or a private cluster for this session."""
    with postgres.any_server() as url:
        if url is None:
            pytest.skip(f"PostgreSQL is not installed and {postgres.CONTRACT_VAR} is not set")
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, empty database on each backend."""
    if request.param == "sqlite":
        yield str(tmp_path / "store.db")
        return
    server: str = request.getfixturevalue("postgres_server")
    url = await postgres.create_database(server)
    yield url
    await postgres.drop_database(server, url)


@pytest.fixture
async def postgres_database(postgres_server: str) -> AsyncIterator[str]:
    """A fresh, empty database on the PostgreSQL server (for replicas to share), dropped after
    the test."""
    url = await postgres.create_database(postgres_server)
    yield url
    await postgres.drop_database(postgres_server, url)


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[Store]:
    opened = open_store(db_url)
    await opened.open()
    yield opened
    await opened.close()
