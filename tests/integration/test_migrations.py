"""Schema migrations on every backend: the ledger, concurrent starters, refusing a schema it cannot use."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from cadenza.persistence import schema
from cadenza.persistence.backends import open_store
from cadenza.persistence.errors import ChecksumMismatchError, DatabaseInUseError, SchemaTooNewError
from cadenza.persistence.postgres.schema import MIGRATIONS as POSTGRES_MIGRATIONS
from cadenza.persistence.records import NamespaceRecord
from cadenza.persistence.sqlite.schema import MIGRATIONS as SQLITE_MIGRATIONS
from tests import postgres
from tests.helpers import free_port


async def execute(url: str, sql: str) -> None:
    """Change the database behind Cadenza's back, as an operator might."""
    if url.startswith("postgresql://"):
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()
        return
    with sqlite3.connect(url) as lite:
        lite.execute(sql)


def cadenza(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cadenza", *args], capture_output=True, text=True, timeout=60, check=False
    )


async def test_first_open_applies_every_migration_once(db_url: str) -> None:
    store = open_store(db_url)
    await store.open()
    await store.close()
    status = await schema.status(db_url)
    assert status.version == status.latest >= 1
    assert status.pending == [] and status.problems() == []
    shipped = [(m.version, m.checksum) for m in status.known]
    assert [(a.version, a.checksum) for a in status.applied] == shipped
    assert await schema.migrate(db_url) == []


async def test_replicas_starting_together_apply_each_migration_once(db_url: str) -> None:
    outcomes = await asyncio.gather(*(schema.migrate(db_url) for _ in range(6)), return_exceptions=True)
    # A SQLite file is locked by whoever migrates it: the others are refused, not queued.
    applied = [o for o in outcomes if isinstance(o, list)]
    assert all(isinstance(o, list | DatabaseInUseError) for o in outcomes)
    if db_url.startswith("postgresql://"):
        assert len(applied) == 6
    assert sorted(len(a) for a in applied) == (
        [0] * (len(applied) - 1) + [len((await schema.status(db_url)).known)]
    )
    assert len((await schema.status(db_url)).applied) == len((await schema.status(db_url)).known)


async def test_a_newer_schema_is_refused(db_url: str) -> None:
    await schema.migrate(db_url)
    await execute(
        db_url,
        "INSERT INTO schema_migrations (version, name, checksum, applied_at) "
        "VALUES (999, 'future', 'abc', '2030-01-01T00:00:00+00:00')",
    )
    with pytest.raises(SchemaTooNewError, match="newer than this Cadenza knows"):
        await open_store(db_url).open()
    with pytest.raises(SchemaTooNewError):
        await schema.migrate(db_url)
    port = free_port()
    started = cadenza("server", "start", "--db", db_url, "--port", str(port), "--http-port", str(free_port()))
    assert started.returncode == 1
    assert "version 999, newer than this Cadenza knows" in started.stderr


async def test_an_altered_migration_is_refused_and_verify_fails(db_url: str) -> None:
    await schema.migrate(db_url)
    assert cadenza("db", "verify", "--db", db_url).returncode == 0
    await execute(db_url, "UPDATE schema_migrations SET checksum = 'tampered' WHERE version = 1")
    with pytest.raises(ChecksumMismatchError):
        await open_store(db_url).open()
    verified = cadenza("db", "verify", "--db", db_url)
    assert verified.returncode == 1
    assert "migration 1 (initial) was applied with checksum tampered" in verified.stdout


async def test_db_commands_report_and_apply(db_url: str) -> None:
    if not db_url.startswith("postgresql://"):
        sqlite3.connect(db_url).close()  # an empty file, as a first start would find
    before = cadenza("db", "status", "--db", db_url)
    assert before.returncode == 0 and "pending" in before.stdout and "schema version 0" in before.stdout
    assert cadenza("db", "verify", "--db", db_url).returncode == 1
    migrated = cadenza("db", "migrate", "--db", db_url)
    assert migrated.returncode == 0
    assert "applied 0001 initial\napplied 0002 schedules\napplied 0003 listing_indexes\n" in migrated.stdout
    latest = SQLITE_MIGRATIONS[-1].version
    assert latest == POSTGRES_MIGRATIONS[-1].version
    after = cadenza("db", "status", "--db", db_url)
    assert "pending" not in after.stdout and f"schema version {latest}" in after.stdout
    assert cadenza("db", "migrate", "--db", db_url).stdout.strip() == f"schema is at version {latest}"


@pytest.mark.parametrize(
    "tables", [1, 2, 3], ids=["without-schedules", "with-schedules", "with-listing-indexes"]
)
async def test_a_sqlite_file_from_before_the_ledger_keeps_its_data(tmp_path: Path, tables: int) -> None:
    """Files made before the ledger hold migration 1's tables, later ones the schedules, then
    the listing indexes too; every one ends with the listing indexes in place of the old ones."""
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        for migration in SQLITE_MIGRATIONS[:tables]:
            conn.executescript(migration.sql)
        conn.execute("INSERT INTO namespaces (id, name, info) VALUES ('id1', 'kept', '{}')")
        if tables >= 2:
            conn.execute(
                "INSERT INTO schedules (namespace_id, schedule_id, version, create_time, state) "
                "VALUES ('id1', 'sched', 3, 1.0, x'00')"
            )
    store = open_store(str(path))
    await store.open()
    try:
        assert await store.get_namespace("kept") == NamespaceRecord("id1", "kept", {})
        assert [(s.schedule_id, s.version) for s in await store.list_all_schedules()] == (
            [("sched", 3)] if tables >= 2 else []
        )
    finally:
        await store.close()
    assert (await schema.status(str(path))).version == SQLITE_MIGRATIONS[-1].version
    with sqlite3.connect(path) as conn:
        indexes = {
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'executions'"
            )
        }
    assert "executions_listed_by_type_status" in indexes and "executions_by_start" not in indexes


def test_shipped_migrations_are_never_edited() -> None:
    """A database records each migration's checksum; editing a shipped file would lock it out."""
    shipped = {
        ("sqlite", 1): "35fcbf948c3f842c8f55c01136215eddf165a9e4fbd6f89d03e60cf1493c1acc",
        ("sqlite", 2): "4e3dd2286a47a3315e2a4435d1f1b2ce902a059744f01b198400ee75ed185d6f",
        ("postgresql", 1): "29e27b92b5bf00f2133a18f8764e8aa970e450708184b08de50b7a67fee3127c",
        ("postgresql", 2): "0cd3606e40c0d1801eda459cf654ffa8daf0484c64e5ea93948e33e6b9065be9",
        ("sqlite", 3): "316b1db683990d4eb1138d121f7d569f14b4a71d4ad3a34f5f6268945aacdce0",
        ("postgresql", 3): "d913db02747f5e72a1cc6735b081e916d77d0c44e92946ae71abdb700069fc43",
        ("sqlite", 4): "26cb1674be4ed7a0fafb9f539122adca78864c281f35f76479aac2c37be24dc6",
        ("postgresql", 4): "76dac680ee053d70b127611fbbb8e99093a1080df3e1b4659f9ca97f4fb33719",
        ("sqlite", 5): "e5b96c5d12254816fec8a815f55f2baabfd46db08808b874d560f5add9f9f2b9",
        ("postgresql", 5): "988ca4696158d416148fc9bd0c9073c95c85a91cda87f3c8c6f12b41997cb775",
    }
    known = {"sqlite": SQLITE_MIGRATIONS, "postgresql": POSTGRES_MIGRATIONS}
    for (backend, version), checksum in shipped.items():
        assert known[backend][version - 1].checksum == checksum, (backend, version)


async def test_both_backends_migrate_to_the_same_tables_and_columns(
    postgres_server: str, tmp_path: Path
) -> None:
    lite_path = str(tmp_path / "lite.db")
    await schema.migrate(lite_path)
    with sqlite3.connect(lite_path) as lite:
        tables = [r[0] for r in lite.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        on_sqlite = {t: sorted(r[1] for r in lite.execute(f"PRAGMA table_info({t})")) for t in tables}
    pg_url = await postgres.create_database(postgres_server)
    await schema.migrate(pg_url)
    conn = await asyncpg.connect(pg_url)
    try:
        rows = await conn.fetch(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'"
        )
    finally:
        await conn.close()
    on_postgres: dict[str, list[str]] = {}
    for row in rows:
        on_postgres.setdefault(row[0], []).append(row[1])
    on_postgres["tasks"].remove("seq")  # SQLite's rowid keeps the same arrival order
    assert {t: sorted(c) for t, c in on_postgres.items()} == on_sqlite
