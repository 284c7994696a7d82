"""The exception to Guangxi's 90% catalogue rule: a hospital asks, the county's reviewer approves (audited), and the
stay's 全自费 beyond 10% of the total goes to the fiscal backstop (640100) instead of the hospital (630100).

Worked example — 0001, level-2 county hospital, in county: 甲 14,500.00; 乙 4,000.00 at selfpay_prop 0.10;
丙 3,500.00. total 22,000.00; 全自费 3,500.00; 先行自付 400.00; in-policy 18,100.00
  basic (18,100 − 250) × 85% = 15,172.50; compliant 2,927.50 < 7,500 → 大病 0
  特惠保 50% × 2,927.50 = 1,463.75; assistance 80% × 1,463.75 = 1,171.00
  personal so far 22,000 − 15,172.50 − 1,463.75 − 1,171.00 = 4,192.75; 10% of the total = 2,200.00
Without the exception: hospital reduction max(0, 3,500 − 2,200) = 1,300.00; backstop 4,192.75 − 1,300 − 2,200
  = 692.75; personal 2,200.00.
With it approved: no hospital reduction; backstop 4,192.75 − 2,200 = 1,992.75 (= 1,300.00 + 692.75);
  personal 2,200.00.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from gateway.engine.chain import settle
from gateway.engine.fees import FeeTotals
from gateway.engine.policy import PolicyFileError, default_policy_path, load_policy
from gateway.engine.types import StayFacts
from tests.county_support import county_gateway
from tests.support import PERSONS, Journey, Served, ok
from tests.test_dialect_neusoft import Dll

D = Decimal
POLICY = load_policy(default_policy_path())
TOTALS = FeeTotals(medfee_sumamt=D("22000.00"), fulamt_ownpay_amt=D("3500.00"), overlmt_selfpay=D("0.00"),
                   preselfpay_amt=D("400.00"), inscp_scp_amt=D("18100.00"))
WITHOUT = {"390100": D("15172.50"), "620100": D("1463.75"), "610100": D("1171.00"), "630100": D("1300.00"),
           "640100": D("692.75")}
WITH = {"390100": D("15172.50"), "620100": D("1463.75"), "610100": D("1171.00"), "640100": D("1992.75")}


def chain(exception: bool) -> dict[str, Decimal]:
    facts = StayFacts(insutype="390", hosp_lv=2, in_county=True, attributes=frozenset({"0001"}), totals=TOTALS,
                      on=date(2026, 3, 10), catalogue_exception=exception)
    result = settle(POLICY, facts, {})
    assert result.fund_pay_sumamt + result.hosp_part_amt + result.psn_part_amt == TOTALS.medfee_sumamt
    assert result.psn_part_amt == D("2200.00")
    return {p.fund_pay_type: p.fund_payamt for p in result.payments if p.fund_payamt}


def test_the_engine_sends_the_excess_to_the_backstop_once_approved() -> None:
    assert chain(False) == WITHOUT and chain(True) == WITH
    assert WITH["640100"] == WITHOUT["640100"] + WITHOUT["630100"]


def test_a_wrong_catalogue_exception_value_is_refused_with_its_path(tmp_path: Path) -> None:
    text = default_policy_path().read_text(encoding="utf-8").replace("catalogue_exception = false",
                                                                     'catalogue_exception = "no"')
    (tmp_path / "p.toml").write_text(text, encoding="utf-8")
    try:
        load_policy(tmp_path / "p.toml")
    except PolicyFileError as exc:
        assert "catalogue_exception" in str(exc)
    else:
        raise AssertionError("accepted a string for catalogue_exception")


async def county(served: Served, method: str, path: str, who: str, body: dict[str, Any] | None = None,
                 status: int = 200) -> dict[str, Any]:
    async with served.session.request(method, f"{served.url}/county/v1/{path}", json=body,
                                      headers={"X-Operator": who}) as response:
        document: dict[str, Any] = await response.json()
        assert response.status == status, document
        return document


def funds(output: dict[str, Any]) -> dict[str, Decimal]:
    return {row["fund_pay_type"]: D(str(row["fund_payamt"])) for row in output["setldetail"] if row["fund_payamt"]}


async def test_request_approval_and_settlement_over_http_and_the_dll(served: Served) -> None:
    journey = Journey(served.his("T2"), PERSONS["poor"])
    ok(await journey.admit())
    ok(await journey.upload(journey.line("A", "14500.00"), journey.line("B10", "4000.00"),
                            journey.line("C", "3500.00")))
    assert funds(ok(await journey.trial("22000.00"))) == WITHOUT
    path = "catalogue-exceptions"
    asked = await county(served, "POST", path, "jingban1", {"mdtrt_id": journey.mdtrt_id, "reason": "抢救用自费药"},
                         201)
    assert asked["exception"]["status"] == "requested"
    assert funds(ok(await journey.trial("22000.00"))) == WITHOUT  # asked is not approved
    await county(served, "POST", f"{path}/{journey.mdtrt_id}/approve", "jingban1", status=403)  # own request
    decided = await county(served, "POST", f"{path}/{journey.mdtrt_id}/approve", "shenhe1")
    assert decided["exception"]["status"] == "approved" and decided["exception"]["decided_by"] == "shenhe1"
    await county(served, "POST", f"{path}/{journey.mdtrt_id}/refuse", "shenhe2", status=409)  # decided already
    settled = ok(await journey.settle("22000.00"))
    assert funds(settled) == WITH and D(str(settled["setlinfo"]["hosp_part_amt"])) == 0
    assert D(str(settled["setlinfo"]["psn_part_amt"])) == D("2200.00")
    trail = (await county(served, "GET", f"audit?subject=catalogue-exception/{journey.mdtrt_id}", "duzhe1"))
    assert sorted(e["action"] for e in trail["entries"]) == ["catalogue_exception.decide",
                                                             "catalogue_exception.request"]
    listed = await county(served, "GET", f"{path}?status=approved", "duzhe1")
    assert [e["mdtrt_id"] for e in listed["exceptions"]] == [journey.mdtrt_id]

    # the same through the Neusoft DLL, by its mapping: 医院减免 position 0.00, 财政兜底 1992.75
    dll = Dll(served)
    person = PERSONS["poor2"]
    mdtrt_id, _ = await dll.ok("2210", f"{person.psn_no}|20260301080000|ZYX|A03|内科|12|J18.900|肺炎|D01")
    await dll.ok("2310", "\n".join([
        f"F1|{mdtrt_id}|{person.psn_no}|A|H-A|甲|100|145.00|14500.00|20260302100000",
        f"F2|{mdtrt_id}|{person.psn_no}|B10|H-B|乙|1|4000|4000.00|20260302100000",
        f"F3|{mdtrt_id}|{person.psn_no}|C|H-C|丙|7|500|3500.00|20260302100000"]))
    assert (await dll.ok("2420", f"{mdtrt_id}|{person.psn_no}|22000.00"))[10:12] == ["1300.00", "692.75"]
    await county(served, "POST", path, "jingban1", {"mdtrt_id": mdtrt_id, "reason": "特殊病例"}, 201)
    await county(served, "POST", f"{path}/{mdtrt_id}/approve", "shenhe1")
    settled_dll = await dll.ok("2410", f"{mdtrt_id}|{person.psn_no}|22000.00")
    assert settled_dll[10:12] == ["0.00", "1992.75"] and settled_dll[14] == "2200.00"


async def test_only_the_reviewer_role_decides(tmp_path: Path) -> None:
    async with county_gateway(tmp_path, signed=True) as gateway:
        status, body = await gateway.call("POST", "/county/v1/catalogue-exceptions/X1/approve", "jingban1")
        assert status == 403 and body["code"] == "HG4004"
        status, body = await gateway.call("POST", "/county/v1/catalogue-exceptions/X1/approve", "caiwu1")
        assert status == 403
        status, body = await gateway.call("POST", "/county/v1/catalogue-exceptions/X1/approve", "shenhe1")
        assert status == 404  # allowed; there is no such request
        status, body = await gateway.call("GET", "/county/v1/audit?action=catalogue_exception.decide", "duzhe1")
        assert sorted(e["operator"] for e in body["entries"]) == ["caiwu1", "jingban1"]  # refusals on record
