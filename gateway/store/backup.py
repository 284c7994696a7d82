"""`hisgw store backup FILE` / `hisgw store restore FILE`: SQLite's online backup API (sqlite3.Connection.backup).

The store runs in WAL mode: recent commits live in `hisgw.sqlite-wal` until a checkpoint, so copying the main
file alone (cp) loses them or copies a torn page. The backup API reads one consistent snapshot through SQLite,
while a running gateway keeps writing (in WAL mode readers never block the writer). The copy is one
self-contained file (rollback journal, no -wal beside it), checked with PRAGMA integrity_check, written under a
temporary name and renamed only when complete. A restore copies a checked backup into the store's file through
SQLite too (its WAL included), with the gateway stopped."""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from pathlib import Path

COUNTED = ("persons", "stays", "settlements", "journal")


class BackupError(Exception):
    """A backup or restore refused; nothing was written."""


def backup(db: Path, target: Path) -> dict[str, int]:
    """Copy the store at `db` into the new file `target`; the copy's row counts."""
    if not db.is_file():
        raise BackupError(f"{db}: 文件不存在 (no such database)")
    if target.exists():
        raise BackupError(f"{target} exists: name a new file (a backup never overwrites)")
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        with closing(sqlite3.connect(db)) as source, closing(sqlite3.connect(partial)) as copy:
            source.backup(copy)  # one step: one consistent snapshot
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            counts = _checked(copy, partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return counts


def restore(source_file: Path, db: Path) -> dict[str, int]:
    """Replace the store at `db` (created when absent) with the backup `source_file`; the restored counts."""
    if not source_file.is_file():
        raise BackupError(f"{source_file}: 文件不存在 (no such backup)")
    with closing(sqlite3.connect(f"file:{source_file}?mode=ro", uri=True)) as source:
        _checked(source, source_file)
        db.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(db)) as store:
            source.backup(store)
            return _checked(store, db)


def _checked(conn: sqlite3.Connection, path: Path) -> dict[str, int]:
    try:
        verdict = conn.execute("PRAGMA integrity_check").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path}: not a hisgw database ({exc})") from exc
    if verdict != "ok":
        raise BackupError(f"{path}: integrity check failed: {verdict}")
    if not version or not set(COUNTED) <= tables:
        raise BackupError(f"{path}: not a hisgw database (no schema version or tables {', '.join(COUNTED)})")
    return {table: int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]) for table in COUNTED}
