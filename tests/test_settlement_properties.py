"""Properties of every settlement, through the real service and a real SQLite file (no HTTP, for speed)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.canonical import calls as c
from gateway.canonical.answers import AdmissionAnswer, Answer, ReversalAnswer, SettlementAnswer
from gateway.engine.policy import PolicyBook, default_policy_path
from gateway.money import ZERO
from gateway.service.deps import Deps
from gateway.service.dispatch import handle
from gateway.service.refdata import import_rows
from gateway.store.sqlite import SqliteStore
from tests.support import CATALOGUE, HOSPITALS, PERSONS, person_rows

AT = datetime(2026, 6, 1, 10, 0)
INSURED = [key for key, p in PERSONS.items() if not p.uninsured_reason]


@contextmanager
def service() -> Iterator[Deps]:
    with tempfile.TemporaryDirectory() as folder:
        store = SqliteStore(Path(folder) / "hisgw.sqlite")
        for kind, rows in (("hospitals", HOSPITALS), ("catalogue", CATALOGUE), ("persons", person_rows())):
            import_rows(store, kind, rows)
        try:
            yield Deps(store=store, policies=PolicyBook.load([default_policy_path()]), now=lambda: AT)
        finally:
            store.close()


class Hospital:
    def __init__(self, deps: Deps, code: str) -> None:
        self.deps = deps
        self.code = code
        self.serial = 0

    def __call__(self, body: c.Transaction) -> Answer:
        self.serial += 1
        ctx = c.CallContext(msgid=f"{self.code}-{self.serial}", infno="", fixmedins_code=self.code, inf_time=AT)
        with self.deps.store.transaction():
            return handle(self.deps, c.Call(ctx, body))


amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("120000"), places=2)
lines_strategy = st.lists(st.tuples(st.sampled_from(["A", "B10", "B20", "C"]), amounts), min_size=1, max_size=6)


def admit_and_upload(call: Hospital, psn_no: str, insutype: str, lines: list[tuple[str, Decimal]]) -> str:
    admitted = call(c.Admission(psn_no=psn_no, insutype=insutype, begntime=AT))
    assert isinstance(admitted, AdmissionAnswer)
    fee_lines = tuple(
        c.FeeLine(feedetl_sn=str(i), mdtrt_id=admitted.mdtrt_id, psn_no=psn_no, med_list_codg=code, cnt=Decimal(1),
                  pric=amount, det_item_fee_sumamt=amount, fee_ocur_time=AT)
        for i, (code, amount) in enumerate(lines)
    )
    call(c.FeeUpload(admitted.mdtrt_id, psn_no, fee_lines))
    return admitted.mdtrt_id


def settle(call: Hospital, mdtrt_id: str, psn_no: str, trial: bool) -> SettlementAnswer:
    answer = call(c.Settle(mdtrt_id=mdtrt_id, psn_no=psn_no, trial=trial))
    assert isinstance(answer, SettlementAnswer)
    return answer


@settings(max_examples=60, deadline=None)
@given(stays=st.lists(st.tuples(st.sampled_from(INSURED), st.sampled_from(["T1", "T2", "T3", "TX"]), lines_strategy),
                      min_size=1, max_size=4),
       reverse_index=st.integers(min_value=0, max_value=3))
def test_every_settlement_keeps_the_identities(stays: list[tuple[str, str, list[tuple[str, Decimal]]]],
                                               reverse_index: int) -> None:
    with service() as deps:
        settled: list[tuple[Hospital, str, str, SettlementAnswer]] = []
        for person_key, hospital, lines in stays:
            person = PERSONS[person_key]
            call = Hospital(deps, hospital)
            mdtrt_id = admit_and_upload(call, person.psn_no, person.insutype, lines)
            trial = settle(call, mdtrt_id, person.psn_no, trial=True)
            real = settle(call, mdtrt_id, person.psn_no, trial=False)
            f = real.figures
            t = f.totals
            assert t.medfee_sumamt == sum((amount for _code, amount in lines), ZERO)
            assert t.inscp_scp_amt == t.medfee_sumamt - t.fulamt_ownpay_amt - t.overlmt_selfpay - t.preselfpay_amt
            assert t.medfee_sumamt == f.fund_pay_sumamt + f.psn_part_amt + f.hosp_part_amt
            amounts_seen = [f.fund_pay_sumamt, f.psn_part_amt, f.hosp_part_amt, f.act_pay_dedc,
                            f.pool_prop_selfpay, *(p.fund_payamt for p in f.payments)]
            assert all(a >= 0 and a == a.quantize(Decimal("0.01")) for a in amounts_seen)
            assert trial.figures == real.figures  # 2303 equals the 2304 that follows
            settled.append((call, mdtrt_id, person.psn_no, real))

        # Reverse one settlement, then settle the same stay again: the same figures, the same year-to-date.
        index = reverse_index % len(settled)
        call, mdtrt_id, psn_no, original = settled[index]
        ytd_before = deps.store.year_to_date(psn_no, original.year)
        reversal = call(c.SettleReverse(setl_id=original.setl_id, mdtrt_id=mdtrt_id, psn_no=psn_no))
        assert isinstance(reversal, ReversalAnswer)
        ytd_without = deps.store.year_to_date(psn_no, original.year)
        for key, delta in original.figures.deltas.items():
            assert ytd_without.get(key, ZERO) == ytd_before.get(key, ZERO) - delta
        if all(later[2] != psn_no for later in settled[index + 1:]):
            # Nothing settled later for this person: re-settling must reproduce the original exactly.
            again = settle(call, mdtrt_id, psn_no, trial=False)
            assert again.figures == original.figures
            assert deps.store.year_to_date(psn_no, original.year) == ytd_before
