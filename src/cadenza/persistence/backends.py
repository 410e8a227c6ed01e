"""The one place a database URL picks its backend.

``postgresql://user:pass@host/db`` (or ``postgres://``) is PostgreSQL; anything
else is a SQLite file path (``sqlite://`` prefix optional) or ``:memory:``.
Each backend is a module (``sqlite.backend``, ``postgres.backend``) with the
same few names; the store, the schema commands and the name shown to clients
all go through ``backend_for``, so no other module asks which database it is.
"""

from __future__ import annotations

from typing import Protocol

from cadenza.persistence.migrations import Migration, SchemaStatus
from cadenza.persistence.store import Store


class Backend(Protocol):
    """What a backend module provides."""

    NAME: str
    """The store's name as Temporal's GetClusterInfo reports it (its SQL plugin names)."""

    def open_store(self, url: str, *, exclusive: bool) -> Store:
        """The backend's store on ``url``, not yet opened."""

    async def schema_status(self, url: str) -> SchemaStatus:
        """The database's migration ledger beside the migrations shipped; changes nothing."""

    async def migrate_schema(self, url: str) -> list[Migration]:
        """Apply pending migrations; return them."""


def backend_for(url: str) -> Backend:
    """The backend module for a database URL."""
    # Imported here, when chosen, so a driver loads only with its database: SQLite users
    # never need asyncpg. This is the one function-level import of a backend.
    if url.startswith(("postgres://", "postgresql://")):
        from cadenza.persistence.postgres import backend as postgres

        return postgres
    from cadenza.persistence.sqlite import backend as sqlite

    return sqlite


def open_store(url: str, *, exclusive: bool = True) -> Store:
    """The store for a database URL, not yet opened.

    An open SQLite store holds its file's lock, so no second server starts on it;
    ``exclusive=False`` leaves the lock to the server that holds it, for a reader
    that inspects a file being served. PostgreSQL is shared by replicas, unlocked.
    """
    return backend_for(url).open_store(url, exclusive=exclusive)


def backend_name(url: str) -> str:
    """The store's name as Temporal's GetClusterInfo reports it (its SQL plugin names)."""
    return backend_for(url).NAME
