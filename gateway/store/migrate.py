"""Versioned schema migrations: migrations/NNNN_name.sql, applied in order, tracked in user_version."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from importlib import resources

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def available() -> list[Migration]:
    folder = resources.files("gateway.store") / "migrations"
    found = []
    for entry in folder.iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migrations must be numbered 0001.. without gaps, found {versions}")
    return found


def migrate_sqlite(conn: sqlite3.Connection) -> int:
    """Bring the database to the newest schema; each migration is one transaction. Returns the version."""
    current = conn.execute("PRAGMA user_version").fetchone()[0]
    migrations = available()
    if current > len(migrations):
        raise RuntimeError(f"database schema {current} is newer than this gateway ({len(migrations)})")
    for migration in migrations[current:]:
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(migration.sql):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {migration.version}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    return len(migrations)


def _statements(sql: str) -> list[str]:
    # executescript() would commit on its own; split so the migration stays one transaction.
    return [s for s in sqlite3_split(sql) if s.strip()]


def sqlite3_split(sql: str) -> list[str]:
    statements: list[str] = []
    buffer = ""
    for line in sql.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer)
            buffer = ""
    if buffer.strip():
        statements.append(buffer)
    return statements
