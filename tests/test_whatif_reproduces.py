"""A what-if under the policy in force reproduces every settlement of the period to the fen, whatever chose its
rules: settlements made through the real service (inpatient in and out of county, of the poor, of several
identities, of an employee, a second stay of the same person in the year, three at the agency window), one with
an approved exception to the 90% catalogue rule, one whose exception was approved only after it was settled, a
chronic-disease visit whose recognition the agency cancelled afterwards, and an ordinary visit after that.

Oracle: each settlement's own figures as its 2304/2207 answer gave them (the ledger), and the exception stay's
worked out in tests/test_catalogue_exception.py. The replay is asked to settle every one again (the shortcut that
keeps a settlement's own figures when its rules did not change would hide a wrong recomputation); over HTTP, a
draft identical to the version in force changes nothing either.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from gateway.county.whatif import replay
from gateway.engine.policy import default_policy_path
from tests.support import PERSONS, Journey, Served, ok
from tests.test_agency import STAY_A, STAY_A2, STAY_B
from tests.test_catalogue_exception import WITH
from tests.test_correction import correct
from tests.test_outpatient import recognise, worked_visit

D = Decimal
SINCE, UNTIL = datetime(2026, 1, 1), datetime(2027, 1, 1)


def paid(output: dict[str, Any]) -> dict[str, Decimal]:
    return {row["fund_pay_type"]: D(str(row["fund_payamt"])) for row in output["setldetail"] if row["fund_payamt"]}


async def county(served: Served, method: str, path: str, who: str, status: int = 200, **kwargs: Any) -> Any:
    headers = {"X-Operator": who, "X-Request-Id": uuid.uuid4().hex}
    async with served.session.request(method, f"{served.url}/county/v1/{path}", headers=headers,
                                      **kwargs) as response:
        document = await response.json()
        assert response.status == status, document
        return document


async def stay(served: Served, person: str, hospital: str, lines: list[tuple[str, str]], *,
               exception: str = "") -> dict[str, Any]:
    """One inpatient stay settled through 2304; `exception`: "before" approved before settling, "after" after."""
    journey = Journey(served.his(hospital), PERSONS[person])
    ok(await journey.admit())
    ok(await journey.upload(*(journey.line(code, amount) for code, amount in lines)))
    ok(await journey.discharge())
    total = str(sum((D(amount) for _, amount in lines), D(0)))
    if exception:
        await county(served, "POST", "catalogue-exceptions", "jingban1", 201,
                     json={"mdtrt_id": journey.mdtrt_id, "reason": "抢救用自费药"})
    if exception == "before":
        await county(served, "POST", f"catalogue-exceptions/{journey.mdtrt_id}/approve", "shenhe1")
    answer = ok(await journey.settle(total))
    if exception == "after":
        await county(served, "POST", f"catalogue-exceptions/{journey.mdtrt_id}/approve", "shenhe1")
    return answer


async def settle_everything(served: Served) -> dict[str, dict[str, Decimal]]:
    """setl_id -> what each fund paid, as the service answered."""
    worked = [("A", "14500.00"), ("B10", "4000.00"), ("C", "1500.00")]
    excess = [("A", "14500.00"), ("B10", "4000.00"), ("C", "3500.00")]
    answers = [
        await stay(served, "poor", "T2", worked),
        await stay(served, "poor2", "T2", excess, exception="before"),
        await stay(served, "poor_tekun", "T2", excess, exception="after"),
        await stay(served, "poor_elsewhere", "T2", worked),  # insured elsewhere: out of county
        await stay(served, "poor", "TX", excess),  # out of county, and the person's second stay of the year
        await stay(served, "ordinary", "T1", worked),
        await stay(served, "rural_dibao", "T3", excess),
        await stay(served, "employee", "T2", worked),
    ]
    assert paid(answers[1]) == WITH
    for entry in (STAY_A, STAY_A2, STAY_B):  # the agency window: basic settled elsewhere, or nothing settled yet
        answers.append(await county(served, "POST", "agency/settlements", "jingban1", json=entry))
    assert paid(answers[-3])["390100"] == D(STAY_A["hifp_pay"])  # basic as paid elsewhere

    person = PERSONS["poor3"]
    recog_id = ok(await recognise(served, person))["result"]["trt_dcla_detl_sn"]
    chronic = await worked_visit(served, person)
    answers.append(ok(await chronic.settle("600.00")))
    assert paid(answers[-1])["640100"] == D("181.00")  # the backstop of a recognised chronic visit
    await county(served, "POST", f"chronic/recognitions/{recog_id}/cancel", "shenhe1", json={"reason": "复核不符"})
    ordinary = await worked_visit(served, person)
    answers.append(ok(await ordinary.settle("600.00")))
    assert paid(answers[-1]) == {"390100": D("230.00")}
    return {answer["setlinfo"]["setl_id"]: paid(answer) for answer in answers}


async def test_replaying_under_the_policy_in_force_reproduces_every_settlement(served: Served) -> None:
    settled = await settle_everything(served)
    gateway = served.gateway
    book = gateway.deps.policies
    in_force = book.for_date(date(2026, 3, 10))
    rows = await gateway.run(lambda: list(gateway.deps.store.replay_rows(SINCE, UNTIL)))
    # the ledger the replay reads is what the service answered, settlement by settlement
    # (the answer lists the funds that paid; the ledger also those that applied and paid nothing)
    assert {row.setl_id: {c: a for c, a in row.paid.items() if a} for row in rows} == settled

    result = replay(in_force, rows, {}, {p.policy_id: p for p in book.versions}, reuse=False)
    assert result["settlements"] == len(settled)
    changed = {f["fund_pay_type"]: (f["actual"], f["draft"]) for f in result["funds"] if f["stays_affected"]}
    assert changed == {}, result["largest_changes"]
    assert result["personal"]["difference"] == "0.00" and result["largest_changes"] == []
    for fund in result["funds"]:  # and the totals are the ledger's
        assert D(fund["actual"]) == sum((p.get(fund["fund_pay_type"], D(0)) for p in settled.values()), D(0))

    # over HTTP: the same policy uploaded as a draft changes nothing
    draft = (await county(served, "POST", "policies", "jingban1", 201,
                          data=default_policy_path().read_bytes()))["version"]
    whatif = await county(served, "POST", f"policies/{draft}/whatif", "caiwu1",
                          json={"since": "2026-01-01", "until": "2026-12-31"})
    assert whatif["settlements"] == len(settled)
    assert {f["difference"] for f in whatif["funds"]} == {"0.00"} and whatif["largest_changes"] == []


async def test_a_settlement_reversed_later_still_counts_for_the_year_to_date_of_those_it_preceded(
        served: Served) -> None:
    """Three worked-example stays of one poor person (compliant self-pay 2,927.50 each: 大病's 7,500 annual
    deductible is passed by the third, 3 × 2,927.50 = 8,782.50), then the first reversed. The third was settled
    on a year-to-date holding the first: replayed, it must be too (the reversal takes the first out after it)."""
    worked = [("A", "14500.00"), ("B10", "4000.00"), ("C", "1500.00")]
    first = await stay(served, "poor", "T2", worked)
    second = await stay(served, "poor", "T2", worked)
    third = await stay(served, "poor", "T2", worked)
    assert "390200" not in paid(second) and paid(third)["390200"] > 0
    journey = Journey(served.his("T2"), PERSONS["poor"])
    journey.mdtrt_id = first["setlinfo"]["mdtrt_id"]
    ok(await journey.reverse(first["setlinfo"]["setl_id"]))
    # a fourth reversed and the reversal undone by 2601 (the fourth stands again), then a fifth made on it
    fourth = await stay(served, "poor", "T2", worked)
    journey.mdtrt_id = fourth["setlinfo"]["mdtrt_id"]
    undone = journey.his.new_msgid()
    ok(await journey.reverse(fourth["setlinfo"]["setl_id"], msgid=undone))
    ok(await correct(journey.his, undone, "2305"))
    await stay(served, "poor", "T2", worked)
    gateway = served.gateway
    book = gateway.deps.policies
    rows = await gateway.run(lambda: list(gateway.deps.store.replay_rows(SINCE, UNTIL)))
    result = replay(book.for_date(date(2026, 3, 10)), rows, {}, {p.policy_id: p for p in book.versions},
                    reuse=False)
    assert result["settlements"] == 4  # the reversed one is not a cost of the period
    assert result["largest_changes"] == [] and all(not f["stays_affected"] for f in result["funds"])
    totals = {f["fund_pay_type"]: D(f["actual"]) for f in result["funds"]}
    assert totals["390100"] == 4 * paid(second)["390100"]
