"""The one place a store is built from the `--db` value.

A path (or `sqlite:PATH`) is the embedded SQLite file, the default. `postgresql://…` is the PostgreSQL store
(issue 25), added here and nowhere else: callers never construct a store class themselves."""

from __future__ import annotations

from pathlib import Path

from gateway.store.base import StoreUnavailable
from gateway.store.sqlite import SqliteStore
from gateway.store.writer_lock import WriterLock

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres(db: Path | str) -> bool:
    return isinstance(db, str) and db.startswith(POSTGRES_SCHEMES)


def sqlite_path(db: Path | str) -> Path:
    return Path(db.removeprefix("sqlite:")) if isinstance(db, str) else db


def open_store(db: Path | str, *, create: bool = False, write: bool = False) -> SqliteStore:
    """`create=False` opens only a database that exists; `write=True` also holds the writer lock until close()
    (gateway/store/writer_lock.py): `hisgw serve` and every command that writes. StoreUnavailable says what is
    wrong in one line."""
    if is_postgres(db):
        raise StoreUnavailable("this build has no PostgreSQL store yet")
    path = sqlite_path(db)
    if create and not path.parent.is_dir():  # a mistyped --db is said, not a tree of folders made for it
        raise StoreUnavailable(f"no folder {path.parent.absolute()} for the database {path.name} "
                               f"(create it first: mkdir -p {path.parent})")
    lock = WriterLock(path) if write and path.is_file() else None  # before the migrations run, which write
    try:
        store = SqliteStore(path, create=create)
    except BaseException:
        if lock is not None:
            lock.release()
        raise
    if write:
        try:
            store.hold(lock or WriterLock(store.path))
        except StoreUnavailable:
            store.close()
            raise
    return store


def refuse_while_served(db: Path | str) -> None:
    """For a command that replaces the file rather than opening it (`hisgw store restore`)."""
    path = sqlite_path(db)
    if not is_postgres(db) and path.is_file():
        WriterLock(path).release()
