"""The console's journal search and dashboard figures over a real SQLite store: keyset paging returns every
row once, newest first, under each filter; each filter reads an index (EXPLAIN QUERY PLAN), so a page stays
quick on a million rows (figures: README, The web console); percentiles are nearest-rank."""

from __future__ import annotations

import math
import random
from pathlib import Path

from gateway.console.dashboard import advice, figures, percentile
from gateway.journal.model import JournalQuery, parse_query
from gateway.store.sqlite import SqliteStore

HOSPITALS = ("H1", "H2", "H3")


def _fill(store: SqliteStore, count: int) -> None:
    rows = []
    for n in range(1, count + 1):
        rows.append((n, f"2026-03-{1 + n % 28:02d} 10:00:00.000", HOSPITALS[n % 3], "nhsa-http", "http",
                     f"M{n:08d}", "2304", "2304", f"P{n % 50}", f"S{n % 200}", "", "mask", "utf-8", b"{}", b"{}"))
    conn = store._conn
    with store.transaction():
        conn.executemany("INSERT INTO journal (id, received_at, fixmedins_code, dialect, transport, msgid, trade, "
                         "infno, psn_no, mdtrt_id, setl_id, protection, encoding, request, call) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        conn.executemany("INSERT INTO journal_outcomes (id, outcome, err_code, err_msg, answer, answered_at, ms, "
                         "psn_no, mdtrt_id, setl_id) VALUES (?, ?, ?, '', x'', '', 1.0, '', '', '')",
                         [(n, "error" if n % 7 == 0 else "ok", "HG3004" if n % 7 == 0 else "")
                          for n in range(1, count + 1) if n % 11])  # every 11th: no outcome (unknown)


def _walk(store: SqliteStore, params: dict[str, str], page: int = 37) -> list[int]:
    seen: list[int] = []
    before = ""
    while True:
        query = parse_query({**params, "limit": str(page), **({"before": before} if before else {})})
        rows = store.journal_search(query)
        seen += [row.id for row in rows]
        if len(rows) < page:
            return seen
        before = str(rows[-1].id)


def test_keyset_paging_returns_every_row_once_newest_first(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "hisgw.sqlite")
    try:
        _fill(store, 3000)
        everything = list(range(3000, 0, -1))
        assert _walk(store, {}) == everything
        assert _walk(store, {"hospital": "H2"}) == [n for n in everything if n % 3 == 1]  # HOSPITALS[n % 3]
        assert _walk(store, {"person": "P7"}) == [n for n in everything if n % 50 == 7]
        assert _walk(store, {"outcome": "unknown"}) == [n for n in everything if n % 11 == 0]
        assert _walk(store, {"outcome": "error", "hospital": "H1"}) == [
            n for n in everything if n % 7 == 0 and n % 11 and n % 3 == 0]
    finally:
        store.close()


def test_each_filter_reads_an_index(tmp_path: Path) -> None:
    """No filter walks the table sorting it: the newest page comes from an index, whatever is asked."""
    store = SqliteStore(tmp_path / "hisgw.sqlite")
    try:
        _fill(store, 500)
        store._conn.execute("ANALYZE")
        cases = {"hospital": "journal_by_hospital", "msgid": "journal_by_msgid", "person": "journal_by_person",
                 "stay": "journal_by_stay"}
        for name, index in cases.items():
            plan = _plan(store, JournalQuery(**{name: "H1" if name == "hospital" else "x"}, before=100, limit=50))
            assert index in plan, (name, plan)
        assert "USE TEMP B-TREE" not in _plan(store, JournalQuery(hospital="H1", before=100, limit=50))
        newest = _plan(store, JournalQuery(before=100, limit=50))  # no filter: the primary key, from `before` down
        assert "INTEGER PRIMARY KEY" in newest and "TEMP B-TREE" not in newest, newest
    finally:
        store.close()


def _plan(store: SqliteStore, query: JournalQuery) -> str:
    from gateway.store import journal_sql

    captured: list[str] = []
    conn = store._conn
    conn.set_trace_callback(captured.append)
    try:
        journal_sql.search(conn, query)
    finally:
        conn.set_trace_callback(None)
    sql = captured[-1]
    return " | ".join(str(row[-1]) for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}"))


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 201)]
    random.Random(3).shuffle(values)
    # nearest rank: the ⌈p·n⌉-th smallest; 200 values 1..200 → p50 = 100, p99 = 198
    assert percentile(values, 0.50) == 100.0
    assert percentile(values, 0.99) == 198.0
    assert percentile([5.0], 0.99) == 5.0
    assert percentile([], 0.5) is None
    rows = [("nhsa-http", "2304", "ok", "", "H1", float(n)) for n in range(1, 101)]
    rows += [("nhsa-http", "2304", "error", "HG3004", "H1", 1.0)] * 3 + [("hl7v2", "2401", "unknown", "", "H1", None)]
    by = {(f.dialect, f.infno): f for f in figures(rows)}
    settle = by[("nhsa-http", "2304")]
    assert settle.calls == 103 and settle.errors == {"HG3004": 3} and settle.unknown == 0
    ms = sorted([float(n) for n in range(1, 101)] + [1.0] * 3)
    assert settle.p50 == ms[math.ceil(0.5 * 103) - 1] and settle.p99 == ms[math.ceil(0.99 * 103) - 1]
    admission = by[("hl7v2", "2401")]
    assert admission.unknown == 1 and admission.p50 is None
    assert "5999" in advice("2304") and "msgid" in advice("9999")


def test_logins_are_throttled_per_account_and_the_tracking_is_bounded() -> None:
    from gateway.console import throttle as module
    from gateway.console.throttle import LoginThrottle

    now = [1000.0]
    gate = LoginThrottle(lambda: now[0])
    for _ in range(module.MAX_FAILURES - 1):
        gate.failed("console")
    assert not gate.locked("console")
    gate.failed("console")
    assert gate.locked("console") and not gate.locked("other")
    now[0] += module.WINDOW - 1
    assert gate.locked("console")
    now[0] += 2  # the window has passed since every failure
    assert not gate.locked("console")
    gate.failed("console")
    gate.succeeded("console")
    assert not gate.locked("console")
    for n in range(module.MAX_ACCOUNTS + 50):
        gate.failed(f"guess{n}")
    assert len(gate._failures) == module.MAX_ACCOUNTS
