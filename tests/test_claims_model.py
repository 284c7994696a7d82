"""Claims against a model kept by the test: over random months of settlements, reversals, refusals (whole or of
some funds) and explanations, every claim holds exactly the lines the rules say, and what the hospital was paid
for each settlement is what the funds owe for it less what stands refused — nothing for one reversed."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.canonical import calls as c
from gateway.canonical.answers import AdmissionAnswer, ReversalAnswer, SettlementAnswer
from gateway.county import claim_service
from gateway.county.claims import Step
from gateway.county.errors import CountyRefusal
from gateway.county.period import month
from gateway.county.roles import Actor
from tests.support import PERSONS
from tests.test_annex5 import INSURED, ClockedHospital
from tests.test_settlement_properties import lines_strategy, service

LATER = datetime(2027, 1, 5, 9, 0)  # every claimed month has ended
REVIEWER, CONFIRMER, FINANCE = Actor("shenhe1", "reviewer"), Actor("fuhe1", "second_reviewer"), Actor("caiwu1",
                                                                                                      "finance")


class Model:
    """Per settlement: what it owes per fund, what was paid, what is refused, what may be claimed (again)."""

    def __init__(self) -> None:
        self.owed: dict[str, dict[str, Decimal]] = {}
        self.paid: dict[str, dict[str, Decimal]] = {}
        self.refused: dict[str, set[str]] = {}  # refused, not (yet) explained
        self.pending: dict[str, set[str]] = {}  # claimable in the next claim
        self.claimed: set[str] = set()  # had a first line
        self.reversed: set[str] = set()

    def expected_lines(self) -> dict[tuple[str, str], Decimal]:
        lines = {}
        for setl_id, funds in self.pending.items():
            if funds:
                kind = "reclaim" if setl_id in self.claimed else "settlement"
                lines[(setl_id, kind)] = sum((self.owed[setl_id][f] for f in funds), Decimal(0))
        for setl_id in self.reversed:
            if any(self.paid[setl_id].values()):
                lines[(setl_id, "reversal")] = -sum(self.paid[setl_id].values(), Decimal(0))
        return lines


step = st.tuples(st.lists(st.tuples(st.sampled_from(INSURED), lines_strategy), max_size=3),  # new settlements
                 st.lists(st.integers(0, 20), max_size=2),  # settlements to reverse (index into the valid ones)
                 st.lists(st.tuples(st.integers(0, 20), st.booleans()), max_size=3),  # refuse: line, some funds?
                 st.lists(st.integers(0, 20), max_size=2))  # refusals to explain


@settings(max_examples=25, deadline=None)
@given(months=st.lists(step, min_size=1, max_size=5))
def test_every_claim_is_what_the_rules_say_and_nothing_is_paid_twice(
        months: list[tuple[list[tuple[str, list[tuple[str, Decimal]]]], list[int], list[tuple[int, bool]],
                           list[int]]]) -> None:
    with service() as deps:
        store, model, stays, paid_total = deps.store, Model(), {}, Decimal(0)
        hospital = ClockedHospital(deps, "T2")
        for number, (new, reversals, refusals, explanations) in enumerate([*months, ([], [], [], [])], start=1):
            hospital.at = datetime(2026, number, 10, 9, 0)
            for person_key, lines in new:
                person = PERSONS[person_key]
                admitted = hospital(c.Admission(psn_no=person.psn_no, insutype=person.insutype,
                                                begntime=hospital.at))
                assert isinstance(admitted, AdmissionAnswer)
                hospital(c.FeeUpload(admitted.mdtrt_id, person.psn_no, tuple(
                    c.FeeLine(feedetl_sn=str(i), mdtrt_id=admitted.mdtrt_id, psn_no=person.psn_no,
                              med_list_codg=code, cnt=Decimal(1), pric=amount, det_item_fee_sumamt=amount,
                              fee_ocur_time=hospital.at) for i, (code, amount) in enumerate(lines))))
                answer = hospital(c.Settle(mdtrt_id=admitted.mdtrt_id, psn_no=person.psn_no, trial=False))
                assert isinstance(answer, SettlementAnswer)
                owed = {p.fund_pay_type: p.fund_payamt for p in answer.figures.payments
                        if p.fund_pay_type != "630100" and p.fund_payamt}
                stays[answer.setl_id] = (admitted.mdtrt_id, person.psn_no)
                model.owed[answer.setl_id], model.paid[answer.setl_id] = owed, {}
                model.refused[answer.setl_id], model.pending[answer.setl_id] = set(), set(owed)
            hospital.at = datetime(2026, number, 20, 9, 0)
            valid = sorted(s for s in model.owed if s not in model.reversed)
            for index in sorted({i % len(valid) for i in reversals} if valid else set()):
                setl_id = valid[index]
                mdtrt_id, psn_no = stays[setl_id]
                assert isinstance(hospital(c.SettleReverse(setl_id=setl_id, mdtrt_id=mdtrt_id, psn_no=psn_no)),
                                  ReversalAnswer)
                model.reversed.add(setl_id)
                model.pending[setl_id], model.refused[setl_id] = set(), set()
            expected = model.expected_lines()
            try:
                claim = claim_service.submit(store, Actor("jingban1", "operator"), "T2",
                                             month(f"2026-{number:02d}"), "r", LATER)
            except CountyRefusal:
                assert not expected
                continue
            got = {(line["setl_id"], line["kind"]): Decimal(line["amount"]) for line in claim["lines"]}
            assert got == expected
            claim_id = claim["claim_id"]
            positive = [line for line in claim["lines"] if line["kind"] != "reversal"]
            refused_now: dict[int, set[str]] = {}
            for index, some in refusals:
                if not positive:
                    break
                line = positive[index % len(positive)]
                funds = sorted(line["funds"])
                chosen = funds[:1] if some and len(funds) > 1 else funds
                claim_service.decide(store, REVIEWER, claim_id, line["line_no"], {
                    "decision": "refuse", "reason": "R02", "funds": chosen if some else []}, "r", LATER)
                refused_now[line["line_no"]] = set(chosen)
            for done, actor in ((Step.FIRST_REVIEW, REVIEWER), (Step.SECOND_REVIEW, CONFIRMER),
                                (Step.REFUSE, CONFIRMER), (Step.SETTLE, FINANCE)):
                settled = claim_service.step(store, actor, claim_id, done, {"accept_rest": True}, "r", LATER)
            amount = settled["totals"]["accepted"]
            claim_service.step(store, FINANCE, claim_id, Step.PAY, {"paid_on": "2026-12-31", "amount": amount,
                                                                     "reference": f"B{claim_id}"}, "r", LATER)
            paid_total += Decimal(amount)
            for line in claim["lines"]:  # the model follows what was decided
                setl_id, funds = line["setl_id"], set(line["funds"])
                if line["kind"] == "reversal":
                    model.paid[setl_id] = {}
                    continue
                model.claimed.add(setl_id)
                refused = refused_now.get(line["line_no"], set())
                for fund in funds - refused:
                    model.paid[setl_id][fund] = model.owed[setl_id][fund]
                model.refused[setl_id], model.pending[setl_id] = refused, set()
            refused_lines = [line for line in claim["lines"] if line["line_no"] in refused_now]
            for index in explanations:
                if refused_lines:
                    line = refused_lines[index % len(refused_lines)]
                    setl_id = line["setl_id"]
                    claim_service.explain(store, Actor("hospital:T2", "hospital"), claim_id, line["line_no"],
                                          "已补材料", "r", LATER, hospital="T2")
                    if model.refused[setl_id]:  # explained twice: the second answers the first (replayed)
                        model.pending[setl_id], model.refused[setl_id] = model.refused[setl_id], set()
        for setl_id, owed in model.owed.items():
            paid = sum(model.paid[setl_id].values(), Decimal(0))
            if setl_id in model.reversed:
                assert paid == 0
            else:
                assert paid == sum((a for f, a in owed.items() if f not in model.refused[setl_id]
                                    and f not in model.pending[setl_id]), Decimal(0))
        assert paid_total == sum((sum(p.values(), Decimal(0)) for p in model.paid.values()), Decimal(0))
        out = sum((e.amount for e in store.account_entries(date(2027, 1, 1)) if e.kind == "payment"), Decimal(0))
        assert out == paid_total
