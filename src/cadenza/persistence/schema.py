"""Schema administration by database URL: what ``cadenza db status|migrate|verify`` call."""

from __future__ import annotations

from cadenza.persistence.backends import backend_for
from cadenza.persistence.migrations import Migration, SchemaStatus


async def status(url: str) -> SchemaStatus:
    """The database's ledger beside the migrations this Cadenza ships; changes nothing."""
    return await backend_for(url).schema_status(url)


async def migrate(url: str) -> list[Migration]:
    """Apply pending migrations (creating the database file for SQLite); return them."""
    return await backend_for(url).migrate_schema(url)
