"""A column value as PostgreSQL takes it, and as both sides hash it for the checksum.

The checksum of a table is the sum, modulo 2**256, of the SHA-256 of each row's normalised
values: the same rows give the same sum in any order, so neither side has to sort (the two
databases could order text keys differently) and both sides stream. Normalised means by the
column's kind, not by what the driver returned: JSON re-serialised with sorted keys (``jsonb``
keeps its own key order and spacing), floats by their exact bits, booleans as integers.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence

from cadenza.persistence.transfer.plan import Column, Kind, TransferError

CHECKSUM_MODULUS = 2**256


def to_target(column: Column, value: object, table: str) -> object:
    """``value`` as read from SQLite, converted for PostgreSQL's column of the same kind."""
    if value is None:
        return None
    kind = column.kind
    if kind is Kind.INTEGER and type(value) is int:
        return value
    if kind is Kind.BOOLEAN and type(value) is int and value in (0, 1):
        return bool(value)
    if kind is Kind.FLOAT and type(value) in (int, float):
        return float(value)  # type: ignore[arg-type]
    if kind in (Kind.TEXT, Kind.JSON) and type(value) is str:
        return value
    if kind is Kind.BYTES and type(value) is bytes:
        return value
    raise TransferError(
        f"{table}.{column.name} holds a {type(value).__name__} ({value!r:.60}) where {kind.value} belongs"
    )


def normalised(kind: Kind, value: object) -> bytes:
    """One value's bytes for the row hash, the same whichever database it was read from."""
    if value is None:
        return b"N"
    if kind in (Kind.INTEGER, Kind.BOOLEAN):
        return b"I" + str(int(value)).encode()  # type: ignore[call-overload]
    if kind is Kind.FLOAT:
        return b"F" + float(value).hex().encode()  # type: ignore[arg-type]
    if kind is Kind.JSON:
        parsed = json.loads(value)  # type: ignore[arg-type]
        return b"J" + json.dumps(parsed, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    if kind is Kind.TEXT:
        return b"T" + str(value).encode()
    assert isinstance(value, bytes), value
    return b"B" + value


def row_digest(columns: Sequence[Column], row: Sequence[object]) -> int:
    """A row's hash as an integer; each value length-prefixed, so no two rows encode alike."""
    digest = hashlib.sha256()
    for column, value in zip(columns, row, strict=True):
        encoded = normalised(column.kind, value)
        digest.update(len(encoded).to_bytes(8, "big"))
        digest.update(encoded)
    return int.from_bytes(digest.digest(), "big")


class TableSum:
    """A running count and checksum of one table's rows."""

    def __init__(self, columns: Sequence[Column]) -> None:
        self._columns = columns
        self.count = 0
        self._sum = 0

    def add(self, rows: Iterable[Sequence[object]]) -> None:
        for row in rows:
            self.count += 1
            self._sum = (self._sum + row_digest(self._columns, row)) % CHECKSUM_MODULUS

    @property
    def checksum(self) -> str:
        return f"{self._sum:064x}"
