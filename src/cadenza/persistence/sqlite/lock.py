"""One process per SQLite file: an exclusive OS lock held for as long as the file is served.

Matching and timers live in the memory of the process that serves a file, so a
second server on the same file would hand tasks only to its own pollers: a
workflow started through it would never reach a worker polling the first.

The lock is ``flock`` on a side file, ``<database>.lock``. The kernel drops it
when its holder ends, however it ends (``kill -9`` included), so a lock never
outlives its process. Not the database file itself: SQLite keeps its own POSIX
locks on that file, and where ``flock`` is emulated with POSIX locks (NFS),
locking it too would interfere with them.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from cadenza.persistence.errors import DatabaseInUseError, StorageError

IN_MEMORY = ":memory:"


def lock_database(database: str) -> DatabaseLock | None:
    """Lock a database file for this process; an in-memory database is private already."""
    return None if database == IN_MEMORY else DatabaseLock.acquire(database)


class DatabaseLock:
    """The held lock of one database file; ``release`` gives it up and removes the side file."""

    def __init__(self, fd: int, lock_path: Path) -> None:
        self._fd: int | None = fd
        self._lock_path = lock_path

    @classmethod
    def acquire(cls, database: str) -> DatabaseLock:
        """Lock ``database`` for this process, or raise ``DatabaseInUseError`` at once.

        Raises ``StorageError`` naming the path when its folder cannot hold the lock
        file (missing, not writable), since the database could not be created there either.
        """
        lock_path = Path(os.path.realpath(database) + ".lock")
        while True:
            fd = _open(database, lock_path)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read_holder(fd)
                os.close(fd)
                raise DatabaseInUseError(database, holder) from None
            if _still_named(fd, lock_path):
                break
            # The previous holder removed this file as it let go; lock the one now there.
            os.close(fd)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        return cls(fd, lock_path)

    def release(self) -> None:
        if self._fd is None:
            return
        # Removed while still held, so whoever opens the path next gets a fresh file.
        self._lock_path.unlink(missing_ok=True)
        os.close(self._fd)
        self._fd = None


def _open(database: str, lock_path: Path) -> int:
    try:
        return os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except FileNotFoundError:
        raise StorageError(
            f"cannot open the SQLite database {database}: folder {lock_path.parent} does not exist"
        ) from None
    except OSError as exc:
        raise StorageError(
            f"cannot open the SQLite database {database}: {exc.strerror} ({lock_path})"
        ) from None


def _read_holder(fd: int) -> int | None:
    """The process ID the holder wrote into the lock file, if it has yet."""
    try:
        return int(os.pread(fd, 32, 0).decode().strip())
    except (OSError, ValueError):
        return None


def _still_named(fd: int, lock_path: Path) -> bool:
    try:
        named = lock_path.stat()
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (named.st_dev, named.st_ino) == (held.st_dev, held.st_ino)
