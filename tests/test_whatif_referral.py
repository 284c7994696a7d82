"""A what-if under the policy in force reproduces a settlement that took year-to-date figures over from a
partner gateway's signed referral record (gateway/referral): the replay starts it from what that settlement
carried in, as the ledger keeps it (referral_carried), not from this gateway's own year-to-date only.

Oracle (DOMAIN.md, person "ordinary", not poor): critical illness is settled on the year's cumulative 合规自付 of
both counties: the partner's 10,000.00 plus this stay's in-policy 20,000.00 − basic paid; annual deductible 15,000,
excess to 50,000 at 60%. Alone (5,000-odd of this gateway's own) it would pay nothing.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from gateway.county.whatif import replay
from gateway.referral.partners import Partner, Partners
from gateway.referral.record import AccumulatorRecord, signed, to_json
from gateway.referral.service import import_record
from tests.support import PERSONS, Journey, Served, ok
from tests.test_referral_two_gateways import critical_due
from tests.test_whatif_reproduces import SINCE, UNTIL, paid

D = Decimal
PARTNER, KEY = "430100", bytes(range(32))


async def test_a_settlement_on_carried_referral_figures_replays_to_the_fen(served: Served) -> None:
    gateway, person = served.gateway, PERSONS["ordinary"]
    partners = Partners("430521", {PARTNER: Partner(PARTNER, "http://127.0.0.1:9", KEY)})
    record = signed(AccumulatorRecord(
        issuer=PARTNER, audience="430521", issued_at="2026-02-01 10:00:00", trt_dcla_detl_sn="R1", refl_stas="1",
        psn_no="P-ELSEWHERE", certno=person.certno, insutype="390", year=2026, reflin_medins_name="省人民医院",
        dise_codg="C34", dise_name="肺恶性肿瘤", begndate="2026-01-05", enddate="2026-01-20",
        cum_cmpl_fee=D("30000.00"), cum_basic_pay=D("20000.00"), cum_crit_pay=D("0.00"),
        cum_crit_base=D("10000.00"), setl_cnt=1, seq=1), KEY)

    def take_in() -> str:
        with gateway.deps.store.transaction():
            return import_record(gateway.deps.store, partners, to_json(record), datetime(2026, 2, 2))[0]

    assert await gateway.run(take_in) == "imported"

    journey = Journey(served.his("T2"), person)
    ok(await journey.admit())
    ok(await journey.upload(journey.line("A", "20000.00")))  # 甲类: all of it in policy
    ok(await journey.discharge())
    answer = ok(await journey.settle("20000.00"))
    funds = paid(answer)
    assert funds["390200"] == critical_due(D("10000.00") + D("20000.00") - funds["390100"]) > 0

    book = gateway.deps.policies
    rows = await gateway.run(lambda: list(gateway.deps.store.replay_rows(SINCE, UNTIL)))
    assert [row.carried is not None for row in rows] == [True]
    result = replay(book.for_date(date(2026, 3, 10)), rows, {}, {p.policy_id: p for p in book.versions},
                    reuse=False)
    assert result["settlements"] == 1
    assert result["largest_changes"] == [] and all(not f["stays_affected"] for f in result["funds"])
    assert result["personal"]["difference"] == "0.00"
