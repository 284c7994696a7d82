"""What the SQL mixins need of a database connection: SQLite's sqlite3.Connection has it, and the PostgreSQL
store's PgConnection (gateway/store/postgres.py) gives the same shape over psycopg. The mixins write one SQL
dialect, the common subset (`?` parameters, ON CONFLICT upserts, RETURNING ids)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Protocol


class SqlCursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class SqlConnection(Protocol):
    def execute(self, sql: str, parameters: Sequence[Any] = ..., /) -> SqlCursor: ...

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> SqlCursor: ...

    def close(self) -> None: ...
