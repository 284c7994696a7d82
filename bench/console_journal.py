"""The console's journal search on a million rows: one page (50) newest first and one deep page (keyset,
`before` half-way down), per filter, with and without the hospital index (migration 0009) as the baseline
("rare hosp": a hospital with one row in 20,000, where a walk down the primary key reads nearly everything).

    .venv/bin/python -m bench.console_journal [--rows 1000000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from gateway.journal.model import JournalQuery
from gateway.store.factory import open_store
from gateway.store.sqlite import SqlStore

HOSPITALS = tuple(f"H{n:03d}" for n in range(40))


def fill(store: SqlStore, count: int) -> None:
    conn = store._conn
    step = 100_000
    for start in range(1, count + 1, step):
        ids = range(start, min(count, start + step - 1) + 1)
        with store.transaction(fsync=False):
            conn.executemany(
                "INSERT INTO journal (id, received_at, fixmedins_code, dialect, transport, msgid, trade, infno, "
                "psn_no, mdtrt_id, setl_id, protection, encoding, request, call) "
                "VALUES (?, ?, ?, 'nhsa-http', 'http', ?, '2304', '2304', ?, ?, ?, 'mask', 'utf-8', x'7b7d', x'7b7d')",
                [(n, f"2026-{1 + n * 12 // (count + 1):02d}-15 10:00:00.000",
                  "RARE" if n % 20_000 == 0 else HOSPITALS[(n * 7919) % 40],
                  f"M{n:09d}", f"P{n % 100_000}", f"S{n % 300_000}", f"T{n}" if n % 5 == 0 else "") for n in ids])
            conn.executemany("INSERT INTO journal_outcomes (id, outcome, err_code, err_msg, answer, answered_at, ms, "
                             "psn_no, mdtrt_id, setl_id) VALUES (?, 'ok', '', '', x'', '', 1.0, '', '', '')",
                             [(n,) for n in ids if n % 1000])
        print(f"  {ids[-1]:,} rows", flush=True)


def timed(store: SqlStore, query: JournalQuery, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        store.journal_search(query)
        best = min(best, time.perf_counter() - started)
    return best * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(Path(folder) / "hisgw.sqlite", create=True)
        print(f"filling {args.rows:,} journal rows…", flush=True)
        fill(store, args.rows)
        store._conn.execute("ANALYZE")
        half = args.rows // 2
        cases = {"newest": {}, "hospital": {"hospital": "H007"}, "rare hosp": {"hospital": "RARE"},
                 "person": {"person": "P4242"},
                 "stay": {"stay": "S4242"}, "msgid": {"msgid": f"M{half:09d}"}, "unknown": {"outcome": "unknown"},
                 "month": {"since": "2026-06-01 00:00:00", "until": "2026-07-01 00:00:00"}}
        results: dict[str, list[float]] = {}
        for label in ("with 0009", "without 0009"):
            if label == "without 0009":
                store._conn.execute("DROP INDEX journal_by_hospital")
            for name, params in cases.items():
                first = timed(store, JournalQuery(**params, limit=51))  # type: ignore[arg-type]
                deep = timed(store, JournalQuery(**params, limit=51, before=half))  # type: ignore[arg-type]
                results.setdefault(name, []).extend([first, deep])
        print(f"{'filter':<10} {'page 1 ms':>10} {'deep ms':>10} {'page 1 w/o':>11} {'deep w/o':>10}")
        for name, (first, deep, first_without, deep_without) in results.items():
            print(f"{name:<10} {first:>10.2f} {deep:>10.2f} {first_without:>11.2f} {deep_without:>10.2f}")
        store.close()


if __name__ == "__main__":
    main()
