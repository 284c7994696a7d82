"""The PostgreSQL store: the same port and SQL as the SQLite one (gateway/store/sqlite.py SqlStore), over psycopg 3,
for a county that runs several gateway processes on one database (`--db postgresql://user@host:port/db`).

What SQLite gave by its nature is kept by the database here: journal ids come from a sequence, the append-only
tables refuse UPDATE/DELETE in triggers, and a database replaced under a running gateway is noticed by the
identity its schema was created with."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import psycopg

from gateway.errors import StoreLost
from gateway.store.base import StoreUnavailable
from gateway.store.migrate_postgres import migrate_postgres, schema_identity
from gateway.store.sql import SqlCursor
from gateway.store.sqlite import SqlStore

CONNECT_TIMEOUT_SECONDS = 10


class PgConnection:
    """sqlite3.Connection's execute/executemany over a psycopg connection, for the shared SQL (gateway/store/sql.py):
    `?` parameters become psycopg's `%s`, SQLite's json_extract PostgreSQL's `->>`."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.raw = conn

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> SqlCursor:
        return self.raw.execute(translate(sql), tuple(parameters))

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> SqlCursor:
        cursor = self.raw.cursor()
        cursor.executemany(translate(sql), [tuple(p) for p in parameters])
        return cursor

    def close(self) -> None:
        self.raw.close()


# A string literal (kept as it is), a `?` parameter, or a `%` (doubled: psycopg reads `%` everywhere).
_TOKEN = re.compile(r"'(?:[^']|'')*'|\?|%")
_JSON_EXTRACT = re.compile(r"json_extract\((\w+), '\$\.(\w+)'\)")


@lru_cache(maxsize=1024)
def translate(sql: str) -> str:
    sql = _JSON_EXTRACT.sub(r"(\1::jsonb ->> '\2')", sql)

    def token(match: re.Match[str]) -> str:
        text = match.group()
        if text == "?":
            return "%s"
        if text == "%":
            return "%%"
        return text.replace("%", "%%")

    return _TOKEN.sub(token, sql)


class PostgresStore(SqlStore):
    """`create=False` opens only a database that already holds the hisgw schema (`hisgw serve --init` creates it in
    an empty database); StoreUnavailable says what is wrong in one line."""

    def __init__(self, url: str, *, create: bool = True) -> None:
        self.url = url
        try:
            raw = psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS)
        except psycopg.Error as exc:
            raise StoreUnavailable(f"cannot connect to {_safe(url)}: {_first_line(exc)}") from exc
        try:
            self.schema_version = migrate_postgres(raw, create=create)
            self._identity = schema_identity(raw)
        except psycopg.Error as exc:
            raw.close()
            raise StoreUnavailable(f"cannot open the database {_safe(url)}: {_first_line(exc)}") from exc
        except StoreUnavailable:
            raw.close()
            raise
        self._conn = PgConnection(raw)
        self._raw = raw
        self._depth = 0

    def close(self) -> None:
        self._raw.close()

    def check(self) -> None:
        try:
            now = schema_identity(self._raw)
        except psycopg.Error as exc:
            raise StoreLost(f"{_safe(self.url)} 已无法访问（{_first_line(exc)}）") from exc
        if now != self._identity:
            raise StoreLost(f"{_safe(self.url)} 已被另一个数据库替换")

    @contextmanager
    def transaction(self, *, fsync: bool = True) -> Iterator[None]:
        if self._depth:  # nested use joins the outer unit of work
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self._raw.execute("BEGIN")
        if not fsync:
            # Lost to a crash of the database server at most, never while a later durable commit survives:
            # PostgreSQL flushes its WAL in order (the journal's attempts, runtime.py).
            self._raw.execute("SET LOCAL synchronous_commit = off")
        self._depth = 1
        try:
            yield
        except BaseException:
            if not self._raw.closed:
                self._raw.execute("ROLLBACK")
            raise
        else:
            self._raw.execute("COMMIT")
        finally:
            self._depth = 0

    def _journal_ids(self, count: int) -> list[int]:
        rows = self._raw.execute("SELECT nextval(pg_get_serial_sequence('journal', 'id')) "
                                 "FROM generate_series(1, %s)", (count,)).fetchall()
        return [int(row[0]) for row in rows]


def _safe(url: str) -> str:
    """The URL without its password, for messages and logs."""
    return re.sub(r"(://[^:/@]*):[^@]*@", r"\1:***@", url)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
