"""Heyuan (河源 医疗救助“一站式”结算实施细则 二, 三(一)): who gets how much medical assistance, as policy data.

The 重点医疗救助对象 beyond Hunan's list are county-added identity attributes (gateway/data/demo/identities.csv:
0101 孤儿, 0102/0103 低收入家庭的老年人/未成年人, 0104 重度残疾人, 0105 重病患者). 特困供养人员 (0004) and 孤儿 get the
whole remaining compliant self-pay, no deductible, no cap; the others 80% within the fund's annual cap (50,000).
Employees (310) add 补充医疗保险 (370100) after critical illness, before the poverty insurance.

One bill for every example: level-2 county hospital, 甲 14,500.00, 乙 4,000.00 at selfpay_prop 0.10, 丙 1,500.00:
  total 20,000.00; 全自费 1,500.00; 先行自付 400.00; in-policy 18,100.00
Residents who are not poor (孤儿, 低收入老人, 重病患者): basic deductible 500, 75%:
  basic (18,100 − 500) × 0.75 = 13,200.00; compliant self-pay 18,100 − 13,200 = 4,900.00 (< 15,000: no 大病)
  孤儿: assistance 4,900.00 × 100% = 4,900.00; personal 20,000 − 13,200 − 4,900 = 1,900.00 (丙 + 先行自付)
  低收入家庭的老年人: assistance 4,900.00 × 80% = 3,920.00; personal 20,000 − 13,200 − 3,920 = 2,880.00
  the same with 49,500.00 of assistance already paid this year: min(3,920.00, 50,000 − 49,500) = 500.00
Employee 重度残疾人 (310): deductible 600, 85%:
  basic (18,100 − 600) × 0.85 = 14,875.00; compliant 3,225.00
  职工大额 (330100, no deductible, 80%) 3,225.00 × 0.80 = 2,580.00; left 645.00
  补充 (370100, 50%) 645.00 × 0.50 = 322.50; left 322.50; assistance 322.50 × 80% = 258.00
  personal 20,000 − 14,875 − 2,580 − 322.50 − 258 = 1,964.50
"""

from __future__ import annotations

import csv
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from gateway.engine.chain import settle
from gateway.engine.fees import FeeTotals
from gateway.engine.policy import default_policy_path, load_policy
from gateway.engine.types import StayFacts
from tests import support
from tests.support import Journey, Served, certno, ok
from tests.test_dialect_neusoft import Dll

D = Decimal
POLICY = load_policy(default_policy_path())
DEMO = Path(__file__).resolve().parent.parent / "gateway" / "data" / "demo"
TOTALS = FeeTotals(medfee_sumamt=D("20000.00"), fulamt_ownpay_amt=D("1500.00"), overlmt_selfpay=D("0.00"),
                   preselfpay_amt=D("400.00"), inscp_scp_amt=D("18100.00"))


def cent(value: Decimal) -> Decimal:
    return value.quantize(D("0.01"), rounding=ROUND_HALF_UP)


def chain(attributes: set[str], insutype: str = "390", ytd: dict[str, Decimal] | None = None) -> dict[str, Decimal]:
    facts = StayFacts(insutype=insutype, hosp_lv=2, in_county=True, attributes=frozenset(attributes),
                      totals=TOTALS, on=date(2026, 3, 10))
    result = settle(POLICY, facts, ytd or {})
    assert result.fund_pay_sumamt + result.hosp_part_amt + result.psn_part_amt == TOTALS.medfee_sumamt
    return {p.fund_pay_type: p.fund_payamt for p in result.payments if p.fund_payamt} | {
        "personal": result.psn_part_amt}


# the resident's figures, worked another way: basic on the level-2 ordinary rule, assistance on what is left
BASIC = cent((D("18100.00") - 500) * D("0.75"))  # 13,200.00
LEFT = D("18100.00") - BASIC  # 4,900.00


@pytest.mark.parametrize(("code", "share"), [("0101", D("1")), ("0102", D("0.80")), ("0103", D("0.80")),
                                             ("0105", D("0.80"))])
def test_county_added_assistance_objects_of_the_resident_scheme(code: str, share: Decimal) -> None:
    assistance = cent(LEFT * share)
    assert chain({code}) == {"390100": BASIC, "610100": assistance,
                             "personal": D("20000.00") - BASIC - assistance}


def test_orphan_and_tekun_have_no_cap_the_others_share_the_annual_cap() -> None:
    assert chain({"0101"})["personal"] == D("1900.00")
    assert chain({"0102"})["personal"] == D("2880.00")
    spent = {"610100": D("49500.00")}  # assistance already paid this year
    assert chain({"0102"}, ytd=spent)["610100"] == D("500.00")
    assert chain({"0101"}, ytd=spent)["610100"] == D("4900.00")  # no cap for orphans
    assert chain({"0101"}, ytd={"610100": D("90000.00")})["610100"] == D("4900.00")
    assert chain({"0102"}, ytd={"610100": D("50000.00")}).get("610100") is None  # cap reached: 0


def test_employee_chain_adds_supplementary_after_critical_before_assistance() -> None:
    basic = cent((D("18100.00") - 600) * D("0.85"))  # 14,875.00
    large = cent((D("18100.00") - basic) * D("0.80"))  # 2,580.00
    supplementary = cent((D("18100.00") - basic - large) * D("0.50"))  # 322.50
    assistance = cent((D("18100.00") - basic - large - supplementary) * D("0.80"))  # 258.00
    assert chain({"0104"}, insutype="310") == {
        "310100": basic, "330100": large, "370100": supplementary, "610100": assistance,
        "personal": D("20000.00") - basic - large - supplementary - assistance}
    assert chain({"0104"}, insutype="310")["personal"] == D("1964.50")
    # and the order on the sheet is the chain's: basic, 大额, 补充, then assistance
    facts = StayFacts(insutype="310", hosp_lv=2, in_county=True, attributes=frozenset({"0104"}), totals=TOTALS,
                      on=date(2026, 3, 10))
    order = [p.fund_pay_type for p in settle(POLICY, facts, {}).payments]
    assert order.index("330100") < order.index("370100") < order.index("610100")


def test_the_demo_data_carries_the_county_added_attributes() -> None:
    rows = {r["code"]: r for r in csv.DictReader((DEMO / "identities.csv").read_text(encoding="utf-8").splitlines())}
    assert {c: rows[c]["name"] for c in ("0101", "0102", "0103", "0104", "0105")} == {
        "0101": "孤儿", "0102": "低收入家庭的老年人", "0103": "低收入家庭的未成年人", "0104": "重度残疾人",
        "0105": "重病患者"}
    assert rows["0102"]["type_code"] == rows["0103"]["type_code"]  # one of the two: single-select in a type
    persons = {r["psn_idet_type"] for r in csv.DictReader((DEMO / "persons.csv").read_text(encoding="utf-8")
                                                          .splitlines())}
    assert {"0101", "0102", "0103", "0104", "0105"} <= persons


HEYUAN = {
    "orphan": support.TestPerson("TH0101", certno("20100315", "152"), "0101"),
    "elder": support.TestPerson("TH0102", certno("19480620", "161"), "0102"),
    "employee": support.TestPerson("TH0104", certno("19780412", "183"), "0104", insutype="310"),
}


async def load_heyuan(served: Served) -> None:
    rows = [r for r in csv.DictReader((DEMO / "identities.csv").read_text(encoding="utf-8").splitlines())
            if r["code"].startswith("01")]
    people = [{"psn_no": p.psn_no, "certno": p.certno, "psn_name": f"河源{key}", "insutype": p.insutype,
               "insuplc_admdvs": p.area, "psn_idet_type": p.attributes} for key, p in HEYUAN.items()]
    for kind, data in (("identities", rows), ("persons", people)):
        async with served.session.post(f"{served.url}/county/v1/{kind}", json={"data": data}) as response:
            assert response.status == 200, await response.text()


async def stay_through_nhsa(served: Served, person: support.TestPerson) -> dict[str, Decimal]:
    journey = Journey(served.his("T2"), person)
    ok(await journey.admit())
    ok(await journey.upload(journey.line("A", "14500.00"), journey.line("B10", "4000.00"),
                            journey.line("C", "1500.00")))
    setlinfo = ok(await journey.settle("20000.00"))
    out = {row["fund_pay_type"]: D(str(row["fund_payamt"])) for row in setlinfo["setldetail"] if row["fund_payamt"]}
    return out | {"personal": D(str(setlinfo["setlinfo"]["psn_part_amt"]))}


async def test_heyuan_examples_through_the_national_interface(served: Served) -> None:
    await load_heyuan(served)
    assert await stay_through_nhsa(served, HEYUAN["orphan"]) == chain({"0101"})
    assert await stay_through_nhsa(served, HEYUAN["elder"]) == chain({"0102"})
    employee = await stay_through_nhsa(served, HEYUAN["employee"])
    assert employee == chain({"0104"}, insutype="310") and employee["370100"] == D("322.50")
    person = ok(await served.his("T2").call("1101", {"data": {"psn_no": HEYUAN["orphan"].psn_no}}))
    assert [i["psn_idet_type"] for i in person["idetinfo"]] == ["0101"]


async def test_heyuan_examples_through_the_neusoft_dll_by_its_mapping(served: Served) -> None:
    await load_heyuan(served)
    dll = Dll(served)
    for key, assistance, personal in (("orphan", "4900.00", "1900.00"), ("elder", "3920.00", "2880.00")):
        person = HEYUAN[key]
        mdtrt_id, _ = await dll.ok("2210", f"{person.psn_no}|20260301080000|ZY{key}|A03|内科|12|J18.900|肺炎|D01")
        await dll.ok("2310", "\n".join([
            f"F1|{mdtrt_id}|{person.psn_no}|A|H-A|甲|100|145.00|14500.00|20260302100000",
            f"F2|{mdtrt_id}|{person.psn_no}|B10|H-B|乙|1|4000|4000.00|20260302100000",
            f"F3|{mdtrt_id}|{person.psn_no}|C|H-C|丙|3|500|1500.00|20260302100000"]))
        settled = await dll.ok("2410", f"{mdtrt_id}|{person.psn_no}|20000.00")
        assert settled[6] == "13200.00" and settled[7] == "0.00"  # basic, 大病
        assert settled[9] == assistance and settled[14] == personal
