"""What-if before publishing: replay a period's real settlements under a draft, read-only. Pure.

Each settlement is settled again with the draft on the facts the real one saw (scheme, level, in county, the
attributes it used, its visit kind and catalogue exception as recorded with it, its fee totals), in the order
they were made, with the draft's own year-to-date per person and year starting from what the ledger really held
at the period's start (the settlements of the same year made before it count with their own figures).

The chain is a pure function of the rules that match a stay, its facts and the year-to-date. So a settlement
whose matching rules are the same under the draft as under the version it was settled with, and whose
person-year has not diverged yet, has the draft's figures already: its own. Only the others are settled again
— exact, and what makes a year of a county take seconds when a draft changes a part of the policy.

A settlement reversed since is replayed too (those made while it stood saw it in their year-to-date) and taken
out again where its reversal was made; it is no cost of the period.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from gateway.county.records import ReplayRow
from gateway.engine.chain import matching_rules, settle
from gateway.engine.fees import FeeTotals
from gateway.engine.policy import Fund, Policy, Rule
from gateway.engine.types import SettledElsewhere, StayFacts
from gateway.money import ZERO
from gateway.referral.merge import with_imports

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


Signature = tuple[object, ...]


Kind = tuple[str, frozenset[str], bool, str, bool]  # insutype, attributes, in county, visit, catalogue exception


def _kind(row: ReplayRow) -> Kind:
    """What chooses a settlement's rules: the facts the real settlement matched the policy on."""
    return row.insutype, row.attributes, row.in_county, row.visit, row.catalogue_exception


def _signature(policy: Policy, kind: Kind) -> Signature:
    """Everything of a policy the chain looks at for such a stay."""
    insutype, attributes, in_county, visit, exception = kind
    matching = []
    for fund in policy.funds:
        rule = fund.rule_for(insutype, attributes, in_county, visit, exception)
        if rule is not None:
            matching.append((fund.code, fund.name, fund.kind, fund.setlinfo_field, fund.counts_as_fund, rule))
    return policy.referral_selfpay_ratio, tuple(matching)


def replay(draft: Policy, rows: Iterable[ReplayRow], names: dict[str, str],
           used: Mapping[str, Policy], *, reuse: bool = True) -> dict[str, Any]:
    """Per fund the cost difference and the persons and stays affected, and the ten largest changes.
    `used`: the versions the settlements name, by policy_id. `reuse=False` settles every one again, even those
    whose figures are known to be their own (what shows the replay reproduces the ledger)."""
    funds: dict[str, _Fund] = {}
    ytd: dict[tuple[str, int], dict[str, Decimal]] = {}
    diverged: set[tuple[str, int]] = set()
    same_rules: dict[tuple[str, Kind], bool] = {}
    draft_rules: dict[Kind, list[tuple[Fund, Rule]]] = {}
    top: list[tuple[Decimal, int, Change]] = []
    count = 0
    personal_actual = personal_draft = ZERO
    # a settlement of the period reversed since -> what it added to the draft's year-to-date (one reversed before
    # the period added its own figures, which its reversal row carries)
    replayed: dict[str, Mapping[str, Decimal]] = {}
    for row in rows:
        person_year = (row.psn_no, row.year)
        year = ytd.setdefault(person_year, {})
        if row.reverses:  # takes out what the settlement it undoes added: its real figures, or its replayed ones
            for name, amount in replayed.pop(row.reverses, row.deltas).items():
                year[name] = year.get(name, ZERO) - amount
            continue
        if row.context:
            for name, amount in row.deltas.items():
                year[name] = year.get(name, ZERO) + amount
            continue
        kind = _kind(row)
        same = same_rules.get((row.policy_id, kind))
        if same is None:
            settled_under = used.get(row.policy_id)
            same = same_rules[(row.policy_id, kind)] = settled_under is not None and (
                _signature(settled_under, kind) == _signature(draft, kind))
        if reuse and same and person_year not in diverged:
            now, deltas, personal = dict(row.paid), row.deltas, row.psn_part
        else:
            facts = StayFacts(insutype=row.insutype, hosp_lv=row.hosp_lv, in_county=row.in_county,
                              attributes=row.attributes, totals=FeeTotals(*row.totals), on=row.on, visit=row.visit,
                              catalogue_exception=row.catalogue_exception)
            rules = draft_rules.get(kind)
            if rules is None:
                rules = draft_rules[kind] = matching_rules(draft, facts)
            prepaid = SettledElsewhere(row.elsewhere, row.elsewhere_dedc) if row.elsewhere else None
            # a referral settlement started from what partners' records carried in, as stored with it
            start = year if row.carried is None else with_imports(draft, facts, row.carried, year)
            result = settle(draft, facts, start, explain=False, matching=rules, elsewhere=prepaid)
            now = {p.fund_pay_type: p.fund_payamt for p in result.payments}
            deltas, personal = result.deltas, result.psn_part_amt
            if deltas != row.deltas:
                diverged.add(person_year)
        for name, amount in deltas.items():
            year[name] = year.get(name, ZERO) + amount
        if row.reversed:  # it stood for those made after it, and is no cost of the period
            replayed[row.setl_id] = deltas
            continue
        count += 1
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
        personal_draft += personal
        if size:
            change = Change(row.setl_id, row.psn_no, {**row.paid, "psn_part": row.psn_part},
                            {**now, "psn_part": personal}, size)
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
