"""The copy's plan comes from both schemas, and refuses what it cannot move before writing."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest

from cadenza.persistence.transfer.plan import Kind, TargetColumn, TransferError, plan
from cadenza.persistence.transfer.values import TableSum, to_target


@pytest.fixture
def source() -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE things (id TEXT PRIMARY KEY, at REAL NOT NULL, doc TEXT, data BLOB)")
    conn.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY)")
    yield conn
    conn.close()


def target(*columns: TargetColumn) -> dict[str, list[TargetColumn]]:
    return {"things": list(columns)}


ID, AT = TargetColumn("id", "text", False), TargetColumn("at", "double precision", False)
DOC, DATA = TargetColumn("doc", "jsonb", True), TargetColumn("data", "bytea", True)


def test_every_source_table_but_the_ledger_is_planned_with_kinds_from_both_sides(
    source: sqlite3.Connection,
) -> None:
    seq = TargetColumn("seq", "bigint", True)
    (things,) = plan(source, target(seq, ID, AT, DOC, DATA))
    assert things.name == "things" and things.source_order == "rowid"
    assert [(c.name, c.kind) for c in things.columns] == [
        ("id", Kind.TEXT),
        ("at", Kind.FLOAT),
        ("doc", Kind.JSON),
        ("data", Kind.BYTES),
    ]


def test_a_table_postgresql_lacks_is_refused(source: sqlite3.Connection) -> None:
    with pytest.raises(TransferError, match="table things exists in SQLite but not in PostgreSQL"):
        plan(source, {})


def test_an_unknown_type_pair_a_missing_column_and_an_unfillable_one_are_all_named(
    source: sqlite3.Connection,
) -> None:
    with pytest.raises(TransferError) as refused:
        plan(source, target(ID, TargetColumn("at", "real", False), DOC, TargetColumn("owner", "text", False)))
    message = str(refused.value)
    assert "things.at: no known conversion from SQLite REAL to PostgreSQL real" in message
    assert "column things.data exists in SQLite but not in PostgreSQL" in message
    assert "column things.owner exists in PostgreSQL only and has no default" in message


def test_a_value_of_the_wrong_storage_class_stops_the_copy(source: sqlite3.Connection) -> None:
    (things,) = plan(source, target(ID, AT, DOC, DATA))
    with pytest.raises(TransferError, match=r"things\.data holds a str"):
        to_target(things.columns[3], "text in a blob column", "things")


def test_checksums_ignore_row_order_and_json_spelling(source: sqlite3.Connection) -> None:
    (things,) = plan(source, target(ID, AT, DOC, DATA))
    one, other = TableSum(things.columns), TableSum(things.columns)
    one.add([("a", 1.0, '{"x": 1, "y": [true]}', b"\x00"), ("b", 2.5, None, None)])
    other.add([("b", 2.5, None, None), ("a", 1, '{"y":[true],"x":1}', b"\x00")])
    assert (one.count, one.checksum) == (other.count, other.checksum)
    changed = TableSum(things.columns)
    changed.add([("b", 2.5, None, None), ("a", 1.0000001, '{"y":[true],"x":1}', b"\x00")])
    assert changed.checksum != one.checksum
