"""What-if before publishing: replay a period's real settlements under a draft, read-only. Pure.

Each settlement is settled again with the draft on the facts the real one saw (scheme, level, in county, the
attributes it used, its fee totals), in the order they were made, with the draft's own year-to-date per
person and year starting at the period's start (a period that begins on 1 January replays whole years).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from gateway.county.records import ReplayRow
from gateway.engine.chain import settle
from gateway.engine.fees import FeeTotals
from gateway.engine.policy import Policy
from gateway.engine.types import StayFacts
from gateway.money import ZERO

TOP = 10


@dataclass(slots=True)
class _Fund:
    name: str
    actual: Decimal = ZERO
    draft: Decimal = ZERO
    stays: int = 0
    persons: set[str] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class Change:
    setl_id: str
    psn_no: str
    actual: dict[str, Decimal]  # fund code -> amount, and "psn_part"
    draft: dict[str, Decimal]
    size: Decimal  # Σ |draft − actual| over the funds


def replay(draft: Policy, rows: Iterable[ReplayRow], names: dict[str, str]) -> dict[str, Any]:
    """Per fund the cost difference and the persons and stays affected, and the ten largest changes."""
    funds: dict[str, _Fund] = {}
    ytd: dict[tuple[str, int], dict[str, Decimal]] = {}
    top: list[tuple[Decimal, int, Change]] = []
    count = 0
    personal_actual = personal_draft = ZERO
    for row in rows:
        count += 1
        year = ytd.setdefault((row.psn_no, row.year), {})
        facts = StayFacts(insutype=row.insutype, hosp_lv=row.hosp_lv, in_county=row.in_county,
                          attributes=row.attributes, totals=FeeTotals(*row.totals), on=row.on)
        result = settle(draft, facts, year)
        for key, amount in result.deltas.items():
            year[key] = year.get(key, ZERO) + amount
        now = {p.fund_pay_type: p.fund_payamt for p in result.payments}
        size = ZERO
        for code in {*now, *row.paid}:
            before, after = row.paid.get(code, ZERO), now.get(code, ZERO)
            fund = funds.get(code)
            if fund is None:
                fund = funds[code] = _Fund(names.get(code, code))
            fund.actual += before
            fund.draft += after
            if before != after:
                fund.stays += 1
                fund.persons.add(row.psn_no)
                size += abs(after - before)
        personal_actual += row.psn_part
        personal_draft += result.psn_part_amt
        if size:
            change = Change(row.setl_id, row.psn_no, {**row.paid, "psn_part": row.psn_part},
                            {**now, "psn_part": result.psn_part_amt}, size)
            entry = (size, -count, change)
            if len(top) < TOP:
                heapq.heappush(top, entry)
            elif entry > top[0]:
                heapq.heapreplace(top, entry)
    order = [f.code for f in draft.funds]
    codes = sorted(funds, key=lambda c: (order.index(c) if c in order else len(order), c))
    return {
        "settlements": count,
        "funds": [{"fund_pay_type": code, "name": funds[code].name, "actual": str(funds[code].actual),
                   "draft": str(funds[code].draft), "difference": str(funds[code].draft - funds[code].actual),
                   "stays_affected": funds[code].stays, "persons_affected": len(funds[code].persons)}
                  for code in codes],
        "personal": {"actual": str(personal_actual), "draft": str(personal_draft),
                     "difference": str(personal_draft - personal_actual)},
        "largest_changes": [{"setl_id": c.setl_id, "psn_no": c.psn_no, "size": str(c.size),
                             "actual": {k: str(v) for k, v in c.actual.items()},
                             "draft": {k: str(v) for k, v in c.draft.items()}}
                            for _, _, c in sorted(top, reverse=True)],
    }
