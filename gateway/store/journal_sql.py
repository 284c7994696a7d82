"""The journal's SQL, shared by the SQLite and PostgreSQL stores (gateway/store/migrations/0002_journal.sql)."""

from __future__ import annotations

from collections.abc import Sequence

from gateway.journal.model import Ending, Entry, JournalQuery, JournalRow, Keys
from gateway.store.sql import SqlConnection

_HEAD = ("j.id, j.received_at, j.fixmedins_code, j.dialect, j.transport, j.msgid, j.trade, j.infno, j.psn_no, "
         "j.mdtrt_id, j.setl_id, o.psn_no, o.mdtrt_id, o.setl_id, o.outcome, o.err_code, o.err_msg, o.answered_at, "
         "o.ms, j.protection, j.encoding")
_BODIES = ", j.request, j.call, o.answer"
_FROM = " FROM journal j LEFT JOIN journal_outcomes o ON o.id = j.id"


def write(conn: SqlConnection, ids: Sequence[int], entries: Sequence[Entry]) -> list[int]:
    """Rows under the ids the store gave them (in the order the gateway wrote them), in one statement."""
    conn.executemany(
        "INSERT INTO journal (id, received_at, fixmedins_code, dialect, transport, msgid, trade, infno, psn_no, "
        "mdtrt_id, setl_id, protection, encoding, request, call) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(entry_id, e.received_at, e.fixmedins_code, e.dialect, e.transport, e.msgid, e.trade, e.infno,
          e.keys.psn_no, e.keys.mdtrt_id, e.keys.setl_id, e.protection, e.encoding, e.request, e.call)
         for entry_id, e in zip(ids, entries, strict=True)],
    )
    return list(ids)


def finish(conn: SqlConnection, endings: Sequence[tuple[int, Ending]]) -> None:
    conn.executemany(
        "INSERT INTO journal_outcomes (id, outcome, err_code, err_msg, answer, answered_at, ms, psn_no, mdtrt_id, "
        "setl_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(entry_id, e.outcome, e.err_code, e.err_msg, e.answer, e.answered_at, e.ms, e.keys.psn_no, e.keys.mdtrt_id,
          e.keys.setl_id) for entry_id, e in endings],
    )


def search(conn: SqlConnection, query: JournalQuery) -> list[JournalRow]:
    clauses: list[str] = []
    values: list[object] = []
    for column, value in (("fixmedins_code", query.hospital), ("msgid", query.msgid)):
        if value:
            clauses.append(f"j.{column} = ?")
            values.append(value)
    for column, value in (("psn_no", query.person), ("mdtrt_id", query.stay), ("setl_id", query.setl)):
        if value:  # named by the call, or by its answer
            clauses.append(f"j.id IN (SELECT id FROM journal WHERE {column} = ? "
                           f"UNION ALL SELECT id FROM journal_outcomes WHERE {column} = ? AND {column} <> '')")
            values += [value, value]
    if query.before:
        clauses.append("j.id < ?")
        values.append(query.before)
    if query.since:
        clauses.append("j.received_at >= ?")
        values.append(query.since)
    if query.until:
        clauses.append("j.received_at < ?")
        values.append(query.until)
    if query.outcome == "unknown":
        clauses.append("o.id IS NULL")
    elif query.outcome:
        clauses.append("o.outcome = ?")
        values.append(query.outcome)
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    columns = _HEAD + (_BODIES if query.raw else "")
    rows = conn.execute(f"SELECT {columns}{_FROM}{where} ORDER BY j.id DESC LIMIT ?", (*values, query.limit))
    return [_row(row) for row in rows]


def window(conn: SqlConnection, since: str, limit: int) -> list[tuple[str, str, str, str, str, float | None]]:
    """(dialect, infno, outcome, err_code, fixmedins_code, ms) of the newest `limit` exchanges received since
    `since`, newest first, for the console's dashboard; outcome 'unknown' when none was committed."""
    rows = conn.execute("SELECT j.dialect, j.infno, coalesce(o.outcome, 'unknown'), coalesce(o.err_code, ''), "
                        f"j.fixmedins_code, o.ms{_FROM} WHERE j.received_at >= ? ORDER BY j.id DESC LIMIT ?",
                        (since, limit))
    return [(str(d), str(i), str(o), str(e), str(h), None if ms is None else float(ms)) for d, i, o, e, h, ms in rows]


def of_msgid(conn: SqlConnection, fixmedins_code: str, msgid: str) -> list[JournalRow]:
    """Every exchange under one hospital's msgid, oldest first (retries included)."""
    rows = conn.execute(f"SELECT {_HEAD}{_FROM} WHERE j.msgid = ? AND j.fixmedins_code = ? ORDER BY j.id",
                        (msgid, fixmedins_code))
    return [_row(row) for row in rows]


def first_ok(conn: SqlConnection, fixmedins_code: str, msgid: str) -> JournalRow | None:
    """The exchange under a msgid that succeeded first (what its replays are filed under)."""
    row = conn.execute(f"SELECT {_HEAD}{_FROM} WHERE j.msgid = ? AND j.fixmedins_code = ? AND o.outcome = 'ok' "
                       "ORDER BY j.id LIMIT 1", (msgid, fixmedins_code)).fetchone()
    return _row(row) if row else None


# Rows no retention may remove: those of settlements whose claim is not yet cleared (申报 → 拨付). Claims do not
# exist yet; when the county package adds them, this query names the setl_ids still open, and `prune` and
# `prunable` keep every exchange filed under one of them (by the call or by its answer).
OPEN_SETTLEMENTS = "SELECT '' WHERE 1 = 0"
_PRUNABLE = ("SELECT id FROM journal WHERE received_at < ? "
             f"AND setl_id NOT IN ({OPEN_SETTLEMENTS}) "
             f"AND id NOT IN (SELECT id FROM journal_outcomes WHERE setl_id IN ({OPEN_SETTLEMENTS}))")


def prunable(conn: SqlConnection, before: str) -> tuple[int, str, str]:
    """How many exchanges `prune` would remove, and the first and last time they were received."""
    count, first, last = conn.execute(
        f"SELECT count(*), min(received_at), max(received_at) FROM journal WHERE id IN ({_PRUNABLE})", (before,)
    ).fetchone()
    return int(count), str(first or ""), str(last or "")


def prune(conn: SqlConnection, before: str, limit: int) -> int:
    """Delete up to `limit` of the oldest exchanges received before `before`, with their outcomes; the caller
    repeats in short transactions so a running gateway is never held up for long."""
    oldest = f"{_PRUNABLE} ORDER BY received_at, id LIMIT ?"
    conn.execute(f"DELETE FROM journal_outcomes WHERE id IN ({oldest})", (before, limit))
    return conn.execute(f"DELETE FROM journal WHERE id IN ({oldest})", (before, limit)).rowcount


def _row(row: tuple[object, ...]) -> JournalRow:
    (entry_id, received_at, hospital, dialect, transport, msgid, trade, infno, psn_no, mdtrt_id, setl_id, o_psn_no,
     o_mdtrt_id, o_setl_id, outcome, err_code, err_msg, answered_at, ms, protection, encoding, *bodies) = row
    request, call, answer = (_bytes(b) for b in bodies) if bodies else (None, None, None)
    keys = Keys(str(psn_no), str(mdtrt_id), str(setl_id)).filled_from(
        Keys(str(o_psn_no or ""), str(o_mdtrt_id or ""), str(o_setl_id or "")))
    return JournalRow(
        id=int(str(entry_id)), received_at=str(received_at), fixmedins_code=str(hospital), dialect=str(dialect),
        transport=str(transport), msgid=str(msgid), trade=str(trade), infno=str(infno), keys=keys,
        outcome=str(outcome) if outcome else "unknown", err_code=str(err_code or ""), err_msg=str(err_msg or ""),
        answered_at=str(answered_at) if answered_at else None, ms=float(str(ms)) if ms is not None else None,
        protection=str(protection), encoding=str(encoding), request=request, call=call, answer=answer,
    )


def _bytes(value: object) -> bytes | None:
    return bytes(value) if isinstance(value, bytes | memoryview) else None
