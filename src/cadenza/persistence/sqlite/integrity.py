"""SQLite's own consistency checks: ``quick_check`` when a server starts, ``integrity_check``
on a backup.

``quick_check`` reads every page once and checks the b-tree structure, record formats and
NOT NULL constraints, but not that each index matches its table; it costs about one read of
the file, so a server can afford it at every start. ``integrity_check`` also checks the
indexes, which a backup or restore (run once, by hand) can afford. On a 114 MB file of
25,000 runs: ``quick_check`` 0.13 s with the file in the page cache, 2 to 8 s with it cold
on a busy two-core machine; ``integrity_check`` 0.57 s cached.
"""

from __future__ import annotations

import sqlite3

from cadenza.persistence.errors import CorruptDatabaseError

MAX_REPORTED = 5
"""Problems named in the error; SQLite may list thousands for one damaged page."""


def quick_check(conn: sqlite3.Connection, path: str) -> None:
    """Raise ``CorruptDatabaseError`` unless ``PRAGMA quick_check`` finds the file sound."""
    _check(conn, path, "quick_check")


def integrity_check(conn: sqlite3.Connection, path: str) -> None:
    """Raise ``CorruptDatabaseError`` unless ``PRAGMA integrity_check`` finds the file sound."""
    _check(conn, path, "integrity_check")


def _check(conn: sqlite3.Connection, path: str, pragma: str) -> None:
    try:
        rows = conn.execute(f"PRAGMA {pragma}({MAX_REPORTED})").fetchall()
    except sqlite3.DatabaseError as exc:
        # A header or root page too damaged to walk fails the check itself.
        raise corrupt(path, str(exc)) from exc
    found = [str(row[0]) for row in rows]
    if found != ["ok"]:
        raise corrupt(path, "; ".join(found))


def corrupt(path: str, detail: str) -> CorruptDatabaseError:
    return CorruptDatabaseError(
        f"the SQLite database {path} is damaged ({detail}); it is not served. "
        "Restore it from a backup (cadenza db restore), or move the damaged file aside"
    )
