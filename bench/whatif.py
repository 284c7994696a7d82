"""What-if over a county's year: replay 100,000 real settlements under a draft policy (issue 14).

    .venv/bin/python -m bench.whatif [--settlements 100000] [--db var/bench-whatif.sqlite]

The ledger is made once through the real service (bench/prepare.py; a few minutes) and kept for later runs.
Prints one row per draft: settlements replayed (and changed), seconds (best of three, wall and CPU), settlements
per second; writes var/bench-whatif.json.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import date, datetime
from pathlib import Path

from bench.prepare import prepare_stays
from gateway.county import policy_service
from gateway.county.roles import Actor
from gateway.engine.policy import PolicyBook, default_policy_path
from gateway.store.factory import open_store

# Two drafts: the poor's basic ratios (nine of the ten demo persons are poor: nearly every stay changes), and
# 特困's assistance (two of them hold 0004: the other stays keep their own figures and are not settled again).
DRAFTS = {
    "poor basic ratio": ("ratio = { 1 = 0.95, 2 = 0.85, 3 = 0.70 }", "ratio = { 1 = 0.95, 2 = 0.90, 3 = 0.75 }"),
    "特困 assistance": ("ratio = 1.00\n", "ratio = 0.95\n"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--settlements", type=int, default=100_000)
    parser.add_argument("--db", type=Path, default=Path("var/bench-whatif.sqlite"))
    args = parser.parse_args()
    db: Path = args.db
    if not db.exists():
        started = time.perf_counter()
        prepare_stays(db, args.settlements, 3, settle=True)
        print(f"prepared {args.settlements} settlements in {time.perf_counter() - started:.0f} s")
    store = open_store(db, create=True)
    report: dict[str, object] = {}
    try:
        current = PolicyBook.load([default_policy_path()])
        for label, change in DRAFTS.items():
            text = default_policy_path().read_text(encoding="utf-8").replace(*change)
            draft = policy_service.upload_draft(store, Actor("bench", "operator"), text, "bench", datetime.now())
            timings, cpu = [], []
            result: dict[str, object] = {}
            for _ in range(3):
                started, began = time.perf_counter(), time.process_time()
                result = policy_service.what_if(store, current, str(draft["version"]), date(2026, 1, 1),
                                                date(2026, 12, 31))
                timings.append(time.perf_counter() - started)
                cpu.append(time.process_time() - began)
            count = int(str(result["settlements"]))
            affected = max(int(str(f["stays_affected"])) for f in result["funds"])  # type: ignore[attr-defined]
            best = min(timings)
            print(f"what-if, {label:<18} {count:>8} settlements ({affected} changed) {best:>7.2f} s "
                  f"(cpu {min(cpu):.2f} s) {count / best:>9.0f}/s")
            report[label] = {"settlements": count, "changed": affected, "seconds": timings, "cpu_seconds": cpu}
    finally:
        store.close()
    Path("var").mkdir(exist_ok=True)
    Path("var/bench-whatif.json").write_text(json.dumps(report, ensure_ascii=False, indent=1))

if __name__ == "__main__":
    main()
