"""Versioned schema migrations: numbered ``.sql`` files and a ledger of the ones applied.

Each backend keeps its migrations in its own ``migrations/`` folder as
``NNNN_name.sql`` and records every applied one in a ``schema_migrations``
ledger (version, name, checksum, applied_at). What is shared is here: reading
the files, and judging a ledger against them. Applying them under a lock, so
replicas starting together apply each migration once, is the backend's part.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from importlib import resources

from cadenza.persistence.errors import ChecksumMismatchError, SchemaError, SchemaTooNewError

_FILE_NAME = re.compile(r"^(\d{4})_(\w+)\.sql$")


@dataclass(frozen=True)
class Migration:
    """One schema change as this Cadenza ships it."""

    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class AppliedMigration:
    """One row of a database's ledger."""

    version: int
    name: str
    checksum: str
    applied_at: datetime


@dataclass(frozen=True)
class SchemaStatus:
    """A database's ledger beside the migrations this Cadenza knows."""

    known: tuple[Migration, ...]
    applied: tuple[AppliedMigration, ...]

    @property
    def version(self) -> int:
        return max((a.version for a in self.applied), default=0)

    @property
    def latest(self) -> int:
        return max((m.version for m in self.known), default=0)

    @property
    def pending(self) -> list[Migration]:
        done = {a.version for a in self.applied}
        return [m for m in self.known if m.version not in done]

    def problems(self) -> list[SchemaError]:
        """Why this Cadenza must not use the database (empty when it may)."""
        known = {m.version: m for m in self.known}
        found: list[SchemaError] = []
        if self.version > self.latest:
            found.append(
                SchemaTooNewError(
                    f"the database schema is at version {self.version}, newer than this Cadenza knows "
                    f"(up to {self.latest}); upgrade Cadenza to use this database"
                )
            )
        for applied in self.applied:
            migration = known.get(applied.version)
            if migration is not None and migration.checksum != applied.checksum:
                found.append(
                    ChecksumMismatchError(
                        f"migration {applied.version} ({applied.name}) was applied with checksum "
                        f"{applied.checksum[:12]}, but this Cadenza ships {migration.checksum[:12]}; "
                        "the schema was changed outside Cadenza's migrations"
                    )
                )
        return found

    def check(self) -> None:
        """Raise the first problem, if any."""
        problems = self.problems()
        if problems:
            raise problems[0]


def load(package: str) -> tuple[Migration, ...]:
    """The migrations in ``package``'s ``migrations/`` folder, in order of their numbers.

    Numbers may leave gaps (a feature may reserve one that another ships first), never repeat.
    """
    folder = resources.files(package).joinpath("migrations")
    found = []
    for entry in folder.iterdir():
        match = _FILE_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions) or 0 in versions:
        raise SchemaError(f"{package} migrations repeat a number or use 0: {versions}")
    return tuple(found)
