"""The journal's SQL for the SQLite store (gateway/store/migrations/0002_journal.sql)."""

from __future__ import annotations

import sqlite3

from gateway.journal.model import Ending, Entry, JournalQuery, JournalRow, Keys

_HEAD = ("id, received_at, fixmedins_code, dialect, transport, msgid, trade, infno, psn_no, mdtrt_id, setl_id, "
         "outcome, err_code, err_msg, answered_at, ms, protection, encoding")
_BODIES = ", request, call, answer"


def begin(conn: sqlite3.Connection, entry: Entry) -> int:
    cursor = conn.execute(
        "INSERT INTO journal (received_at, fixmedins_code, dialect, transport, msgid, trade, infno, psn_no, "
        "mdtrt_id, setl_id, protection, encoding, request, call) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (entry.received_at, entry.fixmedins_code, entry.dialect, entry.transport, entry.msgid, entry.trade,
         entry.infno, entry.keys.psn_no, entry.keys.mdtrt_id, entry.keys.setl_id, entry.protection, entry.encoding,
         entry.request, entry.call),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def finish(conn: sqlite3.Connection, entry_id: int, ending: Ending) -> None:
    # keys the call did not name are filled from the answer (a new mdtrt_id, the setl_id of a settlement)
    conn.execute(
        "UPDATE journal SET outcome = ?, err_code = ?, err_msg = ?, answer = ?, answered_at = ?, ms = ?, "
        "psn_no = CASE psn_no WHEN '' THEN ? ELSE psn_no END, "
        "mdtrt_id = CASE mdtrt_id WHEN '' THEN ? ELSE mdtrt_id END, "
        "setl_id = CASE setl_id WHEN '' THEN ? ELSE setl_id END WHERE id = ?",
        (ending.outcome, ending.err_code, ending.err_msg, ending.answer, ending.answered_at, ending.ms,
         ending.keys.psn_no, ending.keys.mdtrt_id, ending.keys.setl_id, entry_id),
    )


def record(conn: sqlite3.Connection, entry: Entry, ending: Ending) -> int:
    entry_id = begin(conn, entry)
    finish(conn, entry_id, ending)
    return entry_id


def search(conn: sqlite3.Connection, query: JournalQuery) -> list[JournalRow]:
    clauses: list[str] = []
    values: list[object] = []
    for column, value in (("fixmedins_code", query.hospital), ("msgid", query.msgid), ("psn_no", query.person),
                          ("mdtrt_id", query.stay), ("setl_id", query.setl)):
        if value:
            clauses.append(f"{column} = ?")
            values.append(value)
    if query.since:
        clauses.append("received_at >= ?")
        values.append(query.since)
    if query.until:
        clauses.append("received_at < ?")
        values.append(query.until)
    if query.outcome == "unknown":
        clauses.append("outcome IS NULL")
    elif query.outcome:
        clauses.append("outcome = ?")
        values.append(query.outcome)
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    columns = _HEAD + (_BODIES if query.raw else "")
    rows = conn.execute(f"SELECT {columns} FROM journal{where} ORDER BY id DESC LIMIT ?", (*values, query.limit))
    return [_row(row) for row in rows]


def of_msgid(conn: sqlite3.Connection, fixmedins_code: str, msgid: str) -> list[JournalRow]:
    """Every exchange under one hospital's msgid, oldest first (retries included)."""
    rows = conn.execute(f"SELECT {_HEAD} FROM journal WHERE msgid = ? AND fixmedins_code = ? ORDER BY id",
                        (msgid, fixmedins_code))
    return [_row(row) for row in rows]


def seen_elsewhere(conn: sqlite3.Connection, msgid: str, fixmedins_code: str) -> bool:
    return conn.execute("SELECT 1 FROM journal WHERE msgid = ? AND fixmedins_code <> ? LIMIT 1",
                        (msgid, fixmedins_code)).fetchone() is not None


def prune(conn: sqlite3.Connection, before: str, limit: int) -> int:
    """Delete up to `limit` of the oldest rows received before `before`; the caller repeats in short
    transactions so a running gateway is never held up for long."""
    return conn.execute(
        "DELETE FROM journal WHERE id IN (SELECT id FROM journal WHERE received_at < ? ORDER BY received_at LIMIT ?)",
        (before, limit),
    ).rowcount


def _row(row: tuple[object, ...]) -> JournalRow:
    (entry_id, received_at, hospital, dialect, transport, msgid, trade, infno, psn_no, mdtrt_id, setl_id, outcome,
     err_code, err_msg, answered_at, ms, protection, encoding, *bodies) = row
    request, call, answer = (_bytes(b) for b in bodies) if bodies else (None, None, None)
    return JournalRow(
        id=int(str(entry_id)), received_at=str(received_at), fixmedins_code=str(hospital), dialect=str(dialect),
        transport=str(transport), msgid=str(msgid), trade=str(trade), infno=str(infno),
        keys=Keys(str(psn_no), str(mdtrt_id), str(setl_id)), outcome=str(outcome) if outcome else "unknown",
        err_code=str(err_code), err_msg=str(err_msg), answered_at=str(answered_at) if answered_at else None,
        ms=float(str(ms)) if ms is not None else None, protection=str(protection), encoding=str(encoding),
        request=request, call=call, answer=answer,
    )


def _bytes(value: object) -> bytes | None:
    return bytes(value) if isinstance(value, bytes | memoryview) else None
