"""The one place a store is built from the `--db` value.

A path (or `sqlite:PATH`) is the embedded SQLite file, the default. `postgresql://…` is the PostgreSQL store
(gateway/store/postgres.py), chosen here and nowhere else: callers never construct a store class themselves."""

from __future__ import annotations

from pathlib import Path

from gateway.store.sqlite import SqliteStore, SqlStore

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres(db: Path | str) -> bool:
    return isinstance(db, str) and db.startswith(POSTGRES_SCHEMES)


def open_store(db: Path | str, *, create: bool = False) -> SqlStore:
    """`create=False` opens only a database that exists; StoreUnavailable says what is wrong in one line."""
    if is_postgres(db):
        from gateway.store.postgres import PostgresStore  # psycopg is loaded only by those who use it

        return PostgresStore(str(db), create=create)
    path = Path(db.removeprefix("sqlite:")) if isinstance(db, str) else db
    return SqliteStore(path, create=create)
