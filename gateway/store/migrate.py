"""Versioned schema migrations: migrations/NNNN_name.sql, applied in order, tracked in user_version.

Numbers must be unique and increasing; a gap is allowed (branches reserve numbers: 0005 may arrive before 0003).
A database is brought up by applying every migration numbered above its user_version, so a database made
while a number was still missing does not get that migration later: such a database is made anew."""

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
    if len(set(versions)) != len(versions) or not versions or versions[0] != 1:
        raise RuntimeError(f"migrations must be numbered 0001.. without repeats, found {versions}")
    return found


def migrate_sqlite(conn: sqlite3.Connection) -> int:
    """Bring the database to the newest schema; each migration is one transaction. Returns the version."""
    current = conn.execute("PRAGMA user_version").fetchone()[0]
    migrations = available()
    newest = migrations[-1].version
    if current > newest:
        raise RuntimeError(f"database schema {current} is newer than this gateway ({newest})")
    for migration in [m for m in migrations if m.version > current]:
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(migration.sql):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {migration.version}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    return newest


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
