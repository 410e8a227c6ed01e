"""Online backup and restore of a SQLite database file.

A server holds its file's lock on a side file (``lock.py``), not on the database itself,
and serves it in WAL mode, so another process may read the file while the server writes.
A backup is SQLite's backup API run in one step: it copies every page inside one read
transaction, which in WAL mode never blocks the server's writes and sees one committed
state, the last one committed when it began. The copy is written beside its destination,
checked with ``integrity_check``, switched out of WAL mode (one self-contained file), and
only then renamed into place.

A restore writes a checked backup into a path no server holds (it takes that path's lock
for the duration), after removing any write-ahead log left there, which SQLite would
otherwise replay into the restored file.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from cadenza.persistence.errors import StorageError
from cadenza.persistence.migrations import SchemaStatus
from cadenza.persistence.sqlite import integrity, schema
from cadenza.persistence.sqlite.lock import lock_database

BUSY_TIMEOUT_MS = 5000


@dataclass(frozen=True)
class DatabaseSummary:
    """What an operator checks a backup by: its size, schema and contents."""

    path: str
    size: int
    schema_version: int
    namespaces: int
    executions: int
    running: int

    def describe(self) -> str:
        return (
            f"{self.path}: {self.size} bytes, schema version {self.schema_version}, "
            f"{self.namespaces} namespace(s), {self.executions} execution(s) ({self.running} running)"
        )


def open_existing(path: str, *, read_only: bool = False) -> sqlite3.Connection:
    """A connection to a database file that must exist already; nothing is created."""
    if not Path(path).is_file():
        raise StorageError(f"no SQLite database at {path}")
    mode = "ro" if read_only else "rw"
    try:
        conn = sqlite3.connect(
            f"file:{quote(os.path.abspath(path))}?mode={mode}",
            uri=True,
            isolation_level=None,
            check_same_thread=False,
        )
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    except sqlite3.Error as exc:
        raise StorageError(f"cannot open the SQLite database {path}: {exc}") from exc
    return conn


def backup(source: str, destination: str, *, force: bool = False) -> DatabaseSummary:
    """Copy ``source`` (served or not) into ``destination``, checked; return what it holds."""
    _refuse_same_file(source, destination)
    _refuse_existing(destination, force, "--force replaces it")
    partial = destination + ".partial"
    Path(partial).unlink(missing_ok=True)
    try:
        with closing(open_existing(source)) as src, closing(_create(partial)) as dst:
            _copy_pages(src, dst, source)
            dst.execute("PRAGMA journal_mode=DELETE")
            summary = _checked_summary(dst, partial)
        _durably_rename(partial, destination)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    return _renamed(summary, destination)


def inspect(path: str) -> DatabaseSummary:
    """Check a database file (``integrity_check`` and its schema ledger) and summarise it."""
    with closing(open_existing(path, read_only=True)) as conn:
        return _checked_summary(conn, path)


def restore(backup_file: str, target: str, *, force: bool = False) -> DatabaseSummary:
    """Write a checked backup into ``target``, which no server may hold; return what it holds."""
    _refuse_same_file(backup_file, target)
    inspect(backup_file)
    lock = lock_database(target)
    try:
        _refuse_existing(target, force, "--force replaces it")
        partial = target + ".partial"
        Path(partial).unlink(missing_ok=True)
        try:
            with closing(open_existing(backup_file, read_only=True)) as src, closing(_create(partial)) as dst:
                _copy_pages(src, dst, backup_file)
                dst.execute("PRAGMA journal_mode=DELETE")
                summary = _checked_summary(dst, partial)
            for leftover in (target + "-wal", target + "-shm", target + "-journal"):
                Path(leftover).unlink(missing_ok=True)
            _durably_rename(partial, target)
        except BaseException:
            Path(partial).unlink(missing_ok=True)
            raise
    finally:
        if lock is not None:
            lock.release()
    return _renamed(summary, target)


def _refuse_same_file(source: str, destination: str) -> None:
    if os.path.realpath(source) == os.path.realpath(destination):
        raise StorageError(f"{source} and {destination} are the same file")


def _refuse_existing(path: str, force: bool, hint: str) -> None:
    if force:
        return
    for candidate in (path, path + "-wal"):
        if Path(candidate).exists() and Path(candidate).stat().st_size > 0:
            raise StorageError(f"{candidate} exists and is not empty; {hint}")


def _create(path: str) -> sqlite3.Connection:
    try:
        return sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise StorageError(f"cannot create {path}: {exc}") from exc


def _copy_pages(src: sqlite3.Connection, dst: sqlite3.Connection, source: str) -> None:
    try:
        # pages=-1: every page in one step, so one read transaction sees one committed state.
        src.backup(dst, pages=-1)
    except sqlite3.DatabaseError as exc:
        raise (
            integrity.corrupt(source, str(exc))
            if type(exc) is sqlite3.DatabaseError
            else StorageError(f"copying {source} failed: {exc}")
        ) from exc


def _checked_summary(conn: sqlite3.Connection, path: str) -> DatabaseSummary:
    integrity.integrity_check(conn, path)
    status = schema.status(conn)
    _check_schema(status, path)
    namespaces, executions, running = conn.execute(
        "SELECT (SELECT count(*) FROM namespaces), (SELECT count(*) FROM executions), "
        "(SELECT count(*) FROM executions WHERE close_time IS NULL)"
    ).fetchone()
    return DatabaseSummary(path, os.path.getsize(path), status.version, namespaces, executions, running)


def _check_schema(status: SchemaStatus, path: str) -> None:
    if not status.applied:
        raise StorageError(f"{path} is not a Cadenza database (it has no schema ledger)")
    problems = status.problems()
    if problems:
        raise StorageError(f"{path}: {problems[0]}")


def _durably_rename(partial: str, final: str) -> None:
    fd = os.open(partial, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(partial, final)
    folder = os.open(os.path.dirname(os.path.abspath(final)), os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def _renamed(summary: DatabaseSummary, path: str) -> DatabaseSummary:
    return DatabaseSummary(
        path,
        os.path.getsize(path),
        summary.schema_version,
        summary.namespaces,
        summary.executions,
        summary.running,
    )
