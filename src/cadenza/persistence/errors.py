"""Errors raised at the storage boundary; driver exceptions never travel past it."""

from __future__ import annotations


class StorageError(Exception):
    """The database failed in a way the caller cannot fix by retrying its change."""


class SchemaError(StorageError):
    """The database's schema is not one this Cadenza can use; the message says why and what to do."""


class SchemaTooNewError(SchemaError):
    """The database was migrated by a newer Cadenza than this one."""


class ChecksumMismatchError(SchemaError):
    """An applied migration differs from the file this Cadenza ships under the same version."""


class DatabaseInUseError(StorageError):
    """Another process serves this SQLite file; one file has one server at a time."""

    def __init__(self, database: str, holder: int | None) -> None:
        by = f"another Cadenza process (pid {holder})" if holder else "another Cadenza process"
        super().__init__(
            f"the SQLite database {database} is in use by {by}; "
            "a SQLite database is served by one server at a time"
        )
        self.database = database
        self.holder = holder


class CorruptDatabaseError(StorageError):
    """A SQLite file failed SQLite's own consistency check; it is not served or copied."""
